/**
 * Profiles the strategy worker: the pool itself, run as the runtime runs it, with `--cpu-prof` in
 * its workers' execArgv (`node --cpu-prof` never reaches them).
 *
 * Usage: `npx tsx bench/profile-pool.ts DIR` writes DIR/*.cpuprofile (then `bench/profile.ts`).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createCandleWindows, SYNTHETIC_MARKETS, syntheticCandle } from '../runtime/market/index.ts';
import { compileStrategy, createStrategyPool } from '../runtime/strategy/index.ts';
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
const pool = createStrategyPool({ windows: windows.handle(), knownSymbols: symbols, threads: 1, workerExecArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
const v = { ref: 'momentum@bench', compiled: compiled.code };
const items = Array.from({ length: 2000 }, (_, i) => ({ traderId: `t-${i}`, params: { lookback: 10 + 10 * (i % 4) }, now, equity: 10_000, positions: {} }));
const t0 = performance.now();
let n = 0;
for (let r = 0; r < 10; r++) {
  const batches = await Promise.all(Array.from({ length: 20 }, () => pool.computeBatch(v, items)));
  for (const b of batches) for (const [id, res] of b) if (!res.ok) throw new Error(`${id}: ${res.error.message}`);
  n += 20 * items.length;
}
process.stdout.write(`${Math.round((n * 1000) / (performance.now() - t0))} computations/s through 1 worker; profiles in ${dir}\n`);
await pool.close();
