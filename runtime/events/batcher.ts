/**
 * Batches rows for the database: rows pushed within `intervalMs` (or until `maxRows`) are
 * written in one call. `flush()` writes now and resolves when everything pushed so far is
 * stored, which is how a command waits for its state to be durable before it answers.
 */
import { processTurns, type Turns } from '../turns.ts';

/** A batching writer. */
export interface Batcher<T> {
  push(row: T): void;
  /** Writes every pending row; resolves when all rows pushed before the call are stored. */
  flush(): Promise<void>;
  pending(): number;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/** Options of a batcher. */
export interface BatcherOptions<T> {
  write(rows: T[]): Promise<void>;
  intervalMs?: number;
  maxRows?: number;
  /** Called when a write fails; the rows are kept and retried on the next flush. */
  onError?(err: unknown, rows: number): void;
  /** Merge key: a later row with the same key replaces the pending earlier one (upserts). */
  key?(row: T): string;
}

/** Creates a batching writer. */
export function createBatcher<T>(opts: BatcherOptions<T>): Batcher<T> {
  const intervalMs = opts.intervalMs ?? 200;
  const maxRows = opts.maxRows ?? 1000;
  let rows: T[] = [];
  let keyed = new Map<string, T>();
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const take = (): T[] => {
    const out = opts.key ? [...keyed.values()] : rows;
    rows = [];
    keyed = new Map();
    return out;
  };
  const size = () => (opts.key ? keyed.size : rows.length);

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    chain = chain.then(async () => {
      const batch = take();
      for (let i = 0; i < batch.length; i += maxRows) {
        const part = batch.slice(i, i + maxRows);
        try {
          await opts.write(part);
        } catch (err) {
          opts.onError?.(err, part.length);
          // Keep what failed (and what follows) for the next flush.
          for (const r of batch.slice(i)) pushRow(r);
          schedule();
          throw err;
        }
      }
    });
    const result = chain;
    chain = chain.catch(() => undefined);
    return result;
  };

  const schedule = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = null;
      flush().catch(() => undefined);
    }, intervalMs);
    timer.unref?.();
  };

  const pushRow = (row: T) => {
    if (opts.key) {
      const k = opts.key(row);
      keyed.delete(k);
      keyed.set(k, row);
    } else rows.push(row);
  };

  return {
    push(row) {
      pushRow(row);
      if (size() >= maxRows) flush().catch(() => undefined);
      else schedule();
    },
    flush,
    pending: size,
    async close() {
      closed = true;
      await flush();
    },
  };
}

/**
 * Group commit: calls made in the same turn of the event loop are merged into one call of
 * `run` (chunked by `maxItems`), and each caller gets its own result. This is how thousands of
 * traders recording their orders in one wave become a few multi-row statements while each still
 * waits until its own row is stored. The callers are woken through `turns`, a turn's budget at
 * a time: a stored batch releases a thousand traders, each with its next step to run.
 *
 * @example const insert = createGroupCommit((rows) => repo.insertMany(rows)); await insert(row);
 */
export function createGroupCommit<I, O>(
  run: (items: I[]) => Promise<O[]>,
  maxItems = 1000,
  turns: Turns = processTurns,
): (item: I) => Promise<O> {
  let queue: { item: I; resolve(o: O): void; reject(e: unknown): void }[] = [];
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += maxItems) {
      const part = all.slice(i, i + maxItems);
      run(part.map((p) => p.item)).then(
        (out) => {
          if (out.length !== part.length) {
            const err = new Error(`group commit returned ${out.length} results for ${part.length} items`);
            for (const p of part) turns.run(() => p.reject(err));
            return;
          }
          part.forEach((p, k) => turns.run(() => p.resolve(out[k]!)));
        },
        (err: unknown) => {
          for (const p of part) turns.run(() => p.reject(err));
        },
      );
    }
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    });
}
