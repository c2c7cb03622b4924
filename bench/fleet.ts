/**
 * fleet: 10,000 and 50,000 traders under 100 managers, each rebalancing every simulated minute,
 * each run in a child process so the figures are the runtime's own: RSS with the database
 * outside (PostgreSQL), heap per trader (against an empty node), event-loop lag during the
 * waves; the same runs on embedded PGlite beside them.
 */
import { fileURLToPath } from 'node:url';
import type { FleetChildResult } from './child.ts';
import { bothDbs, buildFleet, mib, nodeEnv, progress, row, runChild, type Benchmark, type BenchResult, type DbKind, type Row } from './lib.ts';
import { scaled } from './scale.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

/** The RSS target of a fleet of `n` traders with the database outside the process (MiB). */
const limitOf = (n: number) => (n <= 10_000 ? 512 : 2048);
/** What an embedded PGlite adds to a node's budget (MiB). */
const PGLITE_MIB = 512;

async function runFleet(kind: DbKind, traders: number, waves: number): Promise<FleetChildResult> {
  const t0 = performance.now();
  const fleet = await buildFleet(kind, { traders, managers: 100 });
  const built = performance.now() - t0;
  // A node sized for its fleet is given that fleet's memory budget, as an operator would
  // (MEMORY_BUDGET_MB): the target, plus 512 MiB for an embedded PGlite (its WASM database and
  // page cache live in the process; the targets are for the database outside).
  const budget =
    process.env['MEMORY_BUDGET_MB'] ?? (traders > 0 ? String(limitOf(traders) + (kind === 'pglite' ? PGLITE_MIB : 0)) : '0');
  try {
    const r = await runChild<FleetChildResult>(CHILD, { ...nodeEnv(fleet), BENCH_CHILD_MODE: 'fleet', BENCH_WAVES: String(waves), MEMORY_BUDGET_MB: budget }, {
      onProgress: (text) => progress('fleet', `${kind} ${traders}: ${text}`),
    });
    progress(
      'fleet',
      `${kind} ${traders}: built in ${(built / 1000).toFixed(1)} s, loaded in ${(r.loadMs / 1000).toFixed(1)} s, ` +
        `RSS ${mib(r.afterWaves.rss).toFixed(0)} MiB (peak ${mib(r.maxRss).toFixed(0)}), heap ${mib(r.afterWaves.heapUsed).toFixed(0)} MiB`,
    );
    return r;
  } finally {
    await fleet.cleanup();
  }
}

/** The fleet benchmark. */
export const fleetBench: Benchmark = {
  name: 'fleet',
  description: '10,000 and 50,000 traders under 100 managers: RSS, heap per trader, loop lag (PostgreSQL and PGlite)',
  async run(): Promise<BenchResult> {
    const kinds = bothDbs();
    const sizes = (process.env['BENCH_FLEET_SIZES'] ?? '10000,50000').split(',').map((s) => scaled(Number(s)));
    // Fewer waves where a wave takes tens of seconds, to keep the suite near its 10-minute budget.
    const wavesOf = (kind: DbKind, n: number) => Number(process.env['BENCH_WAVES'] ?? (n <= 20_000 ? 3 : kind === 'postgres' ? 2 : 1));
    const rows: Row[] = [];
    const extra: Record<string, unknown> = {};
    for (const kind of kinds) {
      const base = await runFleet(kind, 0, 1);
      extra[`${kind}-0`] = base;
      rows.push(row(`${kind}: empty node RSS (after GC)`, 'MiB', [mib(base.afterWaves.rss)]));
      for (const n of sizes) {
        const r = await runFleet(kind, n, wavesOf(kind, n));
        extra[`${kind}-${n}`] = r;
        const outside = kind === 'postgres';
        const limitMiB = limitOf(n);
        const label = `${kind} ${n.toLocaleString('en-US')}`;
        rows.push(
          row(`${label}: peak RSS`, 'MiB', [mib(r.maxRss)], outside ? { limit: limitMiB } : {}),
          row(`${label}: RSS after each wave`, 'MiB', r.afterWave.map((m) => mib(m.rss)), {
            note: `heap used after each wave ${r.afterWave.map((m) => mib(m.heapUsed).toFixed(0)).join(', ')} MiB; after GC ${mib(r.afterWaves.heapUsed).toFixed(0)} MiB`,
          }),
          row(`${label}: heap per trader (vs empty node, after GC)`, 'KiB', [(r.afterWaves.heapUsed - base.afterWaves.heapUsed) / n / 1024]),
          row(`${label}: event-loop lag p99 per wave`, 'ms', r.waves.map((w) => w.lagP99Ms), {
            limit: 50,
            note:
              `max ${Math.max(...r.waves.map((w) => w.lagMaxMs)).toFixed(0)} ms, mean ${(r.waves.reduce((a, w) => a + w.lagMeanMs, 0) / r.waves.length).toFixed(1)} ms; ` +
              `${r.stalls.length} stalls > 50 ms, ${(r.stalls.reduce((a, x) => a + x.toUs - x.fromUs, 0) / 1e6).toFixed(1)} s in all`,
          }),
          row(`${label}: longest event-loop stall per wave`, 'ms', r.waves.map((w) => w.lagMaxMs), {
            note: `${((100 * r.stalls.reduce((a, x) => a + x.toUs - x.fromUs, 0)) / 1000 / r.waves.reduce((a, w) => a + w.recorded, 0)).toFixed(0)} % of the wave time was spent in stalls > 50 ms`,
          }),
          row(`${label}: wave (close → recorded)`, 'ms', r.waves.map((w) => w.recorded), {
            note: `orders per wave ${r.waves.map((w) => w.orders).join(', ')}; load ${(r.loadMs / 1000).toFixed(1)} s`,
          }),
        );
      }
    }
    return { name: 'fleet', database: kinds.join(' + '), params: { sizes, managers: 100 }, rows, extra };
  },
};
