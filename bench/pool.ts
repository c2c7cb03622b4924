/**
 * pool: the reference momentum strategy (3 symbols, 100-bar window) through the Piscina pool
 * against the same compute inline on the main thread × the worker count, and the per-task
 * overhead (a one-trader task's round trip minus one inline compute).
 *
 * "The same compute" is what the worker does per trader: the compiled bundle imported from a
 * data: URL, params merged over the defaults and parsed with the strategy's zod schema, history
 * read from the shared candle windows into views carved from one arena, then `validateTargets`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { createCandleWindows, SYNTHETIC_MARKETS, syntheticCandle, type WindowField } from '../runtime/market/index.ts';
import { compileStrategy, createStrategyPool, validateTargets, type ComputeItem } from '../runtime/strategy/index.ts';
import { MINUTE, progress, REPO, row, type Benchmark, type BenchResult, type Row } from './lib.ts';

const BARS = 400;
const BATCH = 2000;
/** Batches per timed repetition (inline and pool alike), and batches in flight in the pool. */
const BATCHES_PER_REP = 100;
const IN_FLIGHT = 20;
const SEED = 42;

interface Loaded {
  readonly params: { safeParse(v: unknown): { success: boolean; data?: unknown } };
  readonly defaults: Record<string, unknown>;
  compute(ctx: unknown, params: unknown): unknown;
}

async function importBundle(code: string): Promise<Loaded> {
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { default: Loaded };
  const d = mod.default;
  return { params: d.params, defaults: d.defaults, compute: (ctx, p) => d.compute.call(d, ctx, p) };
}

/** Items as the scheduler sends them: one trader each, lookbacks 10–40, params frozen as the store hands them out. */
function items(n: number, now: number): ComputeItem[] {
  return Array.from({ length: n }, (_, i) => ({
    traderId: `t-${i}`,
    params: Object.freeze({ lookback: 10 + 10 * (i % 4) }),
    now,
    equity: 10_000,
    positions: {},
  }));
}

/** The pool benchmark. */
export const poolBench: Benchmark = {
  name: 'pool',
  description: 'momentum (3 symbols, 100 bars) through the pool vs inline × workers; per-task overhead',
  async run(): Promise<BenchResult> {
    const symbols = SYNTHETIC_MARKETS.map((m) => m.symbol);
    const known = new Set(symbols);
    const windows = createCandleWindows({ symbols, capacity: 2048 });
    for (let i = 0; i < BARS; i++) for (const m of SYNTHETIC_MARKETS) {
      const c = syntheticCandle(SEED, m, 30_000_000 + i);
      windows.append(m.symbol, { openTime: c.openTime, open: +c.open, high: +c.high, low: +c.low, close: +c.close, volume: +c.volume });
    }
    const now = windows.latestOpenTime(symbols[0]!)!;
    const dir = path.join(REPO, 'strategies');
    const compiled = await compileStrategy(readFileSync(path.join(dir, 'momentum.ts'), 'utf8'), 'momentum.ts', dir);
    if (!compiled.ok) throw new Error(compiled.error);
    const strategy = await importBundle(compiled.code);

    // Inline, exactly the worker's per-trader path.
    const CHUNK = 1 << 16;
    let arena = new Float64Array(CHUNK);
    let used = 0;
    const carve = (n: number) => {
      if (used + n > CHUNK) {
        arena = new Float64Array(CHUNK);
        used = 0;
      }
      const v = arena.subarray(used, used + n);
      used += n;
      return v;
    };
    const computeInline = (item: ComputeItem): boolean => {
      const parsed = strategy.params.safeParse({ ...strategy.defaults, ...item.params });
      if (!parsed.success) return false;
      const ctx = {
        now: item.now,
        equity: item.equity,
        positions: item.positions,
        history(list: readonly string[], opts: { window: number; field: WindowField }) {
          const out: Record<string, Float64Array> = {};
          for (const s of list) out[s] = windows.readSpan(s, opts.field, opts.window, item.now, carve).values;
          return out;
        },
      };
      return validateTargets(strategy.compute(ctx, parsed.data), known).ok;
    };
    const batch = items(BATCH, now);
    const inlineRate = (): number => {
      const t0 = performance.now();
      let ok = 0;
      for (let r = 0; r < BATCHES_PER_REP; r++) for (const it of batch) if (computeInline(it)) ok++;
      const ms = performance.now() - t0;
      if (ok !== BATCHES_PER_REP * BATCH) throw new Error(`inline compute failed for ${BATCHES_PER_REP * BATCH - ok} items`);
      return (BATCHES_PER_REP * BATCH * 1000) / ms;
    };
    inlineRate(); // warm-up (JIT)
    const inline = Array.from({ length: 7 }, inlineRate);
    const inlineMedian = [...inline].sort((a, b) => a - b)[3]!;
    const perItemUs = 1e6 / inlineMedian;
    progress('pool', `inline: ${Math.round(inlineMedian).toLocaleString('en-US')} computations/s (${perItemUs.toFixed(2)} µs each)`);

    const rows: Row[] = [row('inline (main thread)', 'computations/s', inline, { worse: 'low' })];
    const extra: Record<string, unknown> = { inline, perItemUs };
    const cpus = availableParallelism();
    const threadCounts = [...new Set([Math.max(1, cpus - 1), cpus])];
    const v = { ref: 'momentum@bench', compiled: compiled.code };
    for (const threads of threadCounts) {
      const pool = createStrategyPool({ windows: windows.handle(), knownSymbols: symbols, threads });
      try {
        const warm = await pool.computeBatch(v, batch);
        const bad = [...warm.values()].filter((r) => !r.ok);
        if (bad.length) throw new Error(`pool compute failed: ${JSON.stringify(bad[0])}`);
        // Throughput: batches of 2,000 (the scheduler's batch), 20 in flight at any time as in a
        // wave, BATCHES_PER_REP per repetition (each repetition ~0.3–0.5 s, long enough that one
        // hiccup of this VM does not decide it).
        const repetition = async (): Promise<number> => {
          let started = 0;
          const lane = async (): Promise<void> => {
            while (started < BATCHES_PER_REP) {
              started++;
              await pool.computeBatch(v, batch);
            }
          };
          const t0 = performance.now();
          await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
          return (BATCHES_PER_REP * BATCH * 1000) / (performance.now() - t0);
        };
        // Warm-up as inline had: one untimed repetition, which reaches every worker (the batch
        // above ran on one) and lets each thread's JIT optimize the strategy and the worker loop.
        await repetition();
        const rates: number[] = [];
        for (let r = 0; r < 7; r++) rates.push(await repetition());
        const efficiency = rates.map((x) => (100 * x) / (inlineMedian * threads));
        // Per-task overhead: one-trader tasks one after another.
        const one = batch.slice(0, 1);
        for (let i = 0; i < 200; i++) await pool.computeBatch(v, one);
        const overhead: number[] = [];
        for (let i = 0; i < 2000; i++) {
          const t0 = performance.now();
          await pool.computeBatch(v, one);
          overhead.push((performance.now() - t0) * 1000 - perItemUs);
        }
        progress('pool', `${threads} thread(s): ${Math.round(rates[3]!).toLocaleString('en-US')} computations/s`);
        rows.push(
          row(`pool, ${threads} thread(s), batches of ${BATCH}`, 'computations/s', rates, { worse: 'low' }),
          row(`pool ÷ (inline × ${threads})`, '%', efficiency, { worse: 'low', limit: 90, target: '≥ 90 %' }),
          row(`per-task overhead, ${threads} thread(s)`, 'µs', overhead),
        );
        extra[`threads${threads}`] = { rates, efficiency };
      } finally {
        await pool.close();
      }
    }
    return { name: 'pool', database: 'none', params: { bars: BARS, batch: BATCH, window: 100, symbols: 3, candle: now / MINUTE }, rows, extra };
  },
};
