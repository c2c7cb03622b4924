/**
 * wave: from candle close until every trader's orders of that cycle are on the paper exchange
 * and recorded, for 10,000 traders under 100 managers. Traders catch up on the latest candle as
 * they load (the runtime's start semantics), so positions open before the timed waves; the first
 * timed wave is reported apart, the rest as steady state.
 */
import type { BusMessage } from '../runtime/events/bus.ts';
import {
  allLoaded,
  buildFleet,
  defaultDb,
  MINUTE,
  nodeEnv,
  progress,
  row,
  startBenchNode,
  waitFor,
  type BenchNode,
  type Benchmark,
  type BenchResult,
} from './lib.ts';
import { scaled } from './scale.ts';

/** One wave's timings (ms from candle close) and counts. */
export interface WaveSample {
  readonly computed: number;
  readonly rebalanced: number;
  readonly recorded: number;
  readonly orders: number;
  readonly cycles: number;
  readonly failed: number;
}

/**
 * Runs one wave and splits it, following the node's live changes on its bus (no polling):
 * every ticked trader past `computing` (targets back from the pool), then back in
 * `running.idle` with the candle done (orders on the paper exchange and in the orders table),
 * then every batched write stored (events, cycles, states, paper books).
 */
export async function timedWave(b: BenchNode, timeoutMs = 600_000): Promise<WaveSample> {
  const candle = (b.node.lastCandleAt() ?? 0) + MINUTE;
  let expected = 0;
  for (const v of b.node.traders().values()) if (v.detail === 'running.idle' && (v.lastCycleAt ?? -1) < candle) expected++;
  const computed = new Set<string>();
  const done = new Set<string>();
  let failed = 0;
  let orders = 0;
  let t0 = 0;
  let computedAt = -1;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const check = () => {
    if (computedAt < 0 && computed.size >= expected) computedAt = performance.now() - t0;
    if (done.size >= expected) finish();
  };
  // Orders are counted from the event stream; trader progress is read from the live views
  // (the console's row messages are coalesced, so they cannot time individual traders).
  const unsubscribe = b.node.bus.subscribe((m: BusMessage) => {
    if (m.kind === 'event' && m.event.type === 'order.placed') orders++;
  });
  // The poll shares the runtime's thread: it visits only the traders not done yet (a finished
  // trader is swapped out of the list), so its cost shrinks as the wave completes.
  const pending = [...b.node.traders().values()];
  let left = pending.length;
  const scan = () => {
    for (let i = 0; i < left; ) {
      const v = pending[i]!;
      if ((v.lastCycleAt ?? -1) >= candle || v.status === 'error') {
        if (v.status === 'error') failed++;
        computed.add(v.record.id);
        done.add(v.record.id);
        pending[i] = pending[--left]!;
      } else {
        if (v.detail === 'running.rebalancing') computed.add(v.record.id);
        i++;
      }
    }
    check();
  };
  const poll = setInterval(scan, 20);
  try {
    b.clock.advance(MINUTE);
    t0 = performance.now();
    await b.node.step();
    if (b.node.lastCandleAt() !== candle) throw new Error(`expected candle ${candle}, the node is at ${b.node.lastCandleAt()}`);
    check();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`wave: ${done.size} of ${expected} traders done after ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
    const rebalanced = performance.now() - t0;
    await b.node.flush();
    const recorded = performance.now() - t0;
    return { computed: computedAt, rebalanced, recorded, orders, cycles: done.size - failed, failed };
  } finally {
    clearInterval(poll);
    unsubscribe();
  }
}

/** The wave benchmark. */
export const waveBench: Benchmark = {
  name: 'wave',
  description: 'candle close → every order of the cycle on the paper exchange and recorded (10,000 traders)',
  async run(): Promise<BenchResult> {
    const traders = scaled(10_000);
    const managers = 100;
    const waves = Number(process.env['BENCH_WAVES'] ?? 5);
    const kind = defaultDb();
    const fleet = await buildFleet(kind, { traders, managers });
    const b = await startBenchNode(nodeEnv(fleet));
    try {
      const t0 = performance.now();
      await b.node.step();
      await waitFor(() => allLoaded(b.node), 600_000);
      await b.node.settle(600_000);
      progress('wave', `${traders} traders loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const samples: WaveSample[] = [];
      for (let i = 0; i < waves; i++) {
        const s = await timedWave(b);
        samples.push(s);
        progress(
          'wave',
          `wave ${i + 1}: computed ${s.computed.toFixed(0)} ms, rebalanced ${s.rebalanced.toFixed(0)} ms, recorded ${s.recorded.toFixed(0)} ms, ${s.orders} orders, ${s.cycles} cycles`,
        );
        if (s.cycles !== traders) throw new Error(`wave ${i + 1}: ${s.cycles} of ${traders} traders completed the cycle`);
      }
      const [first, ...steady] = samples;
      const note = `${traders} traders, ${managers} managers, momentum@1, pool threads ${b.node.pool().stats().threads}`;
      return {
        name: 'wave',
        database: kind,
        params: { traders, managers, waves },
        rows: [
          row('first timed wave: recorded', 'ms', [first!.recorded], { limit: 3000, note: `${first!.orders} orders` }),
          row('steady waves: recorded', 'ms', steady.map((s) => s.recorded), {
            limit: 3000,
            note: `${note}; orders per wave ${steady.map((s) => s.orders).join(', ')}`,
          }),
          row('steady waves: targets computed', 'ms', steady.map((s) => s.computed)),
          row('steady waves: orders on the exchange', 'ms', steady.map((s) => s.rebalanced)),
          row('steady waves: orders per second', 'orders/s', samples.filter((s) => s.orders > 0).map((s) => (s.orders * 1000) / s.recorded), { worse: 'low' }),
        ],
        extra: { samples },
      };
    } finally {
      await b.node.stop();
      await fleet.cleanup();
    }
  },
};
