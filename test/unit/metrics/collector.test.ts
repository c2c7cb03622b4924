import { describe, expect, it } from 'vitest';
import { createMetricsCollector, type MeasuredTrader, type MetricsCollectorDeps, type TraderReading } from '../../../runtime/metrics/index.ts';
import type { MetricRecord, MetricsRepo } from '../../../runtime/store/types.ts';

const MINUTE = 60_000;

function fakeRepo(fail = false) {
  const inserts: MetricRecord[][] = [];
  const repo: MetricsRepo = {
    async insertMany(rows) {
      if (fail) throw new Error('database is down');
      inserts.push([...rows]);
    },
    async latest() {
      return [];
    },
    async series() {
      return [];
    },
  };
  return { repo, inserts };
}

/** A trader whose equity the test sets; `fail` makes its next reads throw. */
function fakeTrader(traderId: string, managerId: string, initialCapital: string, equity: string, upnl = '0') {
  const state = { equity, upnl, fail: null as string | null, sync: false };
  const trader: MeasuredTrader = {
    traderId,
    managerId,
    initialCapital,
    read(): Promise<TraderReading> | TraderReading {
      if (state.fail) {
        if (state.sync) throw new Error(state.fail);
        return Promise.reject(new Error(state.fail));
      }
      const r = { equity: state.equity, unrealizedPnl: state.upnl };
      return state.sync ? r : Promise.resolve(r);
    },
  };
  return { trader, state };
}

function setup(list: MeasuredTrader[], over: Partial<MetricsCollectorDeps> = {}) {
  const clock = { t: MINUTE, now: () => clock.t };
  const { repo, inserts } = fakeRepo();
  const errors: string[] = [];
  const collector = createMetricsCollector({
    clock,
    repo,
    traders: () => list,
    onReadError: (id) => errors.push(id),
    ...over,
  });
  return { clock, collector, inserts, errors };
}

const row = (rows: readonly MetricRecord[], scope: MetricRecord['scope'], id: string) => rows.find((r) => r.scope === scope && r.scopeId === id);

describe('createMetricsCollector', () => {
  it('writes one row per trader, per manager and for the platform in a single insert', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1100', '40');
    const b = fakeTrader('t-2', 'm-1', '1000', '900', '-10');
    const c = fakeTrader('t-3', 'm-2', '500', '500');
    const { collector, inserts } = setup([a.trader, b.trader, c.trader]);

    const rows = await collector.collect();

    expect(inserts).toEqual([rows]);
    expect(rows.map((r) => `${r.scope}:${r.scopeId}`)).toEqual([
      'trader:t-1',
      'trader:t-2',
      'trader:t-3',
      'manager:m-1',
      'manager:m-2',
      'platform:platform',
    ]);
    expect(row(rows, 'trader', 't-1')).toEqual({ scope: 'trader', scopeId: 't-1', at: MINUTE, pv: '1100', roe: 0.1, upnl: '40', sharpe: null, mdd: 0 });
    expect(row(rows, 'manager', 'm-1')).toMatchObject({ pv: '2000', roe: 0, upnl: '30' });
    expect(row(rows, 'platform', 'platform')).toMatchObject({ pv: '2500', roe: 0, upnl: '30' });
  });

  it('tracks drawdown and ROE per scope across samples', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const b = fakeTrader('t-2', 'm-1', '1000', '1000');
    const { clock, collector } = setup([a.trader, b.trader]);
    await collector.collect();
    a.state.equity = '800';
    clock.t += MINUTE;
    const rows = await collector.collect();
    expect(row(rows, 'trader', 't-1')).toMatchObject({ pv: '800', roe: -0.2 });
    expect(row(rows, 'trader', 't-1')?.mdd).toBeCloseTo(0.2, 12);
    expect(row(rows, 'manager', 'm-1')).toMatchObject({ pv: '1800', roe: -0.1 });
    expect(row(rows, 'manager', 'm-1')?.mdd).toBeCloseTo(0.1, 12);
    expect(row(rows, 'trader', 't-2')?.mdd).toBe(0);
  });

  it('skips a trader whose read fails, counts it and still measures the others', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const b = fakeTrader('t-2', 'm-1', '1000', '1200');
    b.state.fail = 'venue timeout';
    b.state.sync = true;
    const { collector, errors } = setup([a.trader, b.trader]);

    const rows = await collector.collect();

    expect(rows.map((r) => `${r.scope}:${r.scopeId}`)).toEqual(['trader:t-1', 'manager:m-1', 'platform:platform']);
    expect(row(rows, 'manager', 'm-1')).toMatchObject({ pv: '1000', roe: 0 });
    expect(errors).toEqual(['t-2']);
    expect(collector.lastReport()).toEqual({ at: MINUTE, written: 3, failed: [{ traderId: 't-2', error: 'venue timeout' }] });
  });

  it('counts an equity that is not a decimal as a failed read', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', 'NaN?');
    const { collector } = setup([a.trader]);
    expect(await collector.collect()).toEqual([]);
    expect(collector.lastReport()?.failed.map((f) => f.traderId)).toEqual(['t-1']);
  });

  it('keeps a failed trader at its last known value in the sums, so a failed read is no drawdown', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const b = fakeTrader('t-2', 'm-1', '1000', '1000');
    const { clock, collector } = setup([a.trader, b.trader]);
    await collector.collect();
    b.state.fail = 'venue timeout';
    clock.t += MINUTE;
    const rows = await collector.collect();
    expect(row(rows, 'trader', 't-2')).toBeUndefined();
    expect(row(rows, 'manager', 'm-1')).toMatchObject({ pv: '2000', mdd: 0 });
    expect(collector.latest('trader', 't-2')).toMatchObject({ at: MINUTE, pv: '1000' });
  });

  it('treats a trader joining or leaving a manager as a capital flow, not a return', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const b = fakeTrader('t-2', 'm-1', '5000', '5000');
    const list = [a.trader];
    const { clock, collector } = setup(list);
    await collector.collect();

    list.push(b.trader);
    clock.t += MINUTE;
    let rows = await collector.collect();
    expect(row(rows, 'manager', 'm-1')).toMatchObject({ pv: '6000', roe: 0, mdd: 0 });

    list.splice(1, 1);
    clock.t += MINUTE;
    rows = await collector.collect();
    expect(row(rows, 'manager', 'm-1')).toMatchObject({ pv: '1000', roe: 0, mdd: 0 });
    const acc = collector.accumulators()['manager:m-1'] as { count: number; mean: number };
    expect(acc).toMatchObject({ count: 2, mean: 0 });
  });

  it('writes nothing when asked twice for the same instant', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const { collector, inserts } = setup([a.trader]);
    await collector.collect();
    expect(await collector.collect()).toEqual([]);
    expect(inserts).toHaveLength(1);
  });

  it('joins a collect already in flight instead of starting another', async () => {
    let release: (r: TraderReading) => void = () => undefined;
    const slow: MeasuredTrader = {
      traderId: 't-1',
      managerId: 'm-1',
      initialCapital: '1000',
      read: () => new Promise<TraderReading>((resolve) => (release = resolve)),
    };
    const { collector, inserts } = setup([slow]);
    const first = collector.collect();
    const second = collector.collect();
    release({ equity: '1000', unrealizedPnl: '0' });
    expect(await second).toBe(await first);
    expect(inserts).toHaveLength(1);
  });

  it('returns the latest row per scope and id, and null for an unknown one', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const { clock, collector } = setup([a.trader]);
    expect(collector.latest('trader', 't-1')).toBeNull();
    await collector.collect();
    a.state.equity = '1010';
    clock.t += MINUTE;
    await collector.collect();
    expect(collector.latest('trader', 't-1')).toMatchObject({ at: 2 * MINUTE, pv: '1010' });
    expect(collector.latest('manager', 'm-1')).toMatchObject({ at: 2 * MINUTE, pv: '1010' });
    expect(collector.latest('platform', 'platform')).toMatchObject({ at: 2 * MINUTE });
    expect(collector.latest('manager', 'm-404')).toBeNull();
  });

  it('reports a Sharpe ratio once 30 per-minute returns are known', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const { clock, collector } = setup([a.trader]);
    let rows: readonly MetricRecord[] = [];
    for (let i = 0; i <= 30; i++) {
      a.state.equity = String(1000 + (i % 2 === 0 ? 2 * i : i));
      rows = await collector.collect();
      if (i === 29) expect(row(rows, 'trader', 't-1')?.sharpe).toBeNull();
      clock.t += MINUTE;
    }
    expect(row(rows, 'trader', 't-1')?.sharpe).toEqual(expect.any(Number));
  });

  it('exposes its accumulators as plain JSON keyed by scope and id', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const { collector } = setup([a.trader]);
    await collector.collect();
    const accs = collector.accumulators();
    expect(Object.keys(accs).sort()).toEqual(['manager:m-1', 'platform:platform', 'trader:t-1']);
    expect(JSON.parse(JSON.stringify(accs))).toEqual(accs);
  });

  it('rejects when the insert fails', async () => {
    const a = fakeTrader('t-1', 'm-1', '1000', '1000');
    const { repo } = fakeRepo(true);
    const { collector } = setup([a.trader], { repo });
    await expect(collector.collect()).rejects.toThrow('database is down');
  });
});
