/**
 * The benchmark suite: `npm run bench` runs every benchmark, `npm run bench -- wave pool` the
 * named ones. Each prints a table (median and p99 over its repetitions, with the machine) and
 * writes bench/results/<name>.json. PGlite by default; PostgreSQL when DATABASE_URL is set.
 */
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
  process.stdout.write(`\nsuite: ${selected.length} benchmark(s) in ${((performance.now() - suiteStart) / 1000).toFixed(1)} s\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
