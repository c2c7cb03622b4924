/**
 * restart: cold start of a runtime whose database holds 10,000 traders (90 % running, 5 %
 * paused, 5 % in error, with the accounts, orders and states a first run left) until every
 * trader is back in its persisted state; each start in a fresh child process, timed from the
 * spawn, on PostgreSQL and on PGlite.
 */
import { fileURLToPath } from 'node:url';
import type { RestartChildResult } from './child.ts';
import { bothDbs, buildFleet, nodeEnv, progress, row, runChild, type Benchmark, type BenchResult, type Row } from './lib.ts';
import { scaled } from './scale.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

const stateOf = (i: number): 'running' | 'paused' | 'error' => (i % 20 === 1 ? 'paused' : i % 20 === 2 ? 'error' : 'running');

/** The restart benchmark. */
export const restartBench: Benchmark = {
  name: 'restart',
  description: 'cold start with 10,000 persisted traders until all are back in their states (PostgreSQL and PGlite)',
  async run(): Promise<BenchResult> {
    const traders = scaled(10_000);
    const reps = Number(process.env['BENCH_RESTARTS'] ?? 3);
    const kinds = bothDbs();
    const expected: Record<string, number> = {};
    for (let i = 0; i < traders; i++) expected[stateOf(i)] = (expected[stateOf(i)] ?? 0) + 1;
    const rows: Row[] = [];
    const extra: Record<string, unknown> = { expected };
    for (const kind of kinds) {
      const fleet = await buildFleet(kind, { traders, managers: 100, stateOf });
      try {
        const env = nodeEnv(fleet);
        const warm = await runChild<{ loadMs: number }>(CHILD, { ...env, BENCH_CHILD_MODE: 'warm' });
        progress('restart', `${kind}: first run loaded ${traders} traders in ${(warm.loadMs / 1000).toFixed(1)} s and traded one wave`);
        const runs: RestartChildResult[] = [];
        for (let r = 0; r < reps; r++) {
          const res = await runChild<RestartChildResult>(CHILD, { ...env, BENCH_CHILD_MODE: 'restart', BENCH_SPAWNED_AT: String(Date.now()) });
          for (const [status, n] of Object.entries(expected)) {
            if (res.statuses[status] !== n) throw new Error(`${kind} restart ${r + 1}: ${JSON.stringify(res.statuses)}, expected ${JSON.stringify(expected)}`);
          }
          runs.push(res);
          progress(
            'restart',
            `${kind} restart ${r + 1}: spawn → all in state ${res.spawnToReadyMs} ms (imports ${res.spawnToImportedMs}, startNode ${Math.round(res.startNodeMs)}, ` +
              `start → ready ${Math.round(res.startToReadyMs)})`,
          );
        }
        extra[kind] = { warm, runs };
        rows.push(
          row(`${kind}: spawn → every trader in its state`, 'ms', runs.map((r) => r.spawnToReadyMs), kind === 'postgres' ? { limit: 5000 } : {}),
          row(`${kind}: of which process start + imports`, 'ms', runs.map((r) => r.spawnToImportedMs)),
          row(`${kind}: startNode() resolved`, 'ms', runs.map((r) => r.startNodeMs)),
          row(`${kind}: startNode() → every trader in its state`, 'ms', runs.map((r) => r.startToReadyMs)),
        );
      } finally {
        await fleet.cleanup();
      }
    }
    return { name: 'restart', database: kinds.join(' + '), params: { traders, managers: 100, reps, mix: '90 % running, 5 % paused, 5 % error' }, rows, extra };
  },
};
