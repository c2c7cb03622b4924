import { describe, expect, it } from 'vitest';
import { COLLECT_SLICE, createMetricsCollector, type MeasuredTrader } from '../../../runtime/metrics/index.ts';
import type { MetricRecord, MetricsRepo } from '../../../runtime/store/types.ts';
import { processTurns } from '../../../runtime/turns.ts';

const MINUTE = 60_000;

const repo = (): MetricsRepo & { inserts: MetricRecord[][] } => {
  const inserts: MetricRecord[][] = [];
  return {
    inserts,
    async insertMany(rows) {
      inserts.push([...rows]);
    },
    latest: async () => [],
    series: async () => [],
  };
};

/** `n` traders under `managers` managers and two users; reads are logged in `log`, one failing every seventh. */
function fleet(n: number, managers: number, log: string[]): MeasuredTrader[] {
  return Array.from({ length: n }, (_, i) => ({
    traderId: `t-${i}`,
    managerId: `m-${i % managers}`,
    ...(i % 3 === 0 ? { userId: `u-${i % 2}` } : {}),
    initialCapital: '1000',
    read() {
      log.push(`read t-${i}`);
      if (i % 7 === 6) throw new Error(`venue timeout ${i}`);
      return { equity: (1000 + ((i * 37) % 101) - 50).toFixed(2), unrealizedPnl: String((i % 5) - 2) };
    },
  }));
}

describe('createMetricsCollector: slices', () => {
  it('reads 50 traders at a time by default, waiting behind trading work between slices', async () => {
    expect(COLLECT_SLICE).toBe(50);
    const log: string[] = [];
    const collector = createMetricsCollector({ clock: { now: () => MINUTE }, repo: repo(), traders: () => fleet(120, 10, log) });
    const done = collector.collect();
    // The first slice has started; a trader's step queued now goes before the next slice.
    processTurns.run(() => log.push('trade'));
    await done;
    expect(log.filter((l) => l.startsWith('read')).length).toBe(120);
    expect(log.indexOf('trade')).toBe(50);
  });

  it('writes exactly the rows of an unsliced collect, failures and users included, in the same order', async () => {
    const run = async (sliceSize: number) => {
      const r = repo();
      const errors: string[] = [];
      let t = MINUTE;
      let turns = 0;
      const list = fleet(23, 4, []);
      const collector = createMetricsCollector({
        clock: { now: () => t },
        repo: r,
        traders: () => list,
        onReadError: (id) => errors.push(id),
        sliceSize,
        yieldToLoop: async () => {
          turns += 1;
        },
      });
      const samples = [];
      for (let k = 0; k < 3; k++) {
        samples.push(await collector.collect());
        t += MINUTE;
        if (k === 0) list.splice(5, 2);
      }
      return { samples, inserts: r.inserts, errors, report: collector.lastReport(), accs: collector.accumulators(), turns };
    };
    const sliced = await run(2);
    const whole = await run(1_000_000);
    expect(sliced.turns).toBeGreaterThan(3 * 20);
    expect(sliced.samples).toEqual(whole.samples);
    expect(sliced.inserts).toEqual(whole.inserts);
    expect(sliced.errors).toEqual(whole.errors);
    expect(sliced.report).toEqual(whole.report);
    expect(sliced.accs).toEqual(whole.accs);
    expect(whole.samples[0]!.map((r) => `${r.scope}:${r.scopeId}`).slice(-7)).toEqual([
      'manager:m-0',
      'manager:m-1',
      'manager:m-2',
      'manager:m-3',
      'user:u-0',
      'user:u-1',
      'platform:platform',
    ]);
  });

  it('keeps every read of a slow venue in flight together', async () => {
    const started: string[] = [];
    const pending: (() => void)[] = [];
    const traders: MeasuredTrader[] = Array.from({ length: 5 }, (_, i) => ({
      traderId: `t-${i}`,
      managerId: 'm-1',
      initialCapital: '1000',
      read: () =>
        new Promise((resolve) => {
          started.push(`t-${i}`);
          pending.push(() => resolve({ equity: '1000', unrealizedPnl: '0' }));
        }),
    }));
    const collector = createMetricsCollector({ clock: { now: () => MINUTE }, repo: repo(), traders: () => traders, sliceSize: 2 });
    const done = collector.collect();
    while (started.length < 5) await new Promise<void>((r) => setImmediate(r));
    expect(pending).toHaveLength(5);
    for (const resolve of pending) resolve();
    expect(await done).toHaveLength(7);
  });
});
