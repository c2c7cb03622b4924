/**
 * Consecutive failed exchange calls per trader: after `limit` of them, or at once for an
 * operational failure, the trader must stop. Free of ccxt (it reads the port's `ExchangeError`),
 * so a paper-only node never loads the library for it.
 */
import { ErrorKind, errorMessage, type ErrorInfo } from '../../domain.ts';
import type { Exchange } from '../port.ts';
import { ExchangeError } from '../port.ts';

/** What the tracker says after a failure. */
export interface FailureVerdict {
  /** `error`: put the trader in error now; `retry`: keep going (with backoff). */
  readonly action: 'retry' | 'error';
  /** Consecutive failed calls of this trader so far. */
  readonly consecutive: number;
  /** The error to record on the trader when `action` is `error`. */
  readonly error: ErrorInfo | null;
}

/** Counts consecutive failed exchange calls per trader. */
export interface FailureTracker {
  readonly limit: number;
  /** Records a failed call; an operational failure errs at once, others at the limit. */
  failure(traderId: string, err: unknown, at: number): FailureVerdict;
  /** Records a successful call: the count starts over. */
  success(traderId: string): void;
  consecutive(traderId: string): number;
  /** Forgets a trader (e.g. after an operator's restart). */
  reset(traderId: string): void;
}

/**
 * Creates a tracker that says `error` after `limit` consecutive failed calls of one trader, or at
 * once for an operational failure. Order-level answers (a rejection, a duplicate client id) are
 * the venue working as it should and neither count nor reset.
 */
export function createFailureTracker(limit = 3): FailureTracker {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`failure limit must be a positive integer, got ${limit}`);
  const counts = new Map<string, number>();
  return {
    limit,
    failure(traderId, err, at) {
      const kind = err instanceof ExchangeError ? err.kind : null;
      const current = counts.get(traderId) ?? 0;
      if (kind === 'order' || kind === 'duplicate') return { action: 'retry', consecutive: current, error: null };
      const n = current + 1;
      counts.set(traderId, n);
      const message = errorMessage(err);
      if (kind === 'operational')
        return { action: 'error', consecutive: n, error: { kind: ErrorKind.operational, message, at, retryable: false } };
      if (n >= limit)
        return {
          action: 'error',
          consecutive: n,
          error: { kind: ErrorKind.transient, message: `${n} consecutive exchange failures; last: ${message}`, at, retryable: true },
        };
      return { action: 'retry', consecutive: n, error: null };
    },
    success(traderId) {
      counts.delete(traderId);
    },
    consecutive: (traderId) => counts.get(traderId) ?? 0,
    reset(traderId) {
      counts.delete(traderId);
    },
  };
}

/**
 * Wraps an account so that every call of one trader feeds the tracker; `onError` fires once per
 * failure streak when the tracker says error (wire it to the trader's `fail`). Errors still propagate.
 */
export function withFailureTracking(
  exchange: Exchange,
  opts: {
    readonly traderId: string;
    readonly tracker: FailureTracker;
    readonly clock: { now(): number };
    readonly onError: (error: ErrorInfo) => void;
  },
): Exchange {
  let reported = false;
  const track = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      const out = await fn();
      opts.tracker.success(opts.traderId);
      reported = false;
      return out;
    } catch (err) {
      const v = opts.tracker.failure(opts.traderId, err, opts.clock.now());
      if (v.action === 'error' && v.error && !reported) {
        reported = true;
        opts.onError(v.error);
      }
      throw err;
    }
  };
  return {
    venue: exchange.venue,
    loadMarkets: () => track(() => exchange.loadMarkets()),
    fetchBalance: () => track(() => exchange.fetchBalance()),
    fetchPositions: () => track(() => exchange.fetchPositions()),
    fetchOpenOrders: (symbol) => track(() => exchange.fetchOpenOrders(symbol)),
    fetchPrices: (symbols) => track(() => exchange.fetchPrices(symbols)),
    createOrder: (req) => track(() => exchange.createOrder(req)),
    fetchOrderByClientId: (id, symbol) => track(() => exchange.fetchOrderByClientId(id, symbol)),
    cancelOrder: (id, symbol) => track(() => exchange.cancelOrder(id, symbol)),
    setLeverage: (symbol, leverage) => track(() => exchange.setLeverage(symbol, leverage)),
  };
}
