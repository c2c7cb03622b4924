/**
 * Rate limits shared by every trader of an exchange account and of an exchange + outgoing IP.
 * ccxt's own limiter is per instance (and off in our adapter): these budgets are the only gate.
 *
 * Each budget is a sliding window: a request of weight w is granted when the weight granted in
 * the last `windowMs` plus w stays within `capacity`, so no window of that length — however it
 * is aligned — ever holds more (a classic token bucket would allow up to twice the capacity in
 * one window: a full bucket plus its refill). Callers wait in FIFO order, so a heavy request is
 * never starved by light ones. A 429/418 from the venue pauses the budget for Retry-After.
 */
import type { Clock } from '../../clock.ts';

/** Timers the limiter schedules its wake-ups with (injected; tests use a fake clock). */
export interface LimiterTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What a budget counts: the venue's request weight, plain requests, or order placements. */
export type BudgetMeasure = 'weight' | 'requests' | 'orders';

/** One budget: at most `capacity` of `measure` in any window of `windowMs`. */
export interface BudgetSpec {
  readonly name: string;
  readonly measure: BudgetMeasure;
  readonly capacity: number;
  readonly windowMs: number;
}

/** Counters of one budget. */
export interface BudgetStats {
  readonly name: string;
  readonly measure: BudgetMeasure;
  readonly capacity: number;
  readonly windowMs: number;
  /** Grants since start. */
  readonly requests: number;
  /** Amount granted since start. */
  readonly total: number;
  /** Amount granted inside the current window. */
  readonly used: number;
  /** Callers waiting. */
  readonly queued: number;
  /** 429/418 (or the venue's equivalent) reported against this budget. */
  readonly hits: number;
  /** Paused until this time (ms) after a hit, or null. */
  readonly pausedUntil: number | null;
}

/** A sliding-window budget with a FIFO queue. */
export interface Budget {
  readonly spec: BudgetSpec;
  /** Resolves when `amount` may be spent now (it is then counted). */
  acquire(amount: number): Promise<void>;
  /** Grants nothing before `until` (ms); counts a hit. */
  pauseUntil(until: number): void;
  stats(): BudgetStats;
}

interface Waiter {
  readonly amount: number;
  readonly resolve: () => void;
}

const defaultTimers: LimiterTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Creates one budget; see the module comment for its guarantees. */
export function createBudget(spec: BudgetSpec, clock: Clock, timers: LimiterTimers = defaultTimers): Budget {
  if (!(spec.capacity > 0) || !(spec.windowMs > 0)) throw new Error(`budget ${spec.name}: capacity and windowMs must be positive`);
  const grants: { at: number; amount: number }[] = [];
  let head = 0;
  let used = 0;
  const queue: Waiter[] = [];
  let requests = 0;
  let total = 0;
  let hits = 0;
  let pausedUntil = 0;
  let timer: unknown = null;
  let timerAt = Infinity;

  const evict = (now: number) => {
    // A grant leaves the window one ms late: clocks tick in whole ms, and a window measured
    // with a finer clock (the venue's) must not catch a grant at each of its two edges.
    while (head < grants.length && (grants[head] as { at: number }).at + spec.windowMs < now) {
      used -= (grants[head] as { amount: number }).amount;
      head++;
    }
    // Fractional costs (ccxt's 2.5) must not leave float dust that blocks a full-size grant.
    if (head === grants.length) used = 0;
    if (head > 1024 && head * 2 > grants.length) {
      grants.splice(0, head);
      head = 0;
    }
  };

  const wakeAt = (at: number) => {
    if (timer !== null && timerAt <= at) return;
    if (timer !== null) timers.clearTimeout(timer);
    timerAt = at;
    timer = timers.setTimeout(
      () => {
        timer = null;
        timerAt = Infinity;
        pump();
      },
      Math.max(0, at - clock.now()),
    );
  };

  function pump(): void {
    while (queue.length > 0) {
      const now = clock.now();
      if (now < pausedUntil) return wakeAt(pausedUntil);
      evict(now);
      const w = queue[0] as Waiter;
      if (used + w.amount <= spec.capacity + 1e-9) {
        grants.push({ at: now, amount: w.amount });
        used += w.amount;
        requests++;
        total += w.amount;
        queue.shift();
        w.resolve();
        continue;
      }
      // Wait until enough of the oldest grants leave the window.
      let free = spec.capacity - used;
      let i = head;
      while (free < w.amount && i < grants.length) free += (grants[i++] as { amount: number }).amount;
      return wakeAt((grants[i - 1] as { at: number }).at + spec.windowMs + 1);
    }
  }

  return {
    spec,
    acquire(amount) {
      if (!(amount >= 0)) return Promise.reject(new Error(`budget ${spec.name}: invalid amount ${amount}`));
      if (amount === 0) return Promise.resolve();
      // A request heavier than the whole budget still goes, alone in an otherwise empty window.
      const a = Math.min(amount, spec.capacity);
      return new Promise<void>((resolve) => {
        queue.push({ amount: a, resolve });
        if (queue.length === 1) pump();
      });
    },
    pauseUntil(until) {
      hits++;
      if (until > pausedUntil) pausedUntil = until;
      if (queue.length > 0) wakeAt(pausedUntil);
    },
    stats() {
      evict(clock.now());
      return {
        name: spec.name,
        measure: spec.measure,
        capacity: spec.capacity,
        windowMs: spec.windowMs,
        requests,
        total,
        used,
        queued: queue.length,
        hits,
        pausedUntil: pausedUntil > clock.now() ? pausedUntil : null,
      };
    },
  };
}

/** The venues the ccxt adapter supports. */
export type CcxtVenue = 'binanceusdm' | 'bybit' | 'okx' | 'bitget';

/** What one HTTP request costs. */
export interface RequestCost {
  /** The venue's weight (Binance's REQUEST_WEIGHT, or ccxt's cost units elsewhere). */
  readonly weight: number;
  /** Order placements it makes (counted against order-rate budgets). */
  readonly orders?: number;
}

/** A rate-limit response from the venue, as the adapter saw it. */
export interface RateLimitHit {
  /** HTTP status (429, 418, 403…) or the venue's code for body-level limits. */
  readonly status: number;
  /** Back off this long (from Retry-After or a reset timestamp), or null for the default. */
  readonly retryAfterMs: number | null;
  /** `ip` pauses every account on the IP; `account` only this one. */
  readonly scope: 'ip' | 'account';
}

/** The limits one exchange account is subject to: its own budgets and its IP's. */
export interface AccountLimiter {
  readonly venue: CcxtVenue;
  readonly account: string;
  /** Waits for the account's budgets, then the IP's (FIFO in each). */
  acquire(cost: RequestCost): Promise<void>;
  /** Reports a 429/418: pauses the IP (or account) budgets for Retry-After. */
  rateLimited(hit: RateLimitHit): void;
  stats(): { readonly account: readonly BudgetStats[]; readonly ip: readonly BudgetStats[] };
}

/** Budgets per venue: per account and per outgoing IP. */
export interface VenueBudgets {
  readonly account: readonly BudgetSpec[];
  readonly ip: readonly BudgetSpec[];
}

/**
 * Published limits, with ccxt's cost units where the venue's own are per endpoint:
 * Binance USDⓈ-M 2400 weight/min per IP, 300 orders/10 s and 1200 orders/min per account;
 * Bybit 600 requests/5 s per IP and ccxt's 50 cost units/s per account (its per-UID endpoint
 * limits folded into one bucket); OKX and Bitget from ccxt's `rateLimit` (110 ms, 50 ms).
 */
export const DEFAULT_BUDGETS: Readonly<Record<CcxtVenue, VenueBudgets>> = {
  binanceusdm: {
    ip: [{ name: 'weight/1m', measure: 'weight', capacity: 2400, windowMs: 60_000 }],
    account: [
      { name: 'orders/10s', measure: 'orders', capacity: 300, windowMs: 10_000 },
      { name: 'orders/1m', measure: 'orders', capacity: 1200, windowMs: 60_000 },
    ],
  },
  bybit: {
    ip: [{ name: 'requests/5s', measure: 'requests', capacity: 600, windowMs: 5_000 }],
    account: [{ name: 'cost/1s', measure: 'weight', capacity: 50, windowMs: 1_000 }],
  },
  okx: {
    ip: [{ name: 'requests/2s', measure: 'requests', capacity: 40, windowMs: 2_000 }],
    account: [{ name: 'cost/1s', measure: 'weight', capacity: 9, windowMs: 1_000 }],
  },
  bitget: {
    ip: [{ name: 'requests/1m', measure: 'requests', capacity: 6000, windowMs: 60_000 }],
    account: [{ name: 'cost/1s', measure: 'weight', capacity: 20, windowMs: 1_000 }],
  },
};

/** Counters of one exchange + IP, for the console. */
export interface ExchangeLimitStats {
  readonly venue: CcxtVenue;
  readonly ip: string;
  readonly accounts: number;
  /** Requests granted on the IP. */
  readonly requests: number;
  /** Weight (or requests) granted inside the IP's current window, and its capacity. */
  readonly weightUsed: number;
  readonly weightCapacity: number;
  /** Rate-limit responses from the venue (IP and account scope). */
  readonly rateLimitHits: number;
  /** Callers waiting on the IP's and its accounts' budgets. */
  readonly queued: number;
  readonly pausedUntil: number | null;
}

/** Every limiter of a process: one per account, one per exchange + IP, shared by all traders. */
export interface RateLimits {
  /** The limiter of an account (created once, then shared); `ip` names the outgoing IP. */
  account(venue: CcxtVenue, accountKey: string, ip?: string): AccountLimiter;
  stats(): readonly ExchangeLimitStats[];
}

/** Options of {@link createRateLimits}. */
export interface RateLimitsOptions {
  readonly clock: Clock;
  readonly timers?: LimiterTimers;
  /** Per-venue overrides of {@link DEFAULT_BUDGETS}. */
  readonly budgets?: Partial<Record<CcxtVenue, VenueBudgets>>;
  /** Back-off when a 429 (default 5 s) or a ban (default 60 s) comes without Retry-After. */
  readonly defaultBackoffMs?: { readonly rateLimit?: number; readonly ban?: number };
}

interface IpEntry {
  readonly venue: CcxtVenue;
  readonly ip: string;
  readonly budgets: readonly Budget[];
  readonly accounts: Map<string, { readonly budgets: readonly Budget[]; readonly limiter: AccountLimiter }>;
  hits: number;
}

const amountOf = (b: Budget, cost: RequestCost): number =>
  b.spec.measure === 'weight' ? cost.weight : b.spec.measure === 'requests' ? 1 : (cost.orders ?? 0);

/** Creates the registry of rate limits. */
export function createRateLimits(opts: RateLimitsOptions): RateLimits {
  const { clock } = opts;
  const timers = opts.timers ?? defaultTimers;
  const ips = new Map<string, IpEntry>();
  const banMs = opts.defaultBackoffMs?.ban ?? 60_000;
  const limitMs = opts.defaultBackoffMs?.rateLimit ?? 5_000;
  const budgetsOf = (venue: CcxtVenue): VenueBudgets => opts.budgets?.[venue] ?? DEFAULT_BUDGETS[venue];

  const ipEntry = (venue: CcxtVenue, ip: string): IpEntry => {
    const key = `${venue}|${ip}`;
    let e = ips.get(key);
    if (!e) {
      e = { venue, ip, budgets: budgetsOf(venue).ip.map((s) => createBudget(s, clock, timers)), accounts: new Map(), hits: 0 };
      ips.set(key, e);
    }
    return e;
  };

  return {
    account(venue, accountKey, ip = 'default') {
      const e = ipEntry(venue, ip);
      const existing = e.accounts.get(accountKey);
      if (existing) return existing.limiter;
      const own = budgetsOf(venue).account.map((s) => createBudget(s, clock, timers));
      const limiter: AccountLimiter = {
        venue,
        account: accountKey,
        async acquire(cost) {
          for (const b of own) await b.acquire(amountOf(b, cost));
          for (const b of e.budgets) await b.acquire(amountOf(b, cost));
        },
        rateLimited(hit) {
          const ban = hit.status === 418 || hit.status === 403;
          const until = clock.now() + (hit.retryAfterMs ?? (ban ? banMs : limitMs));
          e.hits++;
          for (const b of hit.scope === 'ip' ? e.budgets : own) b.pauseUntil(until);
        },
        stats: () => ({ account: own.map((b) => b.stats()), ip: e.budgets.map((b) => b.stats()) }),
      };
      e.accounts.set(accountKey, { budgets: own, limiter });
      return limiter;
    },
    stats() {
      return [...ips.values()].map((e) => {
        const ip = e.budgets.map((b) => b.stats());
        const acc = [...e.accounts.values()].flatMap((a) => a.budgets.map((b) => b.stats()));
        const main = ip[0];
        const paused = [...ip, ...acc].map((s) => s.pausedUntil).filter((x): x is number => x !== null);
        return {
          venue: e.venue,
          ip: e.ip,
          accounts: e.accounts.size,
          requests: main?.requests ?? 0,
          weightUsed: main?.used ?? 0,
          weightCapacity: main?.capacity ?? 0,
          rateLimitHits: e.hits,
          queued: [...ip, ...acc].reduce((n, s) => n + s.queued, 0),
          pausedUntil: paused.length > 0 ? Math.max(...paused) : null,
        };
      });
    },
  };
}
