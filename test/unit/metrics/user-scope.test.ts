/**
 * The collector's `user` rows: one per user whose traders carry a `userId`, summing their PV,
 * with its own drawdown (what the Users page shows as the current MDD).
 */
import { describe, expect, it } from 'vitest';
import { createMetricsCollector, type MeasuredTrader } from '../../../runtime/metrics/index.ts';
import type { MetricRecord, MetricsRepo } from '../../../runtime/store/types.ts';

const MINUTE = 60_000;

function trader(traderId: string, managerId: string, userId: string | undefined, equity: { v: string }): MeasuredTrader {
  return { traderId, managerId, ...(userId ? { userId } : {}), initialCapital: '1000', read: () => ({ equity: equity.v, unrealizedPnl: '0' }) };
}

function collector(list: MeasuredTrader[]) {
  const clock = { t: MINUTE, now: () => clock.t };
  const inserts: MetricRecord[][] = [];
  const repo: MetricsRepo = {
    insertMany: async (rows) => void inserts.push([...rows]),
    latest: async () => [],
    series: async () => [],
  };
  return { clock, inserts, c: createMetricsCollector({ clock, repo, traders: () => list }) };
}

const find = (rows: readonly MetricRecord[], scope: MetricRecord['scope'], id: string) => rows.find((r) => r.scope === scope && r.scopeId === id);

describe('user rows of the metrics collector', () => {
  it('writes one row per user across managers, after the manager rows', async () => {
    const a = { v: '1100' };
    const b = { v: '900' };
    const c = { v: '1000' };
    const { c: col } = collector([trader('t-1', 'm-1', 'u-1', a), trader('t-2', 'm-2', 'u-1', b), trader('t-3', 'm-1', 'u-2', c)]);
    const rows = await col.collect();
    expect(rows.map((r) => `${r.scope}:${r.scopeId}`)).toEqual([
      'trader:t-1',
      'trader:t-2',
      'trader:t-3',
      'manager:m-1',
      'manager:m-2',
      'user:u-1',
      'user:u-2',
      'platform:platform',
    ]);
    expect(find(rows, 'user', 'u-1')).toMatchObject({ pv: '2000', roe: 0, mdd: 0 });
    expect(col.latest('user', 'u-2')).toMatchObject({ pv: '1000' });
  });

  it("tracks a user's drawdown from the sum of their traders", async () => {
    const a = { v: '1000' };
    const b = { v: '1000' };
    const { clock, c: col } = collector([trader('t-1', 'm-1', 'u-1', a), trader('t-2', 'm-1', 'u-1', b)]);
    await col.collect();
    a.v = '700';
    clock.t += MINUTE;
    await col.collect();
    a.v = '1100';
    clock.t += MINUTE;
    const rows = await col.collect();
    // Peak 2000, trough 1700: 15 % drawdown, kept after the recovery.
    expect(find(rows, 'user', 'u-1')?.mdd).toBeCloseTo(0.15, 12);
    expect(find(rows, 'user', 'u-1')?.pv).toBe('2100');
  });

  it('writes no user row for traders without a user', async () => {
    const { c: col } = collector([trader('t-1', 'm-1', undefined, { v: '1000' })]);
    expect((await col.collect()).some((r) => r.scope === 'user')).toBe(false);
  });
});
