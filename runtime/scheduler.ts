/**
 * The compute scheduler: traders ask for their targets one by one (each from its own
 * `computing` state); the scheduler gathers the requests of one turn of the event loop, groups
 * them by strategy version, and sends each group to the pool as one task. One pool task per
 * trader would be 50–80× slower than inline compute (see DEPENDENCIES.md).
 */
import type { TargetWeights } from './domain.ts';
import type { ComputeItem, ComputeResult } from './strategy/index.ts';
import { processTurns, type Turns } from './turns.ts';

/** One trader's request for its targets. */
export interface ComputeRequest {
  readonly ref: string;
  readonly item: ComputeItem;
  readonly signal?: { readonly aborted: boolean };
}

/** What the scheduler hands back: the targets and the candle range the strategy read. */
export interface ComputeOutcome {
  readonly targets: TargetWeights;
  readonly candleFrom: number | null;
  readonly candleTo: number | null;
}

/** The scheduler's dependencies. */
export interface SchedulerDeps {
  /** Resolves a version's compiled module; undefined when the version is unknown. */
  compiled(ref: string): string | undefined;
  computeBatch(v: { ref: string; compiled: string }, items: readonly ComputeItem[]): Promise<Map<string, ComputeResult>>;
  /** Largest batch per pool task (default 2,000). */
  maxBatch?: number;
  /** Where each trader's answer is handed back, a turn's budget at a time (default the process's). */
  turns?: Turns;
}

/** A strategy failure for one trader: the message says what the strategy did wrong. */
export class StrategyFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrategyFailure';
  }
}

interface Waiter {
  readonly item: ComputeItem;
  resolve(o: ComputeOutcome): void;
  reject(e: Error): void;
}

/** Creates the batching compute scheduler. */
export function createComputeScheduler(deps: SchedulerDeps) {
  const maxBatch = deps.maxBatch ?? 2000;
  const turns = deps.turns ?? processTurns;
  let queued = new Map<string, Waiter[]>();
  let scheduled = false;
  let inFlight = 0;

  const run = () => {
    scheduled = false;
    const groups = queued;
    queued = new Map();
    for (const [ref, waiters] of groups) {
      const compiled = deps.compiled(ref);
      if (!compiled) {
        for (const w of waiters) w.reject(new StrategyFailure(`strategy version ${ref} is not registered`));
        continue;
      }
      for (let i = 0; i < waiters.length; i += maxBatch) {
        const part = waiters.slice(i, i + maxBatch);
        inFlight++;
        deps
          .computeBatch(
            { ref, compiled },
            part.map((w) => w.item),
          )
          .then(
            (results) =>
              // Each answer starts a trader's rebalance (plan, risk checks, paper fills): they
              // are handed out a turn's budget at a time, so one pool reply never holds the
              // event loop for the whole batch.
              new Promise<void>((done) => {
                let left = part.length;
                for (const w of part) {
                  turns.run(() => {
                    const r = results.get(w.item.traderId);
                    if (!r) w.reject(new StrategyFailure('the pool returned no result for this trader'));
                    else if (r.ok) w.resolve({ targets: r.targets, candleFrom: r.candleFrom, candleTo: r.candleTo });
                    else w.reject(new StrategyFailure(r.error.message));
                    if (--left === 0) done();
                  });
                }
              }),
            (err: unknown) => {
              const msg = err instanceof Error ? err.message : String(err);
              for (const w of part) w.reject(new StrategyFailure(`strategy pool failed: ${msg}`));
            },
          )
          .finally(() => {
            inFlight--;
          });
      }
    }
  };

  return {
    /** Asks for one trader's targets; batched with every other request of this turn. */
    request(req: ComputeRequest): Promise<ComputeOutcome> {
      return new Promise<ComputeOutcome>((resolve, reject) => {
        let list = queued.get(req.ref);
        if (!list) queued.set(req.ref, (list = []));
        list.push({ item: req.item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(run);
        }
      });
    },
    /** Tasks sent to the pool and not finished. */
    inFlight: () => inFlight,
  };
}

/** The scheduler type. */
export type ComputeScheduler = ReturnType<typeof createComputeScheduler>;
