/**
 * The Piscina worker: imports strategy versions (cached by ref), maps the shared candle windows
 * once, and runs compute for a batch of traders, each caught and validated on its own. Progress
 * goes to a shared slot so the pool can tell which trader hung or blew the heap.
 *
 * Under tsx on Node 20, Piscina loads this file through tsx's `require` hook (tsx's ESM hooks do
 * not reach worker threads), so this file and its imports must not use `import.meta` or
 * top-level await.
 */
import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { z } from 'zod';
import { errorMessage } from '../domain.ts';
import { attachCandleWindows } from '../market/window.ts';
import type { WindowField } from '../market/window.ts';
import {
  formatIssues,
  packTargets,
  POSITION_STRIDE,
  TARGET_STRIDE,
  TRADER_HEADER,
  validateDefinition,
  workerTaskSchema,
} from './validate.ts';
import type { ComputeColumns, LoadedStrategy, WorkerInit, WorkerReply, WorkerTask } from './validate.ts';

// Read once: under tsx's CommonJS transform each use of an imported binding is a getter call,
// and these are used several times per trader.
const HEADER = TRADER_HEADER;
const STRIDE = TARGET_STRIDE;
const pack = packTargets;

const init = workerData as WorkerInit;
const windows = attachCandleWindows(init.windows);
const knownSymbols: ReadonlySet<string> = new Set(init.knownSymbols);
const symbolIndex: ReadonlyMap<string, number> = new Map(init.knownSymbols.map((symbol, i) => [symbol, i]));
/** Floats one trader can take in a reply: its header and at most one target per known symbol. */
const MAX_PER_TRADER = HEADER + STRIDE * symbolIndex.size;
const progress = new Int32Array(init.progress);
const FIELDS: ReadonlySet<string> = new Set(['open', 'high', 'low', 'close', 'volume']);

/**
 * Node never unloads an ES module and each strategy bundle carries its own zod (~4 MB of heap),
 * so a worker that has imported this many modules, or filled most of its heap, retires after
 * its task (see `run`) and Piscina starts a fresh one.
 */
const MAX_IMPORTS = 12;
const MAX_HEAP_FRACTION = 0.75;

const modules = new Map<string, Promise<{ ok: true; strategy: LoadedStrategy } | { ok: false; error: string }>>();
let imports = 0;
let retiring = false;

function retireIfFull(): void {
  const heap = getHeapStatistics();
  if (imports >= MAX_IMPORTS || heap.used_heap_size > MAX_HEAP_FRACTION * heap.heap_size_limit) retiring = true;
}

function load(ref: string | null, code: SharedArrayBuffer) {
  const cached = ref === null ? undefined : modules.get(ref);
  if (cached) return cached;
  imports++;
  // TextDecoder refuses shared memory, so copy the bytes out first.
  const source = Buffer.from(new Uint8Array(code)).toString('base64');
  const loading = import(`data:text/javascript;base64,${source}`).then(
    (mod: unknown) => {
      try {
        return validateDefinition(mod, knownSymbols, (s) => z.toJSONSchema(s));
      } catch (err) {
        return { ok: false as const, error: `default export is not a strategy: ${describeError(err)}` };
      }
    },
    (err: unknown) => ({ ok: false as const, error: `import failed: ${describeError(err)}` }),
  );
  if (ref !== null) modules.set(ref, loading);
  return loading;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return errorMessage(err);
}

/**
 * History arrays are views carved from large chunks: one allocation per chunk instead of one per
 * symbol per trader (a fresh small Float64Array costs more than reading 100 candles).
 */
const CHUNK = 1 << 16;
let chunk = new Float64Array(CHUNK);
let used = 0;
function carve(length: number): Float64Array {
  if (length > CHUNK) return new Float64Array(length);
  if (used + length > CHUNK) {
    chunk = new Float64Array(CHUNK);
    used = 0;
  }
  const view = chunk.subarray(used, used + length);
  used += length;
  return view;
}

/**
 * Params parsed once per distinct JSON per version and worker: a successful parse whose output is
 * plain data is kept as a private copy and every trader gets its own copy of it (so a strategy
 * that mutates its params cannot reach another trader's); a failed parse keeps its message;
 * output that is not plain data (a Date, a class instance from a transform…) is parsed per trader.
 */
type ParamsEntry =
  | { readonly kind: 'plain'; readonly data: object; readonly flat: boolean }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'per-trader' };

const MAX_CACHED_PARAMS = 4096;
const MAX_PLAIN_DEPTH = 16;
const paramsCaches = new WeakMap<LoadedStrategy, Map<string, ParamsEntry>>();

function parseParams(strategy: LoadedStrategy, json: string) {
  return strategy.params.safeParse({ ...strategy.defaults, ...(JSON.parse(json) as Record<string, unknown>) });
}

function paramsCacheOf(strategy: LoadedStrategy): Map<string, ParamsEntry> {
  let cache = paramsCaches.get(strategy);
  if (!cache) paramsCaches.set(strategy, (cache = new Map()));
  return cache;
}

/** The trader's parsed params, or the message of its `invalid params` failure. */
function paramsFor(
  strategy: LoadedStrategy,
  cache: Map<string, ParamsEntry>,
  json: string,
): { ok: true; data: unknown } | { ok: false; message: string } {
  const entry = cache.get(json);
  if (entry?.kind === 'plain') return { ok: true, data: entry.flat ? { ...entry.data } : clonePlain(entry.data) };
  if (entry?.kind === 'invalid') return { ok: false, message: entry.message };
  const parsed = parseParams(strategy, json);
  if (!parsed.success) {
    const message = `invalid params: ${formatIssues(parsed.error)}`;
    if (entry === undefined) remember(cache, json, { kind: 'invalid', message });
    return { ok: false, message };
  }
  if (entry === undefined) {
    const shape = plainShape(parsed.data, 0);
    remember(cache, json, shape === 'other' ? { kind: 'per-trader' } : { kind: 'plain', data: clonePlain(parsed.data as object), flat: shape === 'flat' });
  }
  return { ok: true, data: parsed.data };
}

function remember(cache: Map<string, ParamsEntry>, json: string, entry: ParamsEntry): void {
  if (cache.size >= MAX_CACHED_PARAMS) cache.clear();
  cache.set(json, entry);
}

/**
 * `flat`: a plain object of primitives; `deep`: plain objects and dense arrays all the way down;
 * `other`: anything a copy could not reproduce exactly (prototypes, accessors, hidden keys, frozen).
 */
function plainShape(v: unknown, depth: number): 'flat' | 'deep' | 'other' {
  if (typeof v !== 'object' || v === null || depth > MAX_PLAIN_DEPTH || !Object.isExtensible(v)) return 'other';
  const isArray = Array.isArray(v);
  if (Object.getPrototypeOf(v) !== (isArray ? Array.prototype : Object.prototype)) return 'other';
  const keys = Object.keys(v);
  if (Reflect.ownKeys(v).length !== keys.length + (isArray ? 1 : 0)) return 'other';
  if (isArray && keys.length !== v.length) return 'other';
  let flat = !isArray;
  for (const key of keys) {
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (!d || !('value' in d) || !d.writable || !d.configurable) return 'other';
    const x: unknown = d.value;
    if (typeof x === 'function') return 'other';
    if (typeof x === 'object' && x !== null) {
      if (plainShape(x, depth + 1) === 'other') return 'other';
      flat = false;
    }
  }
  return flat ? 'flat' : 'deep';
}

/** Copies data `plainShape` accepted. */
function clonePlain<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(clonePlain) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) out[key] = clonePlain((v as Record<string, unknown>)[key]);
  return out as T;
}

/**
 * Computes one trader and writes its header and targets at `dst[at]`: returns the number of
 * targets, or the message it failed with.
 */
function computeOne(
  strategy: LoadedStrategy,
  cache: Map<string, ParamsEntry>,
  paramsJsonText: string,
  now: number,
  equity: number,
  positions: Record<string, unknown>,
  dst: Float64Array,
  at: number,
): number | string {
  const params = paramsFor(strategy, cache, paramsJsonText);
  if (!params.ok) return params.message;
  let from: number | null = null;
  let to: number | null = null;
  const ctx = {
    now,
    equity,
    positions,
    history(symbols: readonly string[], opts: { window: number; field: WindowField }): Record<string, Float64Array> {
      if (!Array.isArray(symbols)) throw new TypeError('history: symbols must be an array');
      const field = opts?.field;
      if (!FIELDS.has(field)) throw new TypeError(`history: unknown field ${String(field)}`);
      const window = opts.window;
      if (typeof window !== 'number' || !(window >= 0)) throw new TypeError('history: window must be a number ≥ 0');
      const out: Record<string, Float64Array> = {};
      for (const symbol of symbols) {
        if (!windows.has(symbol)) throw new Error(`history: unknown symbol ${String(symbol)}`);
        const span = windows.readSpan(symbol, field, window, now, carve);
        if (span.from !== null && (from === null || span.from < from)) from = span.from;
        if (span.to !== null && (to === null || span.to > to)) to = span.to;
        out[symbol] = span.values;
      }
      return out;
    },
  };
  let out: unknown;
  try {
    out = strategy.compute(ctx, params.data);
  } catch (err) {
    return `compute threw ${describeError(err)}`;
  }
  const count = pack(out, symbolIndex, dst, at + HEADER);
  if (typeof count === 'string') return count;
  dst[at] = count;
  dst[at + 1] = from ?? Number.NaN;
  dst[at + 2] = to ?? Number.NaN;
  return count;
}

/** The positions of trader `i`, rebuilt from the columns. */
function positionsOf(task: ComputeColumns, i: number, cursor: { packed: number; loose: number }): Record<string, unknown> {
  const count = task.ints[2 * i + 1]!;
  const positions: Record<string, unknown> = {};
  if (count > 0) {
    const p = task.positions;
    for (let k = 0; k < count; k++, cursor.packed += POSITION_STRIDE) {
      const at = cursor.packed;
      positions[task.positionSymbols[p[at]!]!] = {
        side: p[at + 1]! > 0 ? 'long' : 'short',
        amount: p[at + 2]!,
        entryPrice: p[at + 3]!,
        weight: p[at + 4]!,
      };
    }
  } else if (count < 0) {
    const entry = task.loose[cursor.loose++];
    if (entry?.[0] !== i) throw new Error(`malformed task: positions of trader ${i} missing`);
    return entry[1] as Record<string, unknown>;
  }
  return positions;
}

/** Runs every trader of a compute task, each caught on its own, into a packed reply. */
function computeAll(strategy: LoadedStrategy, task: ComputeColumns, slot: number): WorkerReply {
  let dst = new Float64Array(Math.max(64, task.count * (HEADER + STRIDE * Math.min(4, symbolIndex.size))));
  let at = 0;
  const errors: string[] = [];
  const cursor = { packed: 0, loose: 0 };
  const cache = paramsCacheOf(strategy);
  for (let i = 0; i < task.count; i++) {
    Atomics.store(progress, slot, 2 + i);
    if (at + MAX_PER_TRADER > dst.length) {
      const grown = new Float64Array(2 * dst.length + MAX_PER_TRADER);
      grown.set(dst.subarray(0, at));
      dst = grown;
    }
    let result: number | string;
    try {
      const paramsText = task.paramTable[task.ints[2 * i]!];
      if (paramsText === undefined) throw new Error(`malformed task: params of trader ${i} missing`);
      result = computeOne(strategy, cache, paramsText, task.nums[2 * i]!, task.nums[2 * i + 1]!, positionsOf(task, i, cursor), dst, at);
    } catch (err) {
      // User code outside compute (a throwing refinement, a getter on the output) fails its trader only.
      result = `strategy error: ${describeError(err)}`;
    }
    if (typeof result === 'string') {
      dst[at] = -1;
      dst[at + 1] = Number.NaN;
      dst[at + 2] = Number.NaN;
      errors.push(result);
      at += HEADER;
    } else at += HEADER + STRIDE * result;
  }
  return { kind: 'compute', out: dst.subarray(0, at), errors };
}

/**
 * Tasks run one at a time, in arrival order. The pool may queue a second task in this worker
 * while one runs (so the worker never waits on the main thread between tasks); the queued task
 * leaves its progress slot at 0 until its turn, so the watchdog never charges it for the time the
 * task ahead of it takes. A worker that is full says so in the reply of the task that filled it
 * (`retiringThread`) and runs nothing more: it answers `retiring` (the pool sends the task
 * elsewhere) until the pool, holding that reply, terminates it. The worker never exits by itself:
 * a thread that exits right after posting a reply can be reported gone before the reply arrives,
 * and the finished task would be lost with it.
 */
let tail: Promise<unknown> = Promise.resolve();

/** Runs one task from the pool: inspect a module, or compute a batch of traders. */
export default function run(message: unknown): Promise<WorkerReply> {
  const turn = tail.then((): WorkerReply | Promise<WorkerReply> => (retiring ? { kind: 'retiring', retiringThread: threadId } : runTask(message)));
  tail = turn.catch(() => undefined);
  return turn;
}

async function runTask(message: unknown): Promise<WorkerReply> {
  let reply: WorkerReply;
  try {
    reply = await answer(message);
  } catch (err) {
    reply = { kind: 'compute-failed', error: `worker error: ${describeError(err)}` };
  }
  retireIfFull();
  if (retiring) reply = { ...reply, retiringThread: threadId };
  if (reply.kind !== 'compute') return reply;
  // The packed targets move to the main thread instead of being copied.
  return move({ [transferableSymbol]: [reply.out.buffer], [valueSymbol]: reply }) as unknown as WorkerReply;
}

async function answer(message: unknown): Promise<WorkerReply> {
  const parsed = workerTaskSchema.safeParse(message);
  if (!parsed.success) return { kind: 'compute-failed', error: `invalid task: ${formatIssues(parsed.error)}` };
  const task = parsed.data as WorkerTask;
  Atomics.store(progress, task.slot, 1);
  if (task.kind === 'inspect') {
    const loaded = await load(null, task.code);
    return loaded.ok ? { kind: 'inspect', ok: true, meta: loaded.strategy.meta } : { kind: 'inspect', ok: false, error: loaded.error };
  }
  const loaded = await load(task.ref, task.code);
  if (!loaded.ok) return { kind: 'compute-failed', error: loaded.error };
  const reply = computeAll(loaded.strategy, task, task.slot);
  // Views handed out in this task keep their chunk alive; start the next task on a fresh one.
  chunk = new Float64Array(CHUNK);
  used = 0;
  return reply;
}
