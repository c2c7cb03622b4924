/**
 * The benchmark suite: `npm run bench` runs every benchmark, `npm run bench -- wave pool` the
 * named ones. Each prints a table (median and p99 over its repetitions, with the machine) and
 * writes bench/results/<name>.json. PGlite by default; PostgreSQL when DATABASE_URL is set.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventsBench } from './events.ts';
import { fleetBench } from './fleet.ts';
import { machine, table, writeResult, type Benchmark } from './lib.ts';
import { pauseAllBench } from './pause-all.ts';
import { poolBench } from './pool.ts';
import { restartBench } from './restart.ts';
import { waveBench } from './wave.ts';

/** Every benchmark, in the order `npm run bench` runs them. */
export const BENCHMARKS: readonly Benchmark[] = [poolBench, eventsBench, waveBench, pauseAllBench, restartBench, fleetBench];

async function main(argv: readonly string[]): Promise<number> {
  const names = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `usage: npm run bench [-- NAME...]\n\n${BENCHMARKS.map((b) => `  ${b.name.padEnd(10)} ${b.description}`).join('\n')}\n\n` +
        'env: DATABASE_URL (PostgreSQL server; a database is created and dropped per run), BENCH_SCALE (shrink fleets)\n',
    );
    return 0;
  }
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = names.length ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;
  const suiteStart = performance.now();
  let failed = 0;
  // Several benchmarks: each in a fresh process of its own, so none runs in a heap (or with V8
  // flags) a previous one left behind. A node that stopped is not always garbage at once:
  // postgres.js caches one Error per query text, whose unformatted stack keeps the closures of the
  // first caller alive, and with them a stopped node (~180 MiB at 10,000 traders).
  if (selected.length > 1) {
    for (const b of selected) {
      const code = await new Promise<number | null>((resolve) => {
        const child = fork(fileURLToPath(import.meta.url), [b.name], {
          execArgv: process.execArgv,
          env: { ...process.env, BENCH_SUITE_CHILD: '1' },
          stdio: 'inherit',
        });
        child.on('exit', (c) => resolve(c));
      });
      if (code !== 0) failed++;
    }
    process.stdout.write(`\nsuite: ${selected.length} benchmark(s) in ${((performance.now() - suiteStart) / 1000).toFixed(1)} s, each in its own process\n`);
    return failed ? 1 : 0;
  }
  for (const b of selected) {
    const m = machine();
    process.stderr.write(`\n>> ${b.name}: ${b.description}\n`);
    const t0 = performance.now();
    try {
      const result = await b.run();
      const seconds = (performance.now() - t0) / 1000;
      process.stdout.write(`\n${table(result, m, seconds)}\n`);
      process.stdout.write(`  → ${writeResult(result, m, seconds)}\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`!! ${b.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  if (process.env['BENCH_SUITE_CHILD'] !== '1') {
    process.stdout.write(`\nsuite: ${selected.length} benchmark(s) in ${((performance.now() - suiteStart) / 1000).toFixed(1)} s\n`);
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
