/**
 * pause-all: with 10,000 running traders, in the middle of a rebalance wave (once a quarter of
 * the fleet is past computing; the probe runs between the runtime's long synchronous stretches,
 * so in practice while the wave's orders go out), from the Pause All
 * command to every trader's snapshot paused and the order gate closed; then the command's
 * acknowledgement (durable), and the orders the paper exchange accepted after the gate closed.
 *
 * The market clock moves 1 ms at the command, so an order the paper exchange accepted after the
 * gate closed carries a timestamp at or after it; every order placed in the trial is looked up on
 * the exchange by its client id.
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { assign, createActor, setup } from 'xstate';
import { SYNTHETIC_MARKETS } from '../runtime/market/index.ts';
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
import { timedWave } from './wave.ts';

interface Trial {
  readonly fanOutMs: number;
  readonly syncMs: number;
  /** Garbage collection inside the fan-out window (V8's pauses, by the perf_hooks gc entries). */
  readonly gcMs: number;
  readonly ackMs: number;
  readonly pausedAtCommand: number;
  readonly midWave: number;
  readonly ordersInTrial: number;
  readonly ordersAfter: number;
  readonly refused: number;
}

/** GC pauses seen by V8 since the observer started (start time and duration, ms). */
const gcPauses: PerformanceEntry[] = [];
const gcObserver = new PerformanceObserver((list) => gcPauses.push(...list.getEntries()));

/** Milliseconds of GC pause that overlap [from, to] (performance.now() times). */
function gcWithin(from: number, to: number): number {
  let ms = 0;
  for (const e of gcPauses) ms += Math.max(0, Math.min(to, e.startTime + e.duration) - Math.max(from, e.startTime));
  return ms;
}

/**
 * XState's own floor for this fan-out: `n` bare two-state actors (one assign, one observer each,
 * no effects, no children), paused by a direct `send` loop, in the same process and heap as the
 * fleet. What the runtime adds is the difference.
 */
function xstateFloor(n: number, reps: number): number[] {
  const machine = setup({
    types: { context: {} as { pause: { by: string } | null }, events: {} as { type: 'pause'; by: string } | { type: 'resume' } },
  }).createMachine({
    context: { pause: null },
    initial: 'running',
    states: {
      running: { on: { pause: { target: 'paused', actions: assign({ pause: ({ event }) => ({ by: event.by }) }) } } },
      paused: { on: { resume: { target: 'running', actions: assign({ pause: null }) } } },
    },
  });
  const actors = Array.from({ length: n }, () => createActor(machine).start());
  let seen = 0;
  for (const a of actors) a.subscribe(() => void seen++);
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (const a of actors) a.send({ type: 'pause', by: 'bench' });
    out.push(performance.now() - t0);
    for (const a of actors) a.send({ type: 'resume' });
  }
  for (const a of actors) a.stop();
  if (seen < n * reps) throw new Error(`xstate floor: ${seen} notifications for ${n * reps} pauses`);
  return out;
}

async function trial(b: BenchNode, i: number, running: number): Promise<Trial> {
  const { node, clock } = b;
  const placed: { traderId: string; clientOrderId: string }[] = [];
  const candle = (node.lastCandleAt() ?? 0) + MINUTE;
  const past = new Set<string>();
  const unsubscribe = node.bus.subscribe((m: BusMessage) => {
    if (m.kind === 'event') {
      const cid = m.event.data?.['clientOrderId'];
      if (m.event.type === 'order.placed' && typeof cid === 'string' && m.event.traderId) placed.push({ traderId: m.event.traderId, clientOrderId: cid });
    }
  });
  // Progress is read from the live views (the console's row messages are coalesced).
  // The poll shares the runtime's thread: it visits only the traders not yet past computing.
  const pending = [...node.traders().values()];
  let left = pending.length;
  const poll = setInterval(() => {
    for (let i = 0; i < left; ) {
      const v = pending[i]!;
      if (v.detail === 'running.rebalancing' || (v.lastCycleAt ?? -1) >= candle) {
        past.add(v.record.id);
        pending[i] = pending[--left]!;
      } else i++;
    }
  }, 1);
  try {
    clock.advance(MINUTE);
    await node.step();
    // After the first trial the fleet is paused: Resume All makes every trader catch up on the
    // new candle at once (the runtime's resume semantics), which is this trial's wave.
    if (!node.gate.isOpen()) {
      const resumed = await node.api.resumeAll({ by: 'bench' });
      if (!resumed.ok) throw new Error(`trial ${i}: resumeAll refused: ${resumed.error}`);
    }
    // Pause once a quarter of the fleet has its targets: the rest compute or send orders.
    await waitFor(() => past.size >= running / 4, 20_000, 1);
    const midWave = past.size;
    const refusedBefore = node.gate.stats().refused;
    clock.advance(1);
    const pauseAt = clock.now();
    const views = node.traders();
    const t0 = performance.now();
    const ack = node.api.pauseAll({ by: 'bench', reason: `pause-all trial ${i}` });
    const syncMs = performance.now() - t0;
    const unpaused = () => {
      let n = 0;
      for (const v of views.values()) if (v.status !== 'paused' && v.status !== 'error') n++;
      return n;
    };
    const left = unpaused();
    const ok = await waitFor(() => unpaused() === 0 && !node.gate.isOpen(), 10_000, 0);
    const t1 = performance.now();
    const fanOutMs = t1 - t0;
    if (!ok) throw new Error(`trial ${i}: ${unpaused()} traders still not paused after 10 s`);
    const res = await ack;
    const ackMs = performance.now() - t0;
    if (!res.ok) throw new Error(`trial ${i}: pauseAll refused: ${res.error}`);
    await node.settle(120_000);
    let after = 0;
    for (const p of placed) {
      const ex = node.account(p.traderId);
      for (const m of SYNTHETIC_MARKETS) {
        const o = await ex?.fetchOrderByClientId(p.clientOrderId, m.symbol);
        if (o && o.status !== 'rejected' && o.timestamp >= pauseAt) after++;
        if (o) break;
      }
    }
    const refused = node.gate.stats().refused - refusedBefore;
    // Entries are delivered asynchronously: read them after the settle above.
    const gcMs = gcWithin(t0, t1);
    gcPauses.length = 0;
    return { fanOutMs, syncMs, gcMs, ackMs, pausedAtCommand: running - left, midWave, ordersInTrial: placed.length, ordersAfter: after, refused };
  } finally {
    clearInterval(poll);
    unsubscribe();
  }
}

/** The pause-all benchmark. */
export const pauseAllBench: Benchmark = {
  name: 'pause-all',
  description: 'Pause All mid-wave with 10,000 running traders: every snapshot paused + gate closed; orders after',
  async run(): Promise<BenchResult> {
    const traders = scaled(10_000);
    const trials = Number(process.env['BENCH_TRIALS'] ?? 20);
    const kind = defaultDb();
    const fleet = await buildFleet(kind, { traders, managers: 100 });
    const b = await startBenchNode(nodeEnv(fleet));
    try {
      await b.node.step();
      await waitFor(() => allLoaded(b.node), 600_000);
      await b.node.settle(600_000);
      const opening = await timedWave(b);
      progress('pause-all', `${traders} traders loaded; opening wave ${Math.round(opening.recorded)} ms, ${opening.orders} orders`);
      const running = [...b.node.traders().values()].filter((v) => v.status === 'running').length;
      if (running !== traders) throw new Error(`${running} of ${traders} traders running`);
      const results: Trial[] = [];
      gcObserver.observe({ entryTypes: ['gc'] });
      for (let i = 0; i < trials; i++) {
        const t = await trial(b, i, running);
        results.push(t);
        progress(
          'pause-all',
          `trial ${i + 1}: fan-out ${t.fanOutMs.toFixed(1)} ms (sync ${t.syncMs.toFixed(1)}, GC ${t.gcMs.toFixed(1)}), ack ${t.ackMs.toFixed(0)} ms, ` +
            `${t.midWave} past compute at the command, ${t.ordersInTrial} orders in the trial, ${t.ordersAfter} after the gate, ${t.refused} refused`,
        );
      }
      const floor = xstateFloor(running, trials);
      progress('pause-all', `XState floor: ${running} bare actors paused in ${floor.map((f) => f.toFixed(0)).join(', ')} ms`);
      return {
        name: 'pause-all',
        database: kind,
        params: { traders, managers: 100, trials },
        rows: [
          row('command → every snapshot paused + gate closed', 'ms', results.map((t) => t.fanOutMs), { limit: 100 }),
          row('of which garbage collection (V8 pauses)', 'ms', results.map((t) => t.gcMs)),
          row('XState floor: pause sent to as many bare 2-state actors', 'ms', floor),
          row('command acknowledged (states + audit durable)', 'ms', results.map((t) => t.ackMs)),
          row('orders accepted after the gate closed', 'orders', results.map((t) => t.ordersAfter), { limit: 0, target: '0' }),
          row('orders placed in the trial (before the pause)', 'orders', results.map((t) => t.ordersInTrial)),
          row('orders refused by the gate', 'orders', results.map((t) => t.refused)),
        ],
        extra: { trials: results },
      };
    } finally {
      gcObserver.disconnect();
      await b.node.stop();
      await fleet.cleanup();
    }
  },
};
