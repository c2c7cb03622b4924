/**
 * Turns of the event loop, shared out by time. A wave wakes thousands of traders at once: a
 * pool reply, a group commit or a persisted paper book each releases every trader that waited
 * on it, and each trader then runs a stretch of synchronous work (its plan in decimals, paper
 * fills, records). Released all together they hold the event loop for hundreds of
 * milliseconds, and the console, the Pause All command and the exchanges' sockets wait behind
 * them. Instead, whatever releases many traders queues one small callback per trader here, and
 * the queue runs callbacks only while the current turn has budget left, then lets the event
 * loop go round (timers, I/O) before it goes on.
 *
 * A callback that resolves a promise is measured with what it wakes: after each callback the
 * queue waits one microtask, by which time the woken code has run up to its next wait.
 *
 * Three lanes, each served only when the ones before it are empty: `cycle` (a cycle in progress
 * goes on: a pool reply, a stored order record, a persisted fill), then `tick` (a new cycle
 * starts), then `background` (metrics, risk sampling). A trader that has its targets places its
 * orders before another trader starts computing: the time from signal to order stays short, and
 * the database writes of early traders overlap the computing of later ones.
 */

/** Which queue a callback joins; see {@link createTurns} for the order they are served in. */
export type Lane = 'cycle' | 'tick' | 'background';

/** A time-budgeted work queue on the event loop. */
export interface Turns {
  /** Runs `fn` in a turn of the event loop with budget left, after what was queued before it in its lane. */
  run(fn: () => void, lane?: Lane): void;
  /** Resolves in a turn with budget left: `await turns.next()` before a stretch of synchronous work. */
  next(lane?: Lane): Promise<void>;
  /** Callbacks queued and not run yet. */
  pending(): number;
}

/** Options of {@link createTurns}. */
export interface TurnsOptions {
  /** Work per turn of the event loop before the queue lets the loop go round (default {@link TURN_BUDGET_MS}). */
  readonly budgetMs?: number;
  /** A monotonic clock in milliseconds (default `performance.now`). */
  readonly now?: () => number;
  /** Schedules the next turn (default `setImmediate`: after the loop's timers and I/O). */
  readonly defer?: (fn: () => void) => void;
  /** Called with what a callback threw; the queue goes on. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Synchronous work per turn. A young-generation GC (5–40 ms on a 2-core VM with 10,000 traders)
 * can land inside a turn; with this budget a turn stays well under the 50 ms lag target.
 */
export const TURN_BUDGET_MS = 8;

/** A FIFO of callbacks with O(1) shift. */
class Fifo {
  private items: ((() => void) | undefined)[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(fn: () => void): void {
    this.items.push(fn);
  }
  shift(): (() => void) | undefined {
    if (this.head >= this.items.length) return undefined;
    const fn = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return fn;
  }
}

/** Creates a time-budgeted work queue. */
export function createTurns(opts: TurnsOptions = {}): Turns {
  const budgetMs = opts.budgetMs ?? TURN_BUDGET_MS;
  if (!(budgetMs > 0)) throw new Error(`turn budget must be a positive number of milliseconds, got ${String(budgetMs)}`);
  const now = opts.now ?? (() => performance.now());
  const defer = opts.defer ?? ((fn: () => void) => void setImmediate(fn));
  const onError = opts.onError ?? ((err: unknown) => console.error('turns: a queued callback threw', err));
  const lanes: Record<Lane, Fifo> = { cycle: new Fifo(), tick: new Fifo(), background: new Fifo() };
  const { cycle, tick, background } = lanes;
  let scheduled = false;

  const drain = async (): Promise<void> => {
    const start = now();
    for (;;) {
      const fn = cycle.shift() ?? tick.shift() ?? background.shift();
      if (!fn) {
        scheduled = false;
        return;
      }
      try {
        fn();
      } catch (err) {
        onError(err);
      }
      // What `fn` woke runs now, up to its next wait, and counts against this turn.
      await undefined;
      if (now() - start >= budgetMs) break;
    }
    if (cycle.size + tick.size + background.size > 0) defer(() => void drain());
    else scheduled = false;
  };

  const run = (fn: () => void, lane: Lane = 'cycle'): void => {
    lanes[lane].push(fn);
    if (!scheduled) {
      scheduled = true;
      defer(() => void drain());
    }
  };

  return {
    run,
    next: (lane) => new Promise<void>((resolve) => run(resolve, lane)),
    pending: () => cycle.size + tick.size + background.size,
  };
}

/**
 * The process's queue: there is one event loop per process, so one budget. Modules default to
 * it; a test passes its own.
 */
export const processTurns: Turns = createTurns();
