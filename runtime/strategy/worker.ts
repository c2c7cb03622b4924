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
import { workerData } from 'piscina';
import { z } from 'zod';
import { errorMessage } from '../domain.ts';
import { attachCandleWindows } from '../market/window.ts';
import type { WindowField } from '../market/window.ts';
import {
  checkItem,
  formatIssues,
  validateDefinition,
  validateTargets,
  workerTaskSchema,
} from './validate.ts';
import type {
  ComputeTaskItem,
  ItemOutcome,
  LoadedStrategy,
  WorkerInit,
  WorkerReply,
  WorkerTask,
} from './validate.ts';

const init = workerData as WorkerInit;
const windows = attachCandleWindows(init.windows);
const knownSymbols: ReadonlySet<string> = new Set(init.knownSymbols);
const progress = new Int32Array(init.progress);
const FIELDS: ReadonlySet<string> = new Set(['open', 'high', 'low', 'close', 'volume']);

/**
 * Node never unloads an ES module and each strategy bundle carries its own zod (~4 MB of heap),
 * so a worker that has imported this many modules, or filled most of its heap, retires after
 * its task and Piscina starts a fresh one.
 */
const MAX_IMPORTS = 12;
const MAX_HEAP_FRACTION = 0.75;

const modules = new Map<string, Promise<{ ok: true; strategy: LoadedStrategy } | { ok: false; error: string }>>();
let imports = 0;

function retireIfFull(): void {
  const heap = getHeapStatistics();
  if (imports >= MAX_IMPORTS || heap.used_heap_size > MAX_HEAP_FRACTION * heap.heap_size_limit) {
    // After Piscina has posted this task's reply.
    setImmediate(() => process.exit(0));
  }
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

function computeOne(strategy: LoadedStrategy, raw: unknown): ItemOutcome {
  const bad = checkItem(raw);
  if (bad !== null) return { e: bad };
  const item = raw as ComputeTaskItem;
  const parsed = strategy.params.safeParse({ ...strategy.defaults, ...item.params });
  if (!parsed.success) return { e: `invalid params: ${formatIssues(parsed.error)}` };
  let from: number | null = null;
  let to: number | null = null;
  const ctx = {
    now: item.now,
    equity: item.equity,
    positions: item.positions,
    history(symbols: readonly string[], opts: { window: number; field: WindowField }): Record<string, Float64Array> {
      if (!Array.isArray(symbols)) throw new TypeError('history: symbols must be an array');
      const field = opts?.field;
      if (!FIELDS.has(field)) throw new TypeError(`history: unknown field ${String(field)}`);
      const window = opts.window;
      if (typeof window !== 'number' || !(window >= 0)) throw new TypeError('history: window must be a number ≥ 0');
      const out: Record<string, Float64Array> = {};
      for (const symbol of symbols) {
        if (!windows.has(symbol)) throw new Error(`history: unknown symbol ${String(symbol)}`);
        const span = windows.readSpan(symbol, field, window, item.now, carve);
        if (span.from !== null && (from === null || span.from < from)) from = span.from;
        if (span.to !== null && (to === null || span.to > to)) to = span.to;
        out[symbol] = span.values;
      }
      return out;
    },
  };
  let out: unknown;
  try {
    out = strategy.compute(ctx, parsed.data);
  } catch (err) {
    return { e: `compute threw ${describeError(err)}` };
  }
  const checked = validateTargets(out, knownSymbols);
  if (!checked.ok) return { e: checked.error };
  return { t: checked.targets, f: from, l: to };
}

/** Runs one task from the pool: inspect a module, or compute a batch of traders. */
export default async function run(message: unknown): Promise<WorkerReply> {
  const parsed = workerTaskSchema.safeParse(message);
  if (!parsed.success) return { kind: 'compute-failed', error: `invalid task: ${formatIssues(parsed.error)}` };
  const task = parsed.data as WorkerTask;
  Atomics.store(progress, task.slot, 1);
  try {
    if (task.kind === 'inspect') {
      const loaded = await load(null, task.code);
      return loaded.ok
        ? { kind: 'inspect', ok: true, meta: loaded.strategy.meta }
        : { kind: 'inspect', ok: false, error: loaded.error };
    }
    const loaded = await load(task.ref, task.code);
    if (!loaded.ok) return { kind: 'compute-failed', error: loaded.error };
    const outcomes: ItemOutcome[] = new Array(task.items.length);
    for (let i = 0; i < task.items.length; i++) {
      Atomics.store(progress, task.slot, 2 + i);
      try {
        outcomes[i] = computeOne(loaded.strategy, task.items[i]);
      } catch (err) {
        // User code outside compute (a throwing refinement, a getter on the output) fails its trader only.
        outcomes[i] = { e: `strategy error: ${describeError(err)}` };
      }
    }
    // Views handed out in this task keep their chunk alive; start the next task on a fresh one.
    chunk = new Float64Array(CHUNK);
    used = 0;
    return { kind: 'compute', outcomes };
  } catch (err) {
    return { kind: 'compute-failed', error: `worker error: ${describeError(err)}` };
  } finally {
    retireIfFull();
  }
}
