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
import type { InspectedMeta, ItemOutcome, WorkerInit, WorkerReply, WorkerTask } from './validate.ts';

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
  | { readonly kind: 'died'; readonly at: number; readonly message: string }
  | { readonly kind: 'error'; readonly message: string };

interface Watched {
  readonly slot: number;
  readonly controller: AbortController;
  last: number;
  seenAt: number;
  timedOutAt: number;
}

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
  const init: WorkerInit = { windows: opts.windows, knownSymbols: [...opts.knownSymbols], progress: progressBuffer };
  const { filename, execArgv } = workerSetup();
  const common = {
    filename,
    execArgv,
    workerData: init,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    concurrentTasksPerWorker: 1,
    // Workers wait on their port, not in Atomics.wait, so a retiring worker can exit between tasks.
    atomics: 'disabled' as const,
  };
  const compute = new Piscina({ ...common, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
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

  async function dispatch(pool: Piscina, build: (slot: number) => WorkerTask): Promise<Attempt> {
    if (closed) return { kind: 'error', message: 'strategy pool is closed' };
    const slot = await acquireSlot();
    Atomics.store(progress, slot, NOT_STARTED);
    const w: Watched = { slot, controller: new AbortController(), last: NOT_STARTED, seenAt: performance.now(), timedOutAt: -1 };
    watch(w);
    try {
      const reply = (await pool.run(build(slot), { signal: w.controller.signal })) as WorkerReply;
      return { kind: 'reply', reply };
    } catch (err) {
      failedTasks++;
      if (w.timedOutAt >= 0) return { kind: 'timeout', at: w.timedOutAt };
      if (closed) return { kind: 'error', message: 'strategy pool is closed' };
      const at = Atomics.load(progress, slot);
      const code = (err as { code?: unknown }).code;
      const message =
        code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `ran out of memory (limit ${maxHeapMb} MB)`
          : /^worker exited with code/.test(errorMessage(err))
            ? errorMessage(err)
            : `crashed the worker: ${describe(err)}`;
      return { kind: 'died', at, message };
    } finally {
      unwatch(w);
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

    const settle = async (indices: readonly number[], retries: number): Promise<void> => {
      const batch = indices.length === items.length ? items : indices.map((i) => items[i]!);
      const attempt = await dispatch(compute, (slot) => ({ kind: 'compute', ref: key, code: bytes, slot, items: batch }));
      switch (attempt.kind) {
        case 'reply': {
          const reply = attempt.reply;
          if (reply.kind === 'compute') {
            reply.outcomes.forEach((o, j) => (outcome[indices[j]!] = toResult(o)));
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
            // The thread died before running our code (e.g. a worker retiring): not the strategy's fault.
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

    await settle(
      items.map((_, i) => i),
      0,
    );
    const results = new Map<string, ComputeResult>();
    items.forEach((item, i) => {
      results.set(item.traderId, outcome[i] ?? { ok: false, error: { kind: 'internal', message: 'no result' } });
    });
    return results;
  }

  async function inspect(compiled: string): Promise<InspectResult> {
    const bytes = toShared(compiled);
    for (let retries = 0; ; retries++) {
      const attempt = await dispatch(inspectPool(), (slot) => ({ kind: 'inspect', code: bytes, slot }));
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

function toResult(o: ItemOutcome): ComputeResult {
  if ('e' in o) return { ok: false, error: { kind: 'strategy', message: o.e } };
  return { ok: true, targets: o.t, candleFrom: o.f, candleTo: o.l };
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
