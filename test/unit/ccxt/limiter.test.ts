import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBudget, createRateLimits, DEFAULT_BUDGETS, type BudgetSpec } from '../../../runtime/exchange/ccxt/limiter.ts';
import { fakeTime } from './fake-time.ts';

const spec = (over: Partial<BudgetSpec> = {}): BudgetSpec => ({ name: 'weight', measure: 'weight', capacity: 50, windowMs: 1000, ...over });

/** The largest weight granted inside any window of `windowMs` ending at a grant. */
function maxInWindow(grants: readonly { at: number; w: number }[], windowMs: number): number {
  let max = 0;
  for (const g of grants) {
    const sum = grants.filter((x) => x.at > g.at - windowMs && x.at <= g.at).reduce((n, x) => n + x.w, 0);
    max = Math.max(max, sum);
  }
  return max;
}

describe('a sliding-window budget', () => {
  it('grants at once while the window has room and counts what it granted', async () => {
    const t = fakeTime(0);
    const b = createBudget(spec(), t.clock, t.timers);
    await b.acquire(20);
    await b.acquire(30);
    expect(b.stats()).toMatchObject({ requests: 2, total: 50, used: 50, queued: 0 });
  });

  it('never exceeds the capacity in any window while many callers compete, and serves them in arrival order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 20, max: 60 }),
        fc.integer({ min: 100, max: 2000 }),
        async (weights, capacity, windowMs) => {
          const t = fakeTime(1_000_000);
          const b = createBudget(spec({ capacity, windowMs }), t.clock, t.timers);
          const grants: { at: number; w: number; i: number }[] = [];
          const all = weights.map((w, i) => b.acquire(w).then(() => grants.push({ at: t.clock.now(), w, i })));
          let guard = 0;
          while (grants.length < weights.length && guard++ < 10_000) await t.advance(windowMs / 10);
          await Promise.all(all);
          expect(grants.map((g) => g.i)).toEqual(weights.map((_, i) => i));
          expect(maxInWindow(grants, windowMs)).toBeLessThanOrEqual(capacity);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('makes a heavy caller wait for room instead of letting lighter ones overtake it', async () => {
    const t = fakeTime(0);
    const b = createBudget(spec({ capacity: 10, windowMs: 1000 }), t.clock, t.timers);
    const order: string[] = [];
    await b.acquire(6);
    const heavy = b.acquire(8).then(() => order.push('heavy'));
    const light = b.acquire(1).then(() => order.push('light'));
    // A grant leaves the window one ms after it (integer clocks): the heavy one waits 1001 ms.
    await t.advance(1000);
    expect(order).toEqual([]);
    expect(b.stats().queued).toBe(2);
    await t.advance(1);
    await Promise.all([heavy, light]);
    expect(order).toEqual(['heavy', 'light']);
  });

  it('lets a request heavier than the whole budget through alone in an empty window', async () => {
    const t = fakeTime(0);
    const b = createBudget(spec({ capacity: 10 }), t.clock, t.timers);
    await b.acquire(40);
    expect(b.stats().used).toBe(10);
  });

  it('grants nothing while paused after a rate-limit hit, then resumes', async () => {
    const t = fakeTime(0);
    const b = createBudget(spec(), t.clock, t.timers);
    b.pauseUntil(5000);
    let granted = false;
    const p = b.acquire(1).then(() => (granted = true));
    await t.advance(4999);
    expect(granted).toBe(false);
    expect(b.stats()).toMatchObject({ hits: 1, pausedUntil: 5000, queued: 1 });
    await t.advance(1);
    await p;
    expect(granted).toBe(true);
    expect(b.stats().pausedUntil).toBeNull();
  });

  it('keeps fractional costs from leaving dust that blocks a full-size grant', async () => {
    const t = fakeTime(0);
    const b = createBudget(spec({ capacity: 1 }), t.clock, t.timers);
    for (let i = 0; i < 10; i++) {
      await Promise.all([b.acquire(0.1), b.acquire(0.2)].map((p) => p));
      const done = b.acquire(0.7);
      await t.advance(1000);
      await done;
      await t.advance(1000);
    }
    const full = b.acquire(1);
    await t.advance(1000);
    await full;
    expect(b.stats().used).toBeLessThanOrEqual(1);
  });
});

describe('the rate limits of accounts and IPs', () => {
  it('hands every trader of an account the same limiter', () => {
    const t = fakeTime(0);
    const limits = createRateLimits({ clock: t.clock, timers: t.timers });
    expect(limits.account('binanceusdm', 'acct-1')).toBe(limits.account('binanceusdm', 'acct-1'));
    expect(limits.account('binanceusdm', 'acct-2')).not.toBe(limits.account('binanceusdm', 'acct-1'));
  });

  it('shares the IP weight budget between accounts of the same exchange and IP', async () => {
    const t = fakeTime(0);
    const limits = createRateLimits({
      clock: t.clock,
      timers: t.timers,
      budgets: { binanceusdm: { ip: [{ name: 'weight/1m', measure: 'weight', capacity: 20, windowMs: 60_000 }], account: [] } },
    });
    const a = limits.account('binanceusdm', 'a');
    const b = limits.account('binanceusdm', 'b');
    const other = limits.account('binanceusdm', 'c', '10.0.0.2');
    await a.acquire({ weight: 15 });
    let bGranted = false;
    const pb = b.acquire({ weight: 10 }).then(() => (bGranted = true));
    await other.acquire({ weight: 20 });
    await t.advance(60_000);
    expect(bGranted).toBe(false);
    await t.advance(1);
    await pb;
    const [first, second] = limits.stats();
    expect(first).toMatchObject({ venue: 'binanceusdm', ip: 'default', accounts: 2, requests: 2, weightUsed: 10, weightCapacity: 20 });
    expect(second).toMatchObject({ ip: '10.0.0.2', accounts: 1, requests: 1, weightUsed: 0 });
  });

  it('counts order placements against the account order budgets only', async () => {
    const t = fakeTime(0);
    const limits = createRateLimits({
      clock: t.clock,
      timers: t.timers,
      budgets: {
        binanceusdm: {
          ip: DEFAULT_BUDGETS.binanceusdm.ip,
          account: [{ name: 'orders/10s', measure: 'orders', capacity: 2, windowMs: 10_000 }],
        },
      },
    });
    const a = limits.account('binanceusdm', 'a');
    await a.acquire({ weight: 1, orders: 1 });
    await a.acquire({ weight: 5 });
    await a.acquire({ weight: 1, orders: 1 });
    let third = false;
    const p = a.acquire({ weight: 1, orders: 1 }).then(() => (third = true));
    await limits.account('binanceusdm', 'b').acquire({ weight: 1, orders: 1 });
    await t.advance(10_000);
    expect(third).toBe(false);
    await t.advance(1);
    await p;
    expect(a.stats().account[0]).toMatchObject({ requests: 3, total: 3 });
  });

  it('backs off the whole IP for Retry-After when one account is rate limited', async () => {
    const t = fakeTime(0);
    const limits = createRateLimits({ clock: t.clock, timers: t.timers });
    const a = limits.account('bybit', 'a');
    const b = limits.account('bybit', 'b');
    a.rateLimited({ status: 429, retryAfterMs: 3000, scope: 'ip' });
    let granted = false;
    const p = b.acquire({ weight: 1 }).then(() => (granted = true));
    await t.advance(2999);
    expect(granted).toBe(false);
    expect(limits.stats()[0]).toMatchObject({ rateLimitHits: 1, queued: 1, pausedUntil: 3000 });
    await t.advance(1);
    await p;
    expect(limits.stats()[0]).toMatchObject({ queued: 0, pausedUntil: null });
  });

  it('pauses only the account for an account-scoped limit, with the default back-off when no Retry-After came', async () => {
    const t = fakeTime(0);
    const limits = createRateLimits({ clock: t.clock, timers: t.timers, defaultBackoffMs: { rateLimit: 2000, ban: 60_000 } });
    const a = limits.account('bybit', 'a');
    const b = limits.account('bybit', 'b');
    a.rateLimited({ status: 10006, retryAfterMs: null, scope: 'account' });
    await b.acquire({ weight: 1 });
    let granted = false;
    const p = a.acquire({ weight: 1 }).then(() => (granted = true));
    await t.advance(1999);
    expect(granted).toBe(false);
    await t.advance(1);
    await p;
    a.rateLimited({ status: 418, retryAfterMs: null, scope: 'ip' });
    expect(limits.stats()[0]!.pausedUntil).toBe(2000 + 60_000);
  });
});
