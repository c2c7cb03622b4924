/**
 * The bench child process: a runtime node alone in its process, so that RSS, heap and start
 * times are the runtime's own. The parent (fleet.ts, restart.ts) writes the database first and
 * reads one `result` message back. Modes (BENCH_CHILD_MODE):
 * - `fleet`: start, load every trader, run BENCH_WAVES waves; memory and event-loop lag.
 * - `warm`: start, load, run one wave, stop (gives a fleet its accounts, orders and states).
 * - `restart`: cold start until every trader is back in its persisted state.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../runtime/index.ts';
import { allLoaded, gc, MINUTE, stallProbe, startBenchNode, T0, toParent, waitFor, type Stall } from './lib.ts';
import { timedWave, type WaveSample } from './wave.ts';

/** Memory figures in bytes. */
export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** What a `fleet` child reports. */
export interface FleetChildResult {
  readonly traders: number;
  readonly loadMs: number;
  readonly base: MemorySample;
  readonly loaded: MemorySample;
  readonly afterWaves: MemorySample;
  /** Memory right after each wave, before any forced GC. */
  readonly afterWave: readonly MemorySample[];
  /** Event-loop stalls over 50 ms during the waves. */
  readonly stalls: readonly Stall[];
  /** The heap snapshot written after the waves (BENCH_HEAP_DIR), if any. */
  readonly heapSnapshot: string | null;
  readonly maxRss: number;
  readonly waves: readonly (WaveSample & { readonly lagP99Ms: number; readonly lagMaxMs: number; readonly lagMeanMs: number })[];
}

/** What a `restart` child reports (ms). */
export interface RestartChildResult {
  readonly spawnToReadyMs: number;
  readonly spawnToImportedMs: number;
  readonly startNodeMs: number;
  readonly startToReadyMs: number;
  readonly statuses: Readonly<Record<string, number>>;
}

const mem = (): MemorySample => {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
};

async function fleet(env: Record<string, string>): Promise<FleetChildResult> {
  const waves = Number(process.env['BENCH_WAVES'] ?? 3);
  gc();
  const base = mem();
  const b = await startBenchNode(env);
  const t0 = performance.now();
  await b.node.step();
  await waitFor(() => allLoaded(b.node), 900_000, 5);
  await b.node.settle(900_000);
  const loadMs = performance.now() - t0;
  gc();
  const loaded = mem();
  const out: FleetChildResult['waves'][number][] = [];
  const afterWave: MemorySample[] = [];
  const stalls: Stall[] = [];
  for (let i = 0; i < waves; i++) {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const probe = stallProbe();
    const s = await timedWave(b, 900_000);
    stalls.push(...probe.stop());
    h.disable();
    afterWave.push(mem());
    out.push({ ...s, lagP99Ms: h.percentile(99) / 1e6, lagMaxMs: h.max / 1e6, lagMeanMs: h.mean / 1e6 });
    void toParent({ kind: 'progress', text: `wave ${i + 1}: ${Math.round(s.recorded)} ms, ${s.orders} orders, lag p99 ${(h.percentile(99) / 1e6).toFixed(0)} ms` });
  }
  gc();
  const afterWaves = mem();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const profileDir = process.env['BENCH_PROFILE_DIR'];
  if (profileDir) writeFileSync(path.join(profileDir, `stalls-${process.pid}.json`), JSON.stringify(stalls));
  const heapDir = process.env['BENCH_HEAP_DIR'];
  const heapSnapshot = heapDir ? writeHeapSnapshot(path.join(heapDir, `fleet-${b.node.traders().size}-${process.pid}.heapsnapshot`)) : null;
  await b.node.stop();
  return { traders: b.node.traders().size, loadMs, base, loaded, afterWaves, afterWave, stalls, heapSnapshot, maxRss, waves: out };
}

async function warm(env: Record<string, string>): Promise<{ loadMs: number; wave: WaveSample }> {
  const b = await startBenchNode(env);
  const t0 = performance.now();
  await b.node.step();
  await waitFor(() => allLoaded(b.node), 900_000, 5);
  await b.node.settle(900_000);
  const loadMs = performance.now() - t0;
  const wave = await timedWave(b, 900_000);
  await b.node.stop();
  return { loadMs, wave };
}

async function restart(env: Record<string, string>, spawnedAt: number, importedAt: number): Promise<RestartChildResult> {
  const t0 = performance.now();
  // Past the warm run's candles: the market resumes where it stopped.
  const b = await startBenchNode(env, T0 + 10 * MINUTE);
  const startNodeMs = performance.now() - t0;
  await waitFor(() => allLoaded(b.node), 900_000, 2);
  const startToReadyMs = performance.now() - t0;
  const spawnToReadyMs = Date.now() - spawnedAt;
  const statuses: Record<string, number> = {};
  for (const v of b.node.traders().values()) statuses[v.status] = (statuses[v.status] ?? 0) + 1;
  await b.node.stop();
  return { spawnToReadyMs, spawnToImportedMs: importedAt - spawnedAt, startNodeMs, startToReadyMs, statuses };
}

const importedAt = Date.now();
const mode = process.env['BENCH_CHILD_MODE'];
// The node's own variables only (loadConfig ignores the rest).
const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
loadConfig(env);
const run = async (): Promise<unknown> => {
  switch (mode) {
    case 'fleet':
      return fleet(env);
    case 'warm':
      return warm(env);
    case 'restart':
      return restart(env, Number(process.env['BENCH_SPAWNED_AT']), importedAt);
    default:
      throw new Error(`unknown BENCH_CHILD_MODE ${mode}`);
  }
};
try {
  await toParent({ kind: 'result', data: await run() });
} catch (err) {
  process.stderr.write(`bench child (${mode}) failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  process.disconnect?.();
}
