/**
 * Validation shared by the main thread and the strategy workers: the shape of a strategy's
 * default export, the target weights that compute returns, and the messages between the pool and
 * its workers. Every message here is user-facing and tested; change them with care.
 */
import { z } from 'zod';
import type { TargetWeight, TargetWeights } from '../domain.ts';
import type { StrategyMeta } from '../store/types.ts';
import type { CandleWindowsHandle } from '../market/window.ts';

/** Tolerance on Σ|weight| ≤ 1 for float rounding. */
export const WEIGHT_SUM_EPSILON = 1e-9;

/** What a worker learns from a strategy module: its name and JSON-safe metadata. */
export type InspectedMeta = StrategyMeta & { readonly name: string };

/** A strategy definition after validation (the module's default export, typed loosely). */
export interface LoadedStrategy {
  readonly name: string;
  readonly params: z.ZodType;
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly meta: InspectedMeta;
  /** Calls `compute` as a method so `this.universe` works. */
  compute(ctx: unknown, params: unknown): unknown;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Describes a value for an error message: `undefined`, `null`, `an array`, `a Promise`, `number`… */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') return 'a Promise';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  return typeof v;
}

/** Formats zod issues as `path: message; path: message`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

const definitionShape = z.object({
  name: z
    .string({ error: 'missing name' })
    .regex(NAME, { error: (iss) => `invalid name '${String(iss.input)}' (letters, digits, _ . - only)` }),
  description: z.string({ error: 'description must be a string' }).optional(),
  params: z.custom<z.ZodType>(isZodSchema, { error: 'params is not a zod schema' }),
  defaults: z.record(z.string(), z.unknown(), { error: 'defaults must be an object' }).optional(),
  universe: z.array(z.string(), { error: 'universe must be an array of symbols' }).optional(),
  timeframe: z.string({ error: 'timeframe must be a string' }).optional(),
  lookback: z
    .number({ error: 'lookback must be a non-negative integer' })
    .int({ error: 'lookback must be a non-negative integer' })
    .min(0, { error: 'lookback must be a non-negative integer' })
    .optional(),
  compute: z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { error: 'missing compute' }),
});

function isZodSchema(v: unknown): v is z.ZodType {
  // Duck-typed: every strategy bundle carries its own copy of zod.
  return (
    typeof v === 'object' &&
    v !== null &&
    '_zod' in v &&
    typeof (v as { safeParse?: unknown }).safeParse === 'function'
  );
}

/**
 * Validates a module's default export as a strategy definition; `knownSymbols` bounds the
 * universe. Returns the loaded strategy or the exact reason it is not one.
 */
export function validateDefinition(
  mod: unknown,
  knownSymbols: ReadonlySet<string>,
  toJSONSchema: (schema: z.ZodType) => unknown,
): { ok: true; strategy: LoadedStrategy } | { ok: false; error: string } {
  const exported = typeof mod === 'object' && mod !== null ? (mod as { default?: unknown }).default : undefined;
  if (exported === undefined) return { ok: false, error: 'no default export (export default defineStrategy({ … }))' };
  if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) {
    return { ok: false, error: `default export is not a strategy: expected an object, got ${describeValue(exported)}` };
  }
  const shape = definitionShape.safeParse(exported);
  if (!shape.success) {
    return { ok: false, error: `default export is not a strategy: ${shape.error.issues[0]?.message ?? 'invalid'}` };
  }
  const d = shape.data;
  const unknown = (d.universe ?? []).find((s) => !knownSymbols.has(s));
  if (unknown !== undefined) return { ok: false, error: `universe has unknown symbol ${unknown}` };
  const defaults = d.defaults ?? {};
  const checked = d.params.safeParse(defaults);
  if (!checked.success) return { ok: false, error: `defaults do not satisfy params: ${formatIssues(checked.error)}` };

  let jsonDefaults: Record<string, unknown>;
  try {
    jsonDefaults = JSON.parse(JSON.stringify(defaults)) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, error: `defaults must be JSON-serializable: ${err instanceof Error ? err.message : String(err)}` };
  }
  let paramsSchema: unknown = null;
  try {
    paramsSchema = JSON.parse(JSON.stringify(toJSONSchema(d.params)));
  } catch {
    paramsSchema = null;
  }
  const definition = exported as { compute(ctx: unknown, params: unknown): unknown };
  return {
    ok: true,
    strategy: {
      name: d.name,
      params: d.params,
      defaults,
      meta: {
        name: d.name,
        description: d.description ?? '',
        defaults: jsonDefaults,
        universe: d.universe ?? [],
        timeframe: d.timeframe ?? '1m',
        lookback: d.lookback ?? 0,
        paramsSchema,
      },
      compute: (ctx, params) => definition.compute(ctx, params),
    },
  };
}

const finiteIn = (what: string, check: (n: number) => boolean) =>
  z.unknown().superRefine((v, ctx) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
      ctx.addIssue({ code: 'custom', message: `${what}, got ${describeValue(v)}` });
    }
  });

const targetSchema = z.object(
  {
    weight: finiteIn('must be a finite number in [-1, 1]', (n) => n >= -1 && n <= 1),
    stopLoss: finiteIn('must be a finite positive number', (n) => n > 0).optional(),
    takeProfit: finiteIn('must be a finite positive number', (n) => n > 0).optional(),
  },
  { error: (iss) => `expected { weight, stopLoss?, takeProfit? }, got ${describeValue(iss.input)}` },
);

type TargetFields = { weight: number; stopLoss?: number; takeProfit?: number };

/** Why `out` cannot hold target weights at all, or null when it is a plain object. */
function outputFault(out: unknown): string | null {
  if (typeof out !== 'object' || out === null || Array.isArray(out)) {
    return `compute must return an object of target weights, got ${describeValue(out)}`;
  }
  if (typeof (out as { then?: unknown }).then === 'function') {
    return 'compute must return target weights synchronously, got a Promise';
  }
  return null;
}

/**
 * The zod path for one target, taken only when the fast check refused it: it words the error
 * (or, for a value whose getters answer differently the second time, accepts it as zod would).
 */
function parseTarget(symbol: string, value: unknown): { ok: true; target: TargetFields } | { ok: false; error: string } {
  const parsed = targetSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = [symbol, ...issue.path.map(String)].join('.');
    return { ok: false, error: `${at}: ${issue.message}` };
  }
  return { ok: true, target: parsed.data as TargetFields };
}

const sumFault = (sum: number): string | null =>
  sum > 1 + WEIGHT_SUM_EPSILON ? `sum of |weight| is ${+sum.toPrecision(12)}, above 1` : null;

// The fast check accepts exactly what targetSchema accepts (an object, weight a number in [-1, 1],
// SL/TP undefined or finite and > 0), reading weight, stopLoss, takeProfit once each, in zod's order.
const okWeight = (w: unknown): w is number => typeof w === 'number' && w >= -1 && w <= 1;
const okPrice = (p: unknown): boolean => p === undefined || (typeof p === 'number' && p > 0 && p !== Infinity);

/**
 * Validates what compute returned: an object of `{ weight, stopLoss?, takeProfit? }` per known
 * symbol, weights finite in [-1, 1], SL/TP finite and positive, Σ|weight| ≤ 1. Errors read like
 * `BTCUSDT.weight: must be a finite number in [-1, 1], got NaN`.
 */
export function validateTargets(
  out: unknown,
  knownSymbols: ReadonlySet<string>,
): { ok: true; targets: TargetWeights } | { ok: false; error: string } {
  const fault = outputFault(out);
  if (fault !== null) return { ok: false, error: fault };
  const targets: Record<string, TargetWeight> = {};
  let sum = 0;
  for (const symbol of Object.keys(out as object)) {
    if (!knownSymbols.has(symbol)) return { ok: false, error: `unknown symbol ${symbol}` };
    const v = (out as Record<string, unknown>)[symbol];
    let weight: number;
    let stopLoss: unknown;
    let takeProfit: unknown;
    const t = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    const w = t === null ? undefined : t.weight;
    if (t !== null && okWeight(w) && okPrice((stopLoss = t.stopLoss)) && okPrice((takeProfit = t.takeProfit))) {
      weight = w;
    } else {
      const slow = parseTarget(symbol, v);
      if (!slow.ok) return slow;
      ({ weight, stopLoss, takeProfit } = slow.target);
    }
    targets[symbol] = cleanTarget(weight, stopLoss as number | undefined, takeProfit as number | undefined);
    sum += Math.abs(weight);
  }
  const over = sumFault(sum);
  if (over !== null) return { ok: false, error: over };
  return { ok: true, targets };
}

function cleanTarget(weight: number, stopLoss: number | undefined, takeProfit: number | undefined): TargetWeight {
  if (stopLoss === undefined) return takeProfit === undefined ? { weight } : { weight, takeProfit };
  return takeProfit === undefined ? { weight, stopLoss } : { weight, stopLoss, takeProfit };
}

/** Floats per target in a packed compute reply: symbol index, weight, stop-loss, take-profit. */
export const TARGET_STRIDE = 4;
/** Floats before a trader's targets in a packed compute reply: target count (-1: failed), from, to. */
export const TRADER_HEADER = 3;

/**
 * `validateTargets` writing into a packed reply instead of building objects: each accepted target
 * becomes (symbol index, weight, stopLoss or NaN, takeProfit or NaN) from `dst[at]` on. Returns the
 * number of targets written, or the same error message `validateTargets` gives.
 */
export function packTargets(out: unknown, symbolIndex: ReadonlyMap<string, number>, dst: Float64Array, at: number): number | string {
  const fault = outputFault(out);
  if (fault !== null) return fault;
  let sum = 0;
  let count = 0;
  for (const symbol of Object.keys(out as object)) {
    const s = symbolIndex.get(symbol);
    if (s === undefined) return `unknown symbol ${symbol}`;
    const v = (out as Record<string, unknown>)[symbol];
    let weight: number;
    let stopLoss: unknown;
    let takeProfit: unknown;
    const t = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    const w = t === null ? undefined : t.weight;
    if (t !== null && okWeight(w) && okPrice((stopLoss = t.stopLoss)) && okPrice((takeProfit = t.takeProfit))) {
      weight = w;
    } else {
      const slow = parseTarget(symbol, v);
      if (!slow.ok) return slow.error;
      ({ weight, stopLoss, takeProfit } = slow.target);
    }
    const k = at + count * TARGET_STRIDE;
    dst[k] = s;
    dst[k + 1] = weight;
    dst[k + 2] = stopLoss === undefined ? Number.NaN : (stopLoss as number);
    dst[k + 3] = takeProfit === undefined ? Number.NaN : (takeProfit as number);
    count++;
    sum += Math.abs(weight);
  }
  return sumFault(sum) ?? count;
}

/**
 * Reads the targets `packTargets` wrote back into objects; `symbols` is the index order the
 * worker used.
 */
export function unpackTargets(src: Float64Array, at: number, count: number, symbols: readonly string[]): TargetWeights {
  const targets: Record<string, TargetWeight> = {};
  for (let j = 0; j < count; j++) {
    const k = at + j * TARGET_STRIDE;
    const sl = src[k + 2]!;
    const tp = src[k + 3]!;
    targets[symbols[src[k]!]!] = cleanTarget(src[k + 1]!, Number.isNaN(sl) ? undefined : sl, Number.isNaN(tp) ? undefined : tp);
  }
  return targets;
}

/** Options every worker receives once, as its `workerData`. */
export interface WorkerInit {
  readonly windows: CandleWindowsHandle;
  readonly knownSymbols: readonly string[];
  /** Int32 per task slot: 0 idle, 1 importing, 2 + i computing item i. */
  readonly progress: SharedArrayBuffer;
}

/** One trader's input inside a compute task. */
export interface ComputeTaskItem {
  readonly params: Readonly<Record<string, unknown>>;
  readonly now: number;
  readonly equity: number;
  readonly positions: Readonly<Record<string, unknown>>;
}

/** Floats per packed position: symbol index, side (1 long, -1 short), amount, entry price, weight. */
export const POSITION_STRIDE = 5;

/**
 * A batch of traders in columns: what crossing threads costs per trader is a few numbers, not a
 * cloned object graph. Params travel as distinct JSON strings (traders of one version mostly share
 * them) and positions as numbers, except the few that do not have the plain
 * `{ side, amount, entryPrice, weight }` shape, which travel as objects in `loose`.
 */
export interface ComputeColumns {
  readonly count: number;
  /** now, equity per trader. */
  readonly nums: Float64Array;
  /** Per trader: index into `paramTable`, then packed position count (-1: its positions are in `loose`). */
  readonly ints: Int32Array;
  /** Distinct params as JSON. */
  readonly paramTable: readonly string[];
  /** Packed positions, traders in order, `POSITION_STRIDE` floats each. */
  readonly positions: Float64Array;
  readonly positionSymbols: readonly string[];
  /** Positions that could not be packed, in trader order. */
  readonly loose: readonly (readonly [at: number, positions: Readonly<Record<string, unknown>>])[];
}

/** Messages from the pool to a worker. */
export type WorkerTask =
  | ({
      readonly kind: 'compute';
      readonly ref: string;
      /** UTF-8 of the compiled module, shared (never copied) between threads. */
      readonly code: SharedArrayBuffer;
      readonly slot: number;
    } & ComputeColumns)
  | { readonly kind: 'inspect'; readonly code: SharedArrayBuffer; readonly slot: number };

/** Replies from a worker. */
export type WorkerReply = WorkerAnswer & {
  /**
   * Set when the worker is full (modules imported, heap): it will start no other task, and the
   * pool terminates the thread with this id once it holds the reply.
   */
  readonly retiringThread?: number;
};

type WorkerAnswer =
  | {
      readonly kind: 'compute';
      /**
       * Per trader `TRADER_HEADER` floats (target count or -1 when it failed, candle from, candle to;
       * NaN for null), then its targets as `packTargets` wrote them; symbols index `knownSymbols`.
       */
      readonly out: Float64Array;
      /** The failed traders' messages, in trader order. */
      readonly errors: readonly string[];
    }
  | { readonly kind: 'compute-failed'; readonly error: string }
  /** The worker is retiring and did not start the task (its slot is untouched). */
  | { readonly kind: 'retiring' }
  | { readonly kind: 'inspect'; readonly ok: true; readonly meta: InspectedMeta }
  | { readonly kind: 'inspect'; readonly ok: false; readonly error: string };

const itemSchema = z.object({
  params: z.record(z.string(), z.unknown()),
  now: z.number(),
  equity: z.number(),
  positions: z.record(z.string(), z.unknown()),
});

/** Validates a task envelope in the worker; the columns' lengths are checked against `count`. */
export const workerTaskSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('compute'),
      ref: z.string().min(1),
      code: z.instanceof(SharedArrayBuffer),
      slot: z.number().int().min(0),
      count: z.number().int().min(0),
      nums: z.instanceof(Float64Array),
      ints: z.instanceof(Int32Array),
      paramTable: z.array(z.string()),
      positions: z.instanceof(Float64Array),
      positionSymbols: z.array(z.string()),
      loose: z.array(z.tuple([z.number().int().min(0), z.record(z.string(), z.unknown())])),
    })
    .refine((t) => t.nums.length === 2 * t.count && t.ints.length === 2 * t.count && t.positions.length % POSITION_STRIDE === 0, {
      error: 'column lengths do not match count',
    }),
  z.object({ kind: z.literal('inspect'), code: z.instanceof(SharedArrayBuffer), slot: z.number().int().min(0) }),
]);

const isRecord = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one item of a compute task, returning an error message or null (zod only on failure). */
export function checkItem(item: unknown): string | null {
  const i = item as Partial<ComputeTaskItem> | null;
  const fine =
    isRecord(i) &&
    isRecord(i!.params) &&
    isRecord(i!.positions) &&
    typeof i!.now === 'number' &&
    typeof i!.equity === 'number';
  if (fine) return null;
  const r = itemSchema.safeParse(item);
  return `invalid compute item: ${r.success ? 'malformed' : formatIssues(r.error)}`;
}
