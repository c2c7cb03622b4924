/**
 * events: rows written per second through the runtime's batched writers, with the producer
 * pushing as fast as it can while the writes run: event and audit rows (`events`, the target),
 * and beside them actor-state upserts and cycle decision records, the other per-wave writes.
 */
import { createBatcher, type Batcher } from '../runtime/events/index.ts';
import type { ActorStateRecord, CycleRecord, EventRecord } from '../runtime/store/index.ts';
import { createBenchDatabase, defaultDb, progress, row, T0, type Benchmark, type BenchResult } from './lib.ts';
import { scaled } from './scale.ts';

/** Pushes `n` rows made by `make` in slices of 1,000 per macrotask, then flushes; returns rows/s. */
async function pump<T>(batcher: Batcher<T>, n: number, make: (i: number) => T): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + 1000);
    for (; i < end; i++) batcher.push(make(i));
    await new Promise((r) => setImmediate(r));
  }
  await batcher.flush();
  return (n * 1000) / (performance.now() - t0);
}

const event = (rep: number, i: number): EventRecord =>
  i % 10 === 0
    ? {
        at: T0 + i,
        type: 'command.pause',
        severity: 'info',
        traderId: `t-${String(i % 10_000).padStart(6, '0')}`,
        managerId: `m-${String(i % 100).padStart(4, '0')}`,
        actor: 'operator',
        message: `operator paused Bot ${i}: bench audit row`,
        data: { reason: 'bench audit row', rep },
      }
    : {
        at: T0 + i,
        type: 'order.placed',
        severity: 'info',
        traderId: `t-${String(i % 10_000).padStart(6, '0')}`,
        managerId: `m-${String(i % 100).padStart(4, '0')}`,
        actor: 'system',
        message: `buy 0.051/0.051 BTCUSDT closed @ 65012.3`,
        data: { cycleId: `t-${i % 10_000}:${T0}`, clientOrderId: `p${String(i).padStart(31, '0')}`, orderId: String(i), status: 'closed' },
      };

const state = (rep: number, i: number): ActorStateRecord => ({
  actorId: `t-${String(i % 10_000).padStart(6, '0')}`,
  kind: 'trader',
  status: i % 2 ? 'running' : 'paused',
  state: { pause: null, pauses: {}, error: null, lastCycleAt: T0 + rep * 60_000 + (i % 7) },
  updatedAt: T0 + i,
});

const cycle = (rep: number, i: number): CycleRecord => ({
  cycleId: `t-${i}:${T0 + rep}`,
  traderId: `t-${String(i).padStart(6, '0')}` as CycleRecord['traderId'],
  strategyRef: 'momentum@1',
  params: { lookback: 20, stopLossPct: 0.03, takeProfitPct: 0.05 },
  candleFrom: T0 - 99 * 60_000,
  candleTo: T0,
  targets: { BTCUSDT: { weight: 0.5, stopLoss: 63_000, takeProfit: 68_000 }, ETHUSDT: { weight: 0.5, stopLoss: 3_100, takeProfit: 3_350 } },
  plan: {
    equity: '10000',
    lines: [
      { order: { symbol: 'BTCUSDT', side: 'buy', amount: '0.076', reduceOnly: false }, risk: { allowed: true }, outcome: { status: 'sent', clientOrderId: 'p1' } },
      { order: { symbol: 'ETHUSDT', side: 'buy', amount: '1.562', reduceOnly: false }, risk: { allowed: true }, outcome: { status: 'sent', clientOrderId: 'p2' } },
    ],
    skipped: [],
    canceled: false,
  },
  status: 'completed',
  error: null,
  startedAt: T0,
  finishedAt: T0 + 5,
});

/** The events benchmark. */
export const eventsBench: Benchmark = {
  name: 'events',
  description: 'event and audit rows written per second under load (batched), plus state and cycle upserts',
  async run(): Promise<BenchResult> {
    const kind = defaultDb();
    const db = await createBenchDatabase(kind);
    const opened = await db.open();
    const { store } = opened;
    const n = scaled(60_000);
    const reps = 5;
    try {
      // The node's settings for each writer (runtime/node.ts).
      const events = createBatcher<EventRecord>({ write: (r) => store.events.appendMany(r), intervalMs: 250, maxRows: 2000 });
      const states = createBatcher<ActorStateRecord>({
        write: (r) => store.actorStates.saveMany(r),
        intervalMs: 200,
        maxRows: 2000,
        key: (r) => r.actorId,
      });
      const cycles = createBatcher<CycleRecord>({ write: (r) => store.cycles.upsertMany(r), intervalMs: 300, maxRows: 2000, key: (r) => r.cycleId });
      await pump(events, 2000, (i) => event(-1, i));
      const ev: number[] = [];
      const st: number[] = [];
      const cy: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        ev.push(await pump(events, n, (i) => event(rep, i)));
        st.push(await pump(states, Math.min(n, 10_000), (i) => state(rep, i)));
        cy.push(await pump(cycles, Math.min(n, 10_000), (i) => cycle(rep, i)));
        progress('events', `rep ${rep + 1}: events ${Math.round(ev[rep]!)} rows/s, states ${Math.round(st[rep]!)}, cycles ${Math.round(cy[rep]!)}`);
      }
      const [stored] = await opened.sql<{ n: number }[]>`SELECT COUNT(*)::int AS n FROM events`;
      if ((stored?.n ?? 0) !== 2000 + reps * n) throw new Error(`expected ${2000 + reps * n} event rows, found ${stored?.n}`);
      return {
        name: 'events',
        database: kind,
        params: { rowsPerRep: n, reps, maxRows: 2000, auditShare: 0.1 },
        rows: [
          row('event + audit rows (batches of 2,000)', 'rows/s', ev, {
            worse: 'low',
            limit: 20_000,
            target: kind === 'postgres' ? '≥ 20,000 rows/s' : '≥ 20,000 rows/s (on PostgreSQL)',
          }),
          row('actor-state upserts (10,000 traders)', 'rows/s', st, { worse: 'low' }),
          row('cycle decision records (JSON plan)', 'rows/s', cy, { worse: 'low' }),
        ],
      };
    } finally {
      await opened.close();
      await db.drop();
    }
  },
};
