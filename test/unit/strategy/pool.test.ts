import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrategy } from '../../../runtime/strategy/compile.ts';
import { createStrategyPool } from '../../../runtime/strategy/pool.ts';
import type { ComputeResult, StrategyPool } from '../../../runtime/strategy/pool.ts';
import { compiled, filledWindows, FIXTURES, item, MIN, SAMPLES, SYMBOLS } from './helpers/fixtures.ts';

const TIMEOUT = 1000;
const HEAP = 64;
const BARS = 150;
const NOW = (BARS - 1) * MIN;

const failure = (message: string): ComputeResult => ({ ok: false, error: { kind: 'strategy', message } });

describe('strategy pool', () => {
  let pool: StrategyPool;
  const code: Record<string, string> = {};

  beforeAll(async () => {
    // Rising prices: every symbol has positive momentum.
    const windows = filledWindows(BARS);
    pool = createStrategyPool({ windows: windows.handle(), knownSymbols: SYMBOLS, threads: 2, timeoutMs: TIMEOUT, maxHeapMb: HEAP });
    for (const f of ['throws.ts', 'infinite-loop.ts', 'oom.ts', 'bad-output-nan.ts', 'unknown-symbol.ts', 'overweight.ts', 'throws-at-import.js', 'no-default.ts']) {
      code[f] = await compiled(FIXTURES, f);
    }
    code['momentum.ts'] = await compiled(SAMPLES, 'momentum.ts');
  });
  afterAll(() => pool.close());

  const momentum = () => ({ ref: 'momentum@1', compiled: code['momentum.ts']! });

  it('computes a version for a batch of traders, reading history up to each trader’s `now`', async () => {
    const items = [
      item('t-1', { now: NOW }),
      item('t-2', { now: NOW, params: { stopLossPct: 0.1 } }),
      item('t-3', { now: 120 * MIN }),
    ];
    const results = await pool.computeBatch(momentum(), items);
    expect([...results.keys()]).toEqual(['t-1', 't-2', 't-3']);
    const r1 = results.get('t-1')!;
    if (!r1.ok) throw new Error(r1.error.message);
    const lastBtc = 100 * (1 + 0.001 * (BARS - 1));
    expect(Object.keys(r1.targets).sort()).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    expect(r1.targets.BTCUSDT!.weight).toBeCloseTo(1 / 3, 12);
    expect(r1.targets.BTCUSDT!.stopLoss).toBeCloseTo(lastBtc * 0.97, 9);
    expect(r1.targets.BTCUSDT!.takeProfit).toBeCloseTo(lastBtc * 1.05, 9);
    expect([r1.candleFrom, r1.candleTo]).toEqual([(BARS - 100) * MIN, NOW]);
    const r2 = results.get('t-2')!;
    expect(r2.ok && r2.targets.BTCUSDT!.stopLoss).toBeCloseTo(lastBtc * 0.9, 9);
    const r3 = results.get('t-3')!;
    expect(r3.ok && [r3.candleFrom, r3.candleTo]).toEqual([21 * MIN, 120 * MIN]);
  });

  it('fails only the traders whose compute throws or whose params are invalid', async () => {
    const results = await pool.computeBatch({ ref: 'throws@1', compiled: code['throws.ts']! }, [
      item('ok', { params: { fail: false } }),
      item('boom', { params: { fail: true } }),
      item('bad-params', { params: { fail: 'yes' } }),
      item('defaults'),
    ]);
    expect(results.get('ok')).toEqual({ ok: true, targets: { BTCUSDT: { weight: 0.25 } }, candleFrom: null, candleTo: null });
    expect(results.get('boom')).toEqual(failure('compute threw RangeError: boom'));
    expect(results.get('bad-params')).toEqual(failure('invalid params: fail: Invalid input: expected boolean, received string'));
    expect(results.get('defaults')).toEqual(failure('compute threw RangeError: boom'));
  });

  it('reads params anew unless they cannot change (deep-frozen data)', async () => {
    const throwsV = { ref: 'throws@1', compiled: code['throws.ts']! };
    const outcome = async (params: Record<string, unknown>) => (await pool.computeBatch(throwsV, [item('t', { params })])).get('t');
    const fine = { ok: true, targets: { BTCUSDT: { weight: 0.25 } }, candleFrom: null, candleTo: null };
    // A plain object edited between batches.
    const mutable: Record<string, unknown> = { fail: false };
    expect(await outcome(mutable)).toEqual(fine);
    mutable['fail'] = true;
    expect(await outcome(mutable)).toEqual(failure('compute threw RangeError: boom'));
    // Frozen, but a getter: its value can still change.
    let flag = false;
    const withGetter = Object.freeze({
      get fail() {
        return flag;
      },
    });
    expect(await outcome(withGetter)).toEqual(fine);
    flag = true;
    expect(await outcome(withGetter)).toEqual(failure('compute threw RangeError: boom'));
    // Deep-frozen data: the same params every time.
    const frozen = Object.freeze({ fail: true });
    expect(await outcome(frozen)).toEqual(failure('compute threw RangeError: boom'));
    expect(await outcome(frozen)).toEqual(failure('compute threw RangeError: boom'));
  });

  it('rejects invalid output with an exact message', async () => {
    const run = async (f: string) => (await pool.computeBatch({ ref: `${f}@1`, compiled: code[f]! }, [item('t', { now: NOW })])).get('t');
    expect(await run('bad-output-nan.ts')).toEqual(failure('BTCUSDT.weight: must be a finite number in [-1, 1], got NaN'));
    expect(await run('unknown-symbol.ts')).toEqual(failure('unknown symbol XYZ'));
    expect(await run('overweight.ts')).toEqual(failure('sum of |weight| is 1.3, above 1'));
  });

  it('fails only the trader whose output throws when validated', async () => {
    const source = `
      import { defineStrategy, z } from '@platform/strategy';
      export default defineStrategy({
        name: 'getter', params: z.object({ trap: z.boolean() }), defaults: { trap: false },
        compute: (_ctx, p) => p.trap ? { get BTCUSDT() { throw new Error('gotcha'); } } : { BTCUSDT: { weight: 0.1 } },
      });`;
    const built = await compileStrategy(source, 'getter.ts', FIXTURES);
    if (!built.ok) throw new Error(built.error);
    const results = await pool.computeBatch({ ref: 'getter@1', compiled: built.code }, [item('a'), item('b', { params: { trap: true } }), item('c')]);
    expect(results.get('b')).toEqual(failure('strategy error: Error: gotcha'));
    expect(results.get('a')?.ok && results.get('c')?.ok).toBe(true);
  });

  it('fails every trader of a version whose module throws at import', async () => {
    const results = await pool.computeBatch({ ref: 'throws-at-import@1', compiled: code['throws-at-import.js']! }, [item('a'), item('b')]);
    expect(results.get('a')).toEqual(failure('import failed: Error: cannot load the model'));
    expect(results.get('b')).toEqual(failure('import failed: Error: cannot load the model'));
  });

  it('isolates traders that hang, failing only them, while a good version keeps being served', async () => {
    const hostile = pool.computeBatch({ ref: 'infinite-loop@1', compiled: code['infinite-loop.ts']! }, [
      item('h-ok-1', { params: { hang: false } }),
      item('h-hang-1'),
      item('h-ok-2', { params: { hang: false } }),
      item('h-hang-2'),
      item('h-ok-3', { params: { hang: false } }),
    ]);
    const good = [1, 2, 3].map((n) => pool.computeBatch(momentum(), [item(`g-${n}`, { now: NOW })]));
    const results = await hostile;
    expect(results.get('h-hang-1')).toEqual(failure(`timed out after ${TIMEOUT} ms`));
    expect(results.get('h-hang-2')).toEqual(failure(`timed out after ${TIMEOUT} ms`));
    for (const id of ['h-ok-1', 'h-ok-2', 'h-ok-3']) expect(results.get(id)?.ok).toBe(true);
    for (const [n, batch] of (await Promise.all(good)).entries()) {
      const r = batch.get(`g-${n + 1}`)!;
      expect(r.ok && r.targets.ETHUSDT!.weight).toBeCloseTo(1 / 3, 12);
    }
    const after = (await pool.computeBatch(momentum(), [item('after', { now: NOW })])).get('after')!;
    expect(after.ok && Object.keys(after.targets).length).toBe(3);
  });

  it('inspects a module in a worker and returns its metadata or why it is not a strategy', async () => {
    const good = await pool.inspect(code['momentum.ts']!);
    expect(good.ok).toBe(true);
    if (!good.ok) return;
    expect(good.meta).toMatchObject({
      name: 'momentum',
      defaults: { lookback: 20, stopLossPct: 0.03, takeProfitPct: 0.05 },
      universe: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
      timeframe: '1m',
      lookback: 100,
    });
    expect(good.meta.paramsSchema).toMatchObject({ type: 'object', required: ['lookback', 'stopLossPct', 'takeProfitPct'] });
    expect(await pool.inspect(code['no-default.ts']!)).toEqual({ ok: false, error: 'no default export (export default defineStrategy({ … }))' });
    expect(await pool.inspect(code['throws-at-import.js']!)).toEqual({ ok: false, error: 'import failed: Error: cannot load the model' });
  });

  it('counts tasks and failed tasks', () => {
    const s = pool.stats();
    expect(s.threads).toBe(2);
    expect(s.completed).toBeGreaterThan(5);
    expect(s.failedTasks).toBeGreaterThanOrEqual(2);
  });
});

describe('strategy pool under a version that hangs for everyone', () => {
  it('stops isolating after `maxCulprits` and fails the rest of the batch unrun', async () => {
    const windows = filledWindows(2);
    const pool = createStrategyPool({ windows: windows.handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 300, maxCulprits: 1 });
    try {
      const results = await pool.computeBatch({ ref: 'infinite-loop@1', compiled: await compiled(FIXTURES, 'infinite-loop.ts') }, [
        item('a'),
        item('b'),
        item('c'),
      ]);
      expect(results.get('a')).toEqual(failure('timed out after 300 ms'));
      const skipped = failure('not run: infinite-loop@1 already failed for 1 traders in this batch (timed out after 300 ms)');
      expect(results.get('b')).toEqual(skipped);
      expect(results.get('c')).toEqual(skipped);
    } finally {
      await pool.close();
    }
  });
});

describe('strategy pool worker recycling', () => {
  // Each ref is a separate module import; a worker retires after a dozen (MAX_IMPORTS in worker.ts).
  const fine = { ok: true, targets: { BTCUSDT: { weight: 0.25 } }, candleFrom: null, candleTo: null };
  const run = (pool: StrategyPool, code: string, n: number) =>
    pool.computeBatch({ ref: `throws@${n}`, compiled: code }, [item(`t${n}`, { params: { fail: false } })]);

  it('keeps serving correct results across the retirements of workers that imported many versions', async () => {
    const windows = filledWindows(2);
    const pool = createStrategyPool({ windows: windows.handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 2000 });
    try {
      const code = await compiled(FIXTURES, 'throws.ts');
      for (let v = 1; v <= 36; v++) expect((await run(pool, code, v)).get(`t${v}`)).toEqual(fine);
    } finally {
      await pool.close();
    }
  });

  it('re-runs a task queued behind the one that filled its worker', async () => {
    const windows = filledWindows(2);
    const pool = createStrategyPool({ windows: windows.handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 2000 });
    try {
      const code = await compiled(FIXTURES, 'throws.ts');
      // Two batches at a time, as in a wave: one runs while the other waits in the same worker.
      for (let v = 1; v <= 48; v += 2) {
        const [a, b] = await Promise.all([run(pool, code, v), run(pool, code, v + 1)]);
        expect(a!.get(`t${v}`)).toEqual(fine);
        expect(b!.get(`t${v + 1}`)).toEqual(fine);
      }
      expect(pool.stats().threads).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

describe('strategy pool under a version that exhausts the heap', () => {
  it('isolates the trader that ran out of memory and keeps serving the others', async () => {
    // A generous timeout so a slow garbage collector near the limit cannot pass for a hang.
    const windows = filledWindows(BARS);
    const pool = createStrategyPool({ windows: windows.handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 10_000, maxHeapMb: HEAP });
    try {
      const results = await pool.computeBatch({ ref: 'oom@1', compiled: await compiled(FIXTURES, 'oom.ts') }, [
        item('o-ok-1', { params: { explode: false } }),
        item('o-boom'),
        item('o-ok-2', { params: { explode: false } }),
      ]);
      expect(results.get('o-boom')).toEqual(failure(`ran out of memory (limit ${HEAP} MB)`));
      expect(results.get('o-ok-1')).toEqual({ ok: true, targets: { ETHUSDT: { weight: 0.2 } }, candleFrom: null, candleTo: null });
      expect(results.get('o-ok-2')?.ok).toBe(true);
      const good = (await pool.computeBatch({ ref: 'momentum@1', compiled: await compiled(SAMPLES, 'momentum.ts') }, [item('g', { now: NOW })])).get('g')!;
      expect(good.ok && Object.keys(good.targets)).toHaveLength(3);
    } finally {
      await pool.close();
    }
  });
});
