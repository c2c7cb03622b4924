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

/**
 * Validates what compute returned: an object of `{ weight, stopLoss?, takeProfit? }` per known
 * symbol, weights finite in [-1, 1], SL/TP finite and positive, Σ|weight| ≤ 1. Errors read like
 * `BTCUSDT.weight: must be a finite number in [-1, 1], got NaN`.
 */
export function validateTargets(
  out: unknown,
  knownSymbols: ReadonlySet<string>,
): { ok: true; targets: TargetWeights } | { ok: false; error: string } {
  if (typeof out !== 'object' || out === null || Array.isArray(out)) {
    return { ok: false, error: `compute must return an object of target weights, got ${describeValue(out)}` };
  }
  if (typeof (out as { then?: unknown }).then === 'function') {
    return { ok: false, error: 'compute must return target weights synchronously, got a Promise' };
  }
  const targets: Record<string, TargetWeight> = {};
  let sum = 0;
  for (const symbol of Object.keys(out)) {
    if (!knownSymbols.has(symbol)) return { ok: false, error: `unknown symbol ${symbol}` };
    const parsed = targetSchema.safeParse((out as Record<string, unknown>)[symbol]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const at = [symbol, ...issue.path.map(String)].join('.');
      return { ok: false, error: `${at}: ${issue.message}` };
    }
    const t = parsed.data as { weight: number; stopLoss?: number; takeProfit?: number };
    const clean: { weight: number; stopLoss?: number; takeProfit?: number } = { weight: t.weight };
    if (t.stopLoss !== undefined) clean.stopLoss = t.stopLoss;
    if (t.takeProfit !== undefined) clean.takeProfit = t.takeProfit;
    targets[symbol] = clean;
    sum += Math.abs(t.weight);
  }
  if (sum > 1 + WEIGHT_SUM_EPSILON) return { ok: false, error: `sum of |weight| is ${+sum.toPrecision(12)}, above 1` };
  return { ok: true, targets };
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

/** Messages from the pool to a worker. */
export type WorkerTask =
  | {
      readonly kind: 'compute';
      readonly ref: string;
      /** UTF-8 of the compiled module, shared (never copied) between threads. */
      readonly code: SharedArrayBuffer;
      readonly slot: number;
      readonly items: readonly ComputeTaskItem[];
    }
  | { readonly kind: 'inspect'; readonly code: SharedArrayBuffer; readonly slot: number };

/** One trader's outcome, compact: targets and candle range, or an error message. */
export type ItemOutcome =
  | { readonly t: TargetWeights; readonly f: number | null; readonly l: number | null }
  | { readonly e: string };

/** Replies from a worker. */
export type WorkerReply =
  | { readonly kind: 'compute'; readonly outcomes: readonly ItemOutcome[] }
  | { readonly kind: 'compute-failed'; readonly error: string }
  | { readonly kind: 'inspect'; readonly ok: true; readonly meta: InspectedMeta }
  | { readonly kind: 'inspect'; readonly ok: false; readonly error: string };

const itemSchema = z.object({
  params: z.record(z.string(), z.unknown()),
  now: z.number(),
  equity: z.number(),
  positions: z.record(z.string(), z.unknown()),
});

/** Validates a task envelope in the worker; items are checked shallowly for speed. */
export const workerTaskSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('compute'),
    ref: z.string().min(1),
    code: z.instanceof(SharedArrayBuffer),
    slot: z.number().int().min(0),
    items: z.array(z.unknown()),
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
