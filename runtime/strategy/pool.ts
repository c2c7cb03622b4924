/**
 * The strategy compute pool: Piscina worker threads that map the shared candle windows once and
 * run one strategy version over a batch of traders per task.
 *
 * Timeouts are per trader, not per task: each worker writes the index of the trader it is
 * computing into a shared progress slot, and a watchdog aborts the task (Piscina terminates the
 * thread) once one index has stood still for `timeoutMs`. So a large batch never times out for
 * being large, and the trader that hung is known exactly. A worker that dies (heap limit or an
 * uncaught error) leaves its index behind too: that trader is re-run alone to confirm it, the rest
 * of the batch as another task. Either way only the culprits fail; after `maxCulprits` culprits in
 * one batch the remaining unresolved traders of that version are failed without running, so a
 * version that hangs for everyone cannot hold the pool for `traders × timeoutMs`.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { errorMessage } from '../domain.ts';
import type { TargetWeights } from '../domain.ts';
import type { CandleWindowsHandle } from '../market/window.ts';
import type { StrategyContext } from './sdk.ts';
import { checkItem, POSITION_STRIDE, TARGET_STRIDE, TRADER_HEADER, unpackTargets } from './validate.ts';
import type { ComputeColumns, InspectedMeta, WorkerInit, WorkerReply, WorkerTask } from './validate.ts';

/** One trader's input to a compute batch. */
export interface ComputeItem {
  readonly traderId: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** The cycle's candle open time; history is read up to it. */
  readonly now: number;
  readonly equity: number;
  readonly positions: StrategyContext['positions'];
}

/** One trader's result: its validated targets and the candle range read, or why it failed. */
export type ComputeResult =
  | { readonly ok: true; readonly targets: TargetWeights; readonly candleFrom: number | null; readonly candleTo: number | null }
  | { readonly ok: false; readonly error: { readonly kind: 'strategy' | 'internal'; readonly message: string } };

/** What `inspect` learns about a compiled module. */
export type InspectResult = { readonly ok: true; readonly meta: InspectedMeta } | { readonly ok: false; readonly error: string };

/** Counters for health pages. */
export interface PoolStats {
  readonly threads: number;
  readonly queued: number;
  readonly completed: number;
  readonly failedTasks: number;
}

/** The worker pool that runs strategy code off the main thread. */
export interface StrategyPool {
  /** Runs version `v` for every item; one result per trader id, failures isolated per trader. */
  computeBatch(v: { readonly ref: string; readonly compiled: string }, items: readonly ComputeItem[]): Promise<Map<string, ComputeResult>>;
  /** Imports a compiled module in a worker and validates its default export. */
  inspect(compiled: string): Promise<InspectResult>;
  stats(): PoolStats;
  /** Terminates the workers; pending batches fail. */
  close(): Promise<void>;
}

/** Options of `createStrategyPool`. */
export interface StrategyPoolOptions {
  readonly windows: CandleWindowsHandle;
  readonly knownSymbols: readonly string[];
  /** Worker threads; default `max(1, cpus - 1)`. */
  readonly threads?: number;
  /** Longest one trader's compute (or one module import) may run; default 2000. */
  readonly timeoutMs?: number;
  /** Old-generation heap limit per worker; default 128. */
  readonly maxHeapMb?: number;
  /** Culprits isolated per batch before the rest of that batch is failed unrun; default 4. */
  readonly maxCulprits?: number;
  readonly log?: { warn(obj: object, msg?: string): void };
  /** Extra Node flags for the compute workers (e.g. `--cpu-prof`, which `node` never passes to them). */
  readonly workerExecArgv?: readonly string[];
}

const MAX_SLOTS = 4096;
const MAX_UNSTARTED_RETRIES = 2;
/** Progress slot values written by the worker. */
const NOT_STARTED = 0;
const IMPORTING = 1;
const FIRST_ITEM = 2;

type Attempt =
  | { readonly kind: 'reply'; readonly reply: WorkerReply }
  | { readonly kind: 'timeout'; readonly at: number }
  /** `collateral`: the task never started and its worker was lost to another task or retired. */
  | { readonly kind: 'died'; readonly at: number; readonly message: string; readonly collateral: boolean }
  | { readonly kind: 'error'; readonly message: string };

interface Watched {
  readonly slot: number;
  readonly controller: AbortController;
  /** `strategyKills` when the task was sent. */
  readonly killsAtStart: number;
  /** `retirements` when the task was sent. */
  readonly retirementsAtStart: number;
  last: number;
  seenAt: number;
  timedOutAt: number;
}

/**
 * Young generation per worker. Each trader's history views come from fresh off-heap chunks
 * (~2.4 KB per trader for 3 × 100 closes); with the young generation V8 sizes for a 128 MB heap,
 * those bytes pile up between scavenges until V8 runs a full mark-compact every few tasks
 * (27 per 400,000 computations, measured). Bounded at 8 MB, scavenges free the chunks first:
 * 1 mark-compact, and worker CPU per computation down from ~1.55 µs to ~1.2 µs (bench/README.md).
 */
const YOUNG_GENERATION_MB = 8;

/** Tasks one compute worker holds: the one running and the next, so it never waits between tasks. */
const TASKS_PER_WORKER = 2;
/** Times one task may be turned away by retiring workers before the pool gives up on it. */
const MAX_BOUNCES = 100;

type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * Piscina's own balancer never queues a task that has an abort signal (ours all do: the watchdog)
 * behind another, because aborting a task terminates its whole worker. Ours does, up to
 * `TASKS_PER_WORKER`: the worker runs them one after the other, the queued one's progress stays
 * at NOT_STARTED (so the watchdog never charges it), and if the worker is lost to the task ahead
 * the queued one is re-run without counting against its retries (`collateral`). A worker the pool
 * is retiring (see `retire`) gets nothing more.
 */
const pipelined =
  (retiring: ReadonlySet<number>): LoadBalancer =>
  (_task, workers) => {
    let best: (typeof workers)[number] | null = null;
    let bestUsage = TASKS_PER_WORKER;
    for (const w of workers) {
      if (w.terminating || w.destroyed || retiring.has(w.id)) continue;
      // Piscina reports a worker running exactly one abortable task as Infinity: it is one task.
      const usage = w.currentUsage === Infinity ? 1 : w.currentUsage;
      if (usage === 0) return w;
      if (usage < bestUsage) {
        best = w;
        bestUsage = usage;
      }
    }
    return best;
  };

function workerSetup(): { filename: string; execArgv: string[] } {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // A .ts worker needs tsx's loader in its own thread (under `tsx` and under vitest alike).
    const tsx = pathToFileURL(createRequire(self).resolve('tsx')).href;
    return { filename: fileURLToPath(new URL('./worker.ts', self)), execArgv: ['--import', tsx] };
  }
  return { filename: fileURLToPath(new URL('./worker.js', self)), execArgv: [] };
}

/**
 * Starts the compute pool (and a lazily started single-thread pool for `inspect`, so modules
 * imported only to be inspected never weigh on the compute workers).
 */
export function createStrategyPool(opts: StrategyPoolOptions): StrategyPool {
  const threads = opts.threads ?? Math.max(1, availableParallelism() - 1);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const maxHeapMb = opts.maxHeapMb ?? 128;
  const maxCulprits = opts.maxCulprits ?? 4;
  const progressBuffer = new SharedArrayBuffer(MAX_SLOTS * Int32Array.BYTES_PER_ELEMENT);
  const progress = new Int32Array(progressBuffer);
  const symbols = [...opts.knownSymbols];
  const init: WorkerInit = { windows: opts.windows, knownSymbols: symbols, progress: progressBuffer };
  const { filename, execArgv } = workerSetup();
  /** Threads being terminated because they are full (see `retire`). */
  const retiring = new Set<number>();
  const common = {
    filename,
    execArgv,
    workerData: init,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    concurrentTasksPerWorker: 1,
    atomics: 'disabled' as const,
  };
  const compute = new Piscina({
    ...common,
    execArgv: [...execArgv, ...(opts.workerExecArgv ?? [])],
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: TASKS_PER_WORKER,
    loadBalancer: pipelined(retiring),
  });
  let inspector: Piscina | null = null;
  const onPoolError = (err: unknown): void => opts.log?.warn({ err: errorMessage(err) }, 'strategy worker failed while idle');
  compute.on('error', onPoolError);
  const inspectPool = (): Piscina => {
    if (!inspector) {
      inspector = new Piscina({ ...common, minThreads: 0, maxThreads: 1, idleTimeout: 2_000 });
      inspector.on('error', onPoolError);
    }
    return inspector;
  };

  let failedTasks = 0;
  let closed = false;

  // Progress slots, one per task in flight.
  const freeSlots: number[] = Array.from({ length: MAX_SLOTS }, (_, i) => MAX_SLOTS - 1 - i);
  const slotWaiters: ((slot: number) => void)[] = [];
  const acquireSlot = (): Promise<number> => {
    const slot = freeSlots.pop();
    return slot !== undefined ? Promise.resolve(slot) : new Promise((resolve) => slotWaiters.push(resolve));
  };
  const releaseSlot = (slot: number): void => {
    const next = slotWaiters.shift();
    if (next) next(slot);
    else freeSlots.push(slot);
  };

  // The watchdog: aborts a task whose progress value stood still for timeoutMs.
  const watched = new Set<Watched>();
  let ticker: ReturnType<typeof setInterval> | null = null;
  const tickMs = Math.min(250, Math.max(5, Math.floor(timeoutMs / 10)));
  const tick = (): void => {
    const now = performance.now();
    for (const w of watched) {
      const value = Atomics.load(progress, w.slot);
      if (value === NOT_STARTED || value !== w.last) {
        w.last = value;
        w.seenAt = now;
      } else if (now - w.seenAt >= timeoutMs && w.timedOutAt < 0) {
        w.timedOutAt = value;
        strategyKills++;
        w.controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      }
    }
  };
  const watch = (w: Watched): void => {
    watched.add(w);
    if (!ticker) {
      ticker = setInterval(tick, tickMs);
      ticker.unref();
    }
  };
  const unwatch = (w: Watched): void => {
    watched.delete(w);
    if (watched.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  /** Workers terminated for what a started task did (hung, blew the heap, crashed). */
  let strategyKills = 0;
  /** Workers terminated because they were full (they start no task once full). */
  let retirements = 0;

  /**
   * Terminates a full worker once the reply that said so is here (Piscina starts a fresh one).
   * A task queued behind in that worker was not started: it dies as collateral and is re-run.
   */
  const retire = (pool: Piscina, thread: number): void => {
    if (retiring.has(thread)) return;
    const worker = pool.threads.find((t) => t.threadId === thread);
    if (!worker) return;
    retiring.add(thread);
    retirements++;
    worker.terminate().then(
      () => retiring.delete(thread),
      () => retiring.delete(thread),
    );
  };

  async function dispatch(
    pool: Piscina,
    build: (slot: number) => { task: WorkerTask; transfer?: ArrayBuffer[] },
  ): Promise<Attempt> {
    if (closed) return { kind: 'error', message: 'strategy pool is closed' };
    const slot = await acquireSlot();
    try {
      for (let bounces = 0; bounces < MAX_BOUNCES; bounces++) {
        Atomics.store(progress, slot, NOT_STARTED);
        const w: Watched = {
          slot,
          controller: new AbortController(),
          killsAtStart: strategyKills,
          retirementsAtStart: retirements,
          last: NOT_STARTED,
          seenAt: performance.now(),
          timedOutAt: -1,
        };
        watch(w);
        try {
          // Built per attempt: a transferred buffer is gone from this thread once sent.
          const { task, transfer } = build(slot);
          const reply = (await pool.run(task, { signal: w.controller.signal, transferList: transfer })) as WorkerReply;
          if (reply.retiringThread !== undefined) retire(pool, reply.retiringThread);
          if (reply.kind === 'retiring') continue;
          return { kind: 'reply', reply };
        } catch (err) {
          failedTasks++;
          if (w.timedOutAt >= 0) return { kind: 'timeout', at: w.timedOutAt };
          if (closed) return { kind: 'error', message: 'strategy pool is closed' };
          const at = Atomics.load(progress, slot);
          if (at !== NOT_STARTED) strategyKills++;
          const code = (err as { code?: unknown }).code;
          const text = errorMessage(err);
          const message =
            code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `ran out of memory (limit ${maxHeapMb} MB)`
              : /^worker exited with code/.test(text)
                ? text
                : `crashed the worker: ${describe(err)}`;
          const collateral =
            at === NOT_STARTED &&
            (strategyKills !== w.killsAtStart || retirements !== w.retirementsAtStart || text === 'Terminating worker thread');
          return { kind: 'died', at, message, collateral };
        } finally {
          unwatch(w);
        }
      }
      return { kind: 'error', message: `strategy workers kept retiring (${MAX_BOUNCES} times)` };
    } finally {
      releaseSlot(slot);
    }
  }

  // Compiled code goes to workers as shared bytes (no copy per task); keyed by ref.
  const codes = new Map<string, { compiled: string; key: string; bytes: SharedArrayBuffer }>();
  let generation = 0;
  const codeFor = (ref: string, compiled: string): { key: string; bytes: SharedArrayBuffer } => {
    const known = codes.get(ref);
    if (known && known.compiled === compiled) return known;
    // A ref is immutable in production; a different bundle under one ref gets a fresh cache key.
    const entry = { compiled, key: known ? `${ref}#${++generation}` : ref, bytes: toShared(compiled) };
    codes.set(ref, entry);
    return entry;
  };

  async function computeBatch(
    v: { readonly ref: string; readonly compiled: string },
    items: readonly ComputeItem[],
  ): Promise<Map<string, ComputeResult>> {
    const outcome: (ComputeResult | undefined)[] = new Array(items.length);
    if (items.length === 0) return new Map();
    const { key, bytes } = codeFor(v.ref, v.compiled);
    let culprits = 0;
    const strategyError = (message: string): ComputeResult => ({ ok: false, error: { kind: 'strategy', message } });
    const failAll = (indices: readonly number[], result: ComputeResult): void => {
      for (const i of indices) outcome[i] = result;
    };
    const skipped = (indices: readonly number[], reason: string): void =>
      failAll(indices, strategyError(`not run: ${v.ref} already failed for ${culprits} traders in this batch (${reason})`));

    // Malformed items fail here, before anything crosses to a worker. Params are keyed by their
    // JSON: one table entry per distinct value, an index per trader (the strings die young).
    const paramTable: string[] = [];
    const paramAt = new Map<string, number>();
    const paramOf = new Int32Array(items.length);
    const runnable: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const bad = checkItem(item);
      if (bad !== null) {
        outcome[i] = strategyError(bad);
        continue;
      }
      const json = paramsJson(item.params);
      if (!json.ok) {
        outcome[i] = strategyError(`invalid compute item: params: ${json.error}`);
        continue;
      }
      let p = paramAt.get(json.key);
      if (p === undefined) {
        p = paramTable.push(json.key) - 1;
        paramAt.set(json.key, p);
      }
      paramOf[i] = p;
      runnable.push(i);
    }

    const settle = async (indices: readonly number[], retries: number): Promise<void> => {
      const attempt = await dispatch(compute, (slot) => {
        const columns = encodeColumns(items, paramTable, paramOf, indices);
        const transfer = [columns.nums.buffer, columns.ints.buffer, columns.positions.buffer].filter(
          (b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0,
        );
        return { task: { kind: 'compute', ref: key, code: bytes, slot, ...columns }, transfer };
      });
      switch (attempt.kind) {
        case 'reply': {
          const reply = attempt.reply;
          if (reply.kind === 'compute') {
            const bad = decodeReply(reply, indices, symbols, outcome);
            if (bad !== null) failAll(indices, { ok: false, error: { kind: 'internal', message: bad } });
          } else if (reply.kind === 'compute-failed') {
            failAll(indices, strategyError(reply.error));
          } else {
            failAll(indices, { ok: false, error: { kind: 'internal', message: `unexpected worker reply ${reply.kind}` } });
          }
          return;
        }
        case 'timeout': {
          const message = `timed out after ${timeoutMs} ms`;
          if (attempt.at === IMPORTING) return failAll(indices, strategyError(`${message} while importing the strategy`));
          const k = attempt.at - FIRST_ITEM;
          outcome[indices[k]!] = strategyError(message);
          culprits++;
          const rest = indices.filter((_, j) => j !== k);
          if (rest.length === 0) return;
          if (culprits >= maxCulprits) return skipped(rest, message);
          return settle(rest, 0);
        }
        case 'died': {
          if (attempt.at === NOT_STARTED) {
            // The thread died before running our code: not the strategy's fault. Lost with a worker
            // that another task took down (or that retired), it is re-run as if never sent.
            if (attempt.collateral) return settle(indices, retries);
            if (retries < MAX_UNSTARTED_RETRIES) return settle(indices, retries + 1);
            return failAll(indices, { ok: false, error: { kind: 'internal', message: attempt.message } });
          }
          if (attempt.at === IMPORTING) return failAll(indices, strategyError(`${attempt.message} while importing the strategy`));
          const k = attempt.at - FIRST_ITEM;
          if (indices.length === 1) {
            culprits++;
            return failAll(indices, strategyError(attempt.message));
          }
          if (culprits >= maxCulprits) return skipped(indices, attempt.message);
          // The trader that was running is the suspect; confirm it alone, re-run the others.
          const rest = indices.filter((_, j) => j !== k);
          await Promise.all([settle([indices[k]!], 0), settle(rest, 0)]);
          return;
        }
        case 'error':
          return failAll(indices, { ok: false, error: { kind: 'internal', message: attempt.message } });
      }
    };

    if (runnable.length > 0) await settle(runnable, 0);
    const results = new Map<string, ComputeResult>();
    items.forEach((item, i) => {
      results.set(item.traderId, outcome[i] ?? { ok: false, error: { kind: 'internal', message: 'no result' } });
    });
    return results;
  }

  async function inspect(compiled: string): Promise<InspectResult> {
    const bytes = toShared(compiled);
    for (let retries = 0; ; retries++) {
      const attempt = await dispatch(inspectPool(), (slot) => ({ task: { kind: 'inspect', code: bytes, slot } }));
      switch (attempt.kind) {
        case 'reply':
          if (attempt.reply.kind === 'inspect') {
            return attempt.reply.ok ? { ok: true, meta: attempt.reply.meta } : { ok: false, error: attempt.reply.error };
          }
          return { ok: false, error: `unexpected worker reply ${attempt.reply.kind}` };
        case 'timeout':
          return { ok: false, error: `import did not finish: timed out after ${timeoutMs} ms` };
        case 'died':
          if (attempt.at === NOT_STARTED && retries < MAX_UNSTARTED_RETRIES) continue;
          return { ok: false, error: `import failed: ${attempt.message}` };
        case 'error':
          return { ok: false, error: attempt.message };
      }
    }
  }

  return {
    computeBatch,
    inspect,
    stats: () => ({
      threads: compute.threads.length,
      queued: compute.queueSize + slotWaiters.length,
      completed: compute.completed,
      failedTasks,
    }),
    async close() {
      if (closed) return;
      closed = true;
      for (const w of watched) w.controller.abort(new Error('strategy pool is closed'));
      await Promise.all([compute.destroy(), inspector?.destroy()]);
    },
  };
}

type ParamsJson = { readonly ok: true; readonly key: string } | { readonly ok: false; readonly error: string };

/**
 * The JSON of params objects that cannot change: deep-frozen plain data, as the store hands out
 * every trader's params. A wave serializes each trader's params again otherwise (a third of the
 * main thread's share of a batch). Anything else is serialized on every call.
 */
const frozenParams = new WeakMap<object, ParamsJson>();
const MAX_FROZEN_DEPTH = 16;

function paramsJson(params: unknown): ParamsJson {
  if (typeof params !== 'object' || params === null || !Object.isFrozen(params)) return serializeParams(params);
  const known = frozenParams.get(params);
  if (known) return known;
  const json = serializeParams(params);
  if (json.ok && frozenData(params, 0)) frozenParams.set(params, json);
  return json;
}

/** Frozen plain objects and arrays of data properties all the way down: their JSON cannot change. */
function frozenData(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return typeof v !== 'function';
  if (depth > MAX_FROZEN_DEPTH || !Object.isFrozen(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
  for (const key of Reflect.ownKeys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (!d || !('value' in d) || !frozenData(d.value, depth + 1)) return false;
  }
  return true;
}

function serializeParams(params: unknown): ParamsJson {
  // Params are JSON by contract (stored as JSONB); the JSON text is also the dedup and cache key.
  let key: unknown;
  try {
    key = JSON.stringify(params);
  } catch (err) {
    return { ok: false, error: describe(err) };
  }
  return typeof key === 'string' && key.charCodeAt(0) === 123 /* { */ ? { ok: true, key } : { ok: false, error: 'not a JSON object' };
}

/** Packs the traders at `indices` into columns (see `ComputeColumns`). */
function encodeColumns(
  items: readonly ComputeItem[],
  batchParams: readonly string[],
  paramOf: Int32Array,
  indices: readonly number[],
): ComputeColumns {
  const count = indices.length;
  const nums = new Float64Array(2 * count);
  const ints = new Int32Array(2 * count);
  // Only the params this subset uses (a retried subset may use fewer).
  const paramTable: string[] = [];
  const paramAt = new Int32Array(batchParams.length).fill(-1);
  const positionSymbols: string[] = [];
  const positionSymbolAt = new Map<string, number>();
  const loose: [number, Readonly<Record<string, unknown>>][] = [];
  let packed = new Float64Array(0);
  let used = 0;
  for (let j = 0; j < count; j++) {
    const i = indices[j]!;
    const item = items[i]!;
    nums[2 * j] = item.now;
    nums[2 * j + 1] = item.equity;
    const b = paramOf[i]!;
    let p = paramAt[b]!;
    if (p < 0) {
      p = paramTable.push(batchParams[b]!) - 1;
      paramAt[b] = p;
    }
    ints[2 * j] = p;
    const positions = item.positions as Readonly<Record<string, unknown>>;
    const held = Object.keys(positions);
    if (held.length === 0) continue;
    if (packed.length < used + held.length * POSITION_STRIDE) {
      const grown = new Float64Array(Math.max(64, 2 * (used + held.length * POSITION_STRIDE)));
      grown.set(packed.subarray(0, used));
      packed = grown;
    }
    const start = used;
    for (const symbol of held) {
      const v = positions[symbol];
      if (!packable(v)) break;
      let s = positionSymbolAt.get(symbol);
      if (s === undefined) {
        s = positionSymbols.push(symbol) - 1;
        positionSymbolAt.set(symbol, s);
      }
      packed[used] = s;
      packed[used + 1] = v.side === 'long' ? 1 : -1;
      packed[used + 2] = v.amount;
      packed[used + 3] = v.entryPrice;
      packed[used + 4] = v.weight;
      used += POSITION_STRIDE;
    }
    if (used - start === held.length * POSITION_STRIDE) {
      ints[2 * j + 1] = held.length;
    } else {
      used = start;
      ints[2 * j + 1] = -1;
      loose.push([j, positions]);
    }
  }
  return { count, nums, ints, paramTable, positions: packed.slice(0, used), positionSymbols, loose };
}

interface PackablePosition {
  readonly side: 'long' | 'short';
  readonly amount: number;
  readonly entryPrice: number;
  readonly weight: number;
}

/** A position the worker can rebuild from numbers exactly as a structured clone would give it. */
function packable(v: unknown): v is PackablePosition {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const keys = Object.keys(v);
  if (keys.length !== 4 || keys[0] !== 'side' || keys[1] !== 'amount' || keys[2] !== 'entryPrice' || keys[3] !== 'weight') return false;
  const p = v as Record<string, unknown>;
  return (
    (p.side === 'long' || p.side === 'short') &&
    typeof p.amount === 'number' &&
    typeof p.entryPrice === 'number' &&
    typeof p.weight === 'number'
  );
}

/** Distinct results remembered per reply for sharing, and the misses after which sharing stops. */
const SHARED_CANDIDATES = 16;
const SHARE_GIVE_UP = 64;

/**
 * Turns a packed reply into results for `indices`; returns what is wrong with it, if anything.
 *
 * Traders of one version with the same params on the same candle get the same targets: such
 * traders share one result object, deeply frozen, instead of five fresh objects each (the results
 * of a wave are held until it is planned, and copying them through the young generation is what
 * the main thread spends most on). Frozen is what keeps one trader's result out of another's
 * reach; every result is frozen alike so none behaves differently from the others.
 */
function decodeReply(
  reply: Extract<WorkerReply, { kind: 'compute' }>,
  indices: readonly number[],
  symbols: readonly string[],
  outcome: (ComputeResult | undefined)[],
): string | null {
  const { out, errors } = reply;
  if (!(out instanceof Float64Array) || !Array.isArray(errors)) return 'malformed worker reply';
  const shared: { at: number; length: number; result: ComputeResult }[] = [];
  let misses = 0;
  let at = 0;
  let e = 0;
  for (let j = 0; j < indices.length; j++) {
    if (at + TRADER_HEADER > out.length) return 'truncated worker reply';
    const count = out[at]!;
    if (count < 0) {
      outcome[indices[j]!] = { ok: false, error: { kind: 'strategy', message: String(errors[e++]) } };
      at += TRADER_HEADER;
      continue;
    }
    const length = TRADER_HEADER + count * TARGET_STRIDE;
    if (at + length > out.length) return 'truncated worker reply';
    let result: ComputeResult | undefined;
    if (misses < SHARE_GIVE_UP) {
      for (const c of shared) {
        if (c.length === length && sameFloats(out, c.at, at, length)) {
          result = c.result;
          break;
        }
      }
    }
    if (result === undefined) {
      const from = out[at + 1]!;
      const to = out[at + 2]!;
      result = Object.freeze({
        ok: true as const,
        targets: freezeTargets(unpackTargets(out, at + TRADER_HEADER, count, symbols)),
        candleFrom: Number.isNaN(from) ? null : from,
        candleTo: Number.isNaN(to) ? null : to,
      });
      if (misses < SHARE_GIVE_UP) {
        misses++;
        if (shared.length < SHARED_CANDIDATES) shared.push({ at, length, result });
      }
    }
    outcome[indices[j]!] = result;
    at += length;
  }
  return null;
}

function sameFloats(a: Float64Array, i: number, j: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (!Object.is(a[i + k], a[j + k])) return false;
  return true;
}

function freezeTargets(targets: TargetWeights): TargetWeights {
  for (const symbol in targets) Object.freeze(targets[symbol]);
  return Object.freeze(targets);
}

function toShared(text: string): SharedArrayBuffer {
  const encoded = Buffer.from(text, 'utf8');
  const shared = new SharedArrayBuffer(encoded.byteLength);
  new Uint8Array(shared).set(encoded);
  return shared;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : errorMessage(err);
}
