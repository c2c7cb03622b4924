/**
 * Profiles the strategy worker: the pool's own worker file under Piscina, run exactly as
 * runtime/strategy/pool.ts runs it but with `--cpu-prof` in the worker's execArgv (the pool sets
 * its workers' execArgv itself, so `node --cpu-prof` never reaches them).
 *
 * Usage: `npx tsx bench/profile-pool.ts DIR` writes DIR/*.cpuprofile (then `bench/profile.ts`).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { createCandleWindows, SYNTHETIC_MARKETS, syntheticCandle } from '../runtime/market/index.ts';
import { compileStrategy } from '../runtime/strategy/index.ts';
import { REPO } from './lib.ts';

const dir = path.resolve(process.argv[2] ?? 'bench/results/profile-pool');
mkdirSync(dir, { recursive: true });
const symbols = SYNTHETIC_MARKETS.map((m) => m.symbol);
const windows = createCandleWindows({ symbols, capacity: 2048 });
for (let i = 0; i < 400; i++)
  for (const m of SYNTHETIC_MARKETS) {
    const c = syntheticCandle(42, m, 30_000_000 + i);
    windows.append(m.symbol, { openTime: c.openTime, open: +c.open, high: +c.high, low: +c.low, close: +c.close, volume: +c.volume });
  }
const now = windows.latestOpenTime(symbols[0]!)!;
const src = path.join(REPO, 'strategies');
const compiled = await compileStrategy(readFileSync(path.join(src, 'momentum.ts'), 'utf8'), 'momentum.ts', src);
if (!compiled.ok) throw new Error(compiled.error);
const encoded = Buffer.from(compiled.code, 'utf8');
const code = new SharedArrayBuffer(encoded.byteLength);
new Uint8Array(code).set(encoded);
const progressBuffer = new SharedArrayBuffer(4096 * 4);
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const pool = new Piscina({
  filename: fileURLToPath(new URL('../runtime/strategy/worker.ts', import.meta.url)),
  execArgv: ['--import', tsx, '--cpu-prof', `--cpu-prof-dir=${dir}`],
  workerData: { windows: windows.handle(), knownSymbols: symbols, progress: progressBuffer },
  minThreads: 1,
  maxThreads: 1,
  concurrentTasksPerWorker: 1,
  atomics: 'disabled',
});
const items = Array.from({ length: 2000 }, (_, i) => ({ traderId: `t-${i}`, params: { lookback: 10 + 10 * (i % 4) }, now, equity: 10_000, positions: {} }));
const t0 = performance.now();
let n = 0;
for (let r = 0; r < 10; r++) {
  await Promise.all(Array.from({ length: 20 }, (_, k) => pool.run({ kind: 'compute', ref: 'momentum@bench', code, slot: k, items })));
  n += 20 * items.length;
}
process.stdout.write(`${Math.round((n * 1000) / (performance.now() - t0))} computations/s through 1 worker; profiles in ${dir}\n`);
await pool.close();
