import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileStrategy } from '../../../runtime/strategy/compile.ts';
import { createStrategyPool } from '../../../runtime/strategy/pool.ts';
import type { ComputeItem, ComputeResult, StrategyPool } from '../../../runtime/strategy/pool.ts';
import { compiled, filledWindows, FIXTURES, item, MIN, SAMPLES, SYMBOLS } from './helpers/fixtures.ts';

const BARS = 150;
const NOW = (BARS - 1) * MIN;

const failure = (message: string): ComputeResult => ({ ok: false, error: { kind: 'strategy', message } });

async function build(name: string, source: string): Promise<{ ref: string; compiled: string }> {
  const built = await compileStrategy(source, `${name}.ts`, FIXTURES);
  if (!built.ok) throw new Error(built.error);
  return { ref: `${name}@1`, compiled: built.code };
}

/** What an echo strategy saw, parsed back from its error message. */
function echoed(r: ComputeResult | undefined): unknown {
  if (!r || r.ok) throw new Error(`expected an echo, got ${JSON.stringify(r)}`);
  const prefix = 'compute threw Error: ';
  if (!r.error.message.startsWith(prefix)) throw new Error(r.error.message);
  return JSON.parse(r.error.message.slice(prefix.length));
}

describe('strategy pool transport', () => {
  let pool: StrategyPool;
  let echo: { ref: string; compiled: string };
  let mutator: { ref: string; compiled: string };

  beforeAll(async () => {
    pool = createStrategyPool({ windows: filledWindows(BARS).handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 2000 });
    // Reports what compute received, key order included, through its error message.
    echo = await build(
      'echo',
      `import { defineStrategy, z } from '@platform/strategy';
      export default defineStrategy({
        name: 'echo', params: z.object({ tag: z.string(), extra: z.unknown().optional() }), defaults: { tag: 'default' },
        compute(ctx, p) {
          throw new Error(JSON.stringify({ now: ctx.now, equity: ctx.equity, params: p, positions: ctx.positions,
            sides: Object.values(ctx.positions).map((x) => typeof x.amount + typeof x.weight) }));
        },
      });`,
    );
    // Mutates its params, then reports them.
    mutator = await build(
      'mutator',
      `import { defineStrategy, z } from '@platform/strategy';
      export default defineStrategy({
        name: 'mutator',
        params: z.object({ n: z.number(), nested: z.object({ hits: z.array(z.number()) }).optional() }),
        defaults: { n: 1 },
        compute(_ctx, p) {
          p.n += 100;
          if (p.nested) p.nested.hits.push(p.n);
          throw new Error(JSON.stringify(p));
        },
      });`,
    );
  });
  afterAll(() => pool.close());

  it('delivers each trader’s now, equity, params and positions to compute as given, key order included', async () => {
    const packed = {
      ETHUSDT: { side: 'short' as const, amount: 2.5, entryPrice: 1999.75, weight: -0.25 },
      BTCUSDT: { side: 'long' as const, amount: 0.125, entryPrice: 64000.5, weight: 0.5 },
      DOGEUSDT: { side: 'long' as const, amount: 10, entryPrice: 0.1, weight: 0 },
    };
    // Not the usual shape: travels as a whole object.
    const loose = { BTCUSDT: { side: 'long', amount: 1, entryPrice: 2, weight: 0.1, note: 'manual' } } as unknown as ComputeItem['positions'];
    const items: ComputeItem[] = [
      item('empty', { now: 5 * MIN, equity: 1234.5, params: { tag: 'a' } }),
      item('packed', { now: 6 * MIN, equity: 0, params: { tag: 'a' }, positions: packed }),
      item('loose', { now: 7 * MIN, equity: -3.25, params: { tag: 'b', extra: { deep: [1, { x: null }] } }, positions: loose }),
      item('packed-again', { now: 8 * MIN, equity: 1e9, params: {}, positions: { SOLUSDT: packed.BTCUSDT } }),
    ];
    const results = await pool.computeBatch(echo, items);
    expect(JSON.stringify(echoed(results.get('empty')))).toBe(
      JSON.stringify({ now: 5 * MIN, equity: 1234.5, params: { tag: 'a' }, positions: {}, sides: [] }),
    );
    expect(JSON.stringify(echoed(results.get('packed')))).toBe(
      JSON.stringify({ now: 6 * MIN, equity: 0, params: { tag: 'a' }, positions: packed, sides: ['numbernumber', 'numbernumber', 'numbernumber'] }),
    );
    expect(JSON.stringify(echoed(results.get('loose')))).toBe(
      JSON.stringify({ now: 7 * MIN, equity: -3.25, params: { tag: 'b', extra: { deep: [1, { x: null }] } }, positions: loose, sides: ['numbernumber'] }),
    );
    expect(echoed(results.get('packed-again'))).toEqual({
      now: 8 * MIN,
      equity: 1e9,
      params: { tag: 'default' },
      positions: { SOLUSDT: packed.BTCUSDT },
      sides: ['numbernumber'],
    });
  });

  it('gives every trader its own params, so a strategy that mutates them cannot reach another trader', async () => {
    const batch = [
      item('flat-1', { params: { n: 2 } }),
      item('deep-1', { params: { n: 3, nested: { hits: [] } } }),
      item('flat-2', { params: { n: 2 } }),
      item('deep-2', { params: { n: 3, nested: { hits: [] } } }),
    ];
    for (const results of [await pool.computeBatch(mutator, batch), await pool.computeBatch(mutator, batch)]) {
      expect(echoed(results.get('flat-1'))).toEqual({ n: 102 });
      expect(echoed(results.get('flat-2'))).toEqual({ n: 102 });
      expect(echoed(results.get('deep-1'))).toEqual({ n: 103, nested: { hits: [103] } });
      expect(echoed(results.get('deep-2'))).toEqual({ n: 103, nested: { hits: [103] } });
    }
  });

  it('parses params per trader when the schema’s output is not plain data', async () => {
    const dated = await build(
      'dated',
      `import { defineStrategy, z } from '@platform/strategy';
      export default defineStrategy({
        name: 'dated', params: z.object({ at: z.string().transform((s) => new Date(s)) }), defaults: { at: '2024-05-01T00:00:00Z' },
        compute(_ctx, p) {
          const year = p.at.getUTCFullYear();
          p.at.setUTCFullYear(1999);
          throw new Error(String(year));
        },
      });`,
    );
    const results = await pool.computeBatch(dated, [item('a'), item('b'), item('c', { params: { at: '2030-01-01T00:00:00Z' } })]);
    expect(results.get('a')).toEqual(failure('compute threw Error: 2024'));
    expect(results.get('b')).toEqual(failure('compute threw Error: 2024'));
    expect(results.get('c')).toEqual(failure('compute threw Error: 2030'));
  });

  it('fails malformed items and params that are not JSON without failing the rest of the batch', async () => {
    const results = await pool.computeBatch(echo, [
      { ...item('bad-params'), params: 5 as unknown as ComputeItem['params'] },
      { ...item('bad-now'), now: '1' as unknown as number },
      item('bigint', { params: { tag: 'x', extra: 1n } }),
      item('fine', { params: { tag: 'ok' } }),
    ]);
    expect(results.get('bad-params')).toEqual(failure('invalid compute item: params: Invalid input: expected record, received number'));
    expect(results.get('bad-now')).toEqual(failure('invalid compute item: now: Invalid input: expected number, received string'));
    expect(results.get('bigint')).toEqual(failure('invalid compute item: params: TypeError: Do not know how to serialize a BigInt'));
    expect(echoed(results.get('fine'))).toMatchObject({ params: { tag: 'ok' } });
  });

  it('hands traders with identical targets one shared result, frozen so no trader can alter another’s', async () => {
    const momentum = { ref: 'momentum@1', compiled: await compiled(SAMPLES, 'momentum.ts') };
    const results = await pool.computeBatch(momentum, [
      item('a', { now: NOW }),
      item('b', { now: NOW }),
      item('c', { now: 120 * MIN }),
      item('d', { now: NOW, params: { stopLossPct: 0.1 } }),
    ]);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => results.get(id)!);
    expect(a!.ok && Object.keys(a!.targets)).toHaveLength(3);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
    expect(c!.ok && [c!.candleFrom, c!.candleTo]).toEqual([21 * MIN, 120 * MIN]);
    for (const r of [a, c, d]) {
      if (!r!.ok) throw new Error('expected targets');
      expect(Object.isFrozen(r)).toBe(true);
      expect(Object.isFrozen(r!.targets)).toBe(true);
      expect(Object.isFrozen(r!.targets.BTCUSDT)).toBe(true);
    }
    expect(() => {
      (a as { targets: Record<string, { weight: number }> }).targets.BTCUSDT!.weight = 1;
    }).toThrow(TypeError);
  });
});

describe('strategy pool with a batch queued behind another in the same worker', () => {
  it('re-runs the queued batch in full however many times hangs ahead of it take the worker down', async () => {
    const pool = createStrategyPool({ windows: filledWindows(BARS).handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 300, maxCulprits: 10 });
    try {
      const hostile = pool.computeBatch({ ref: 'infinite-loop@1', compiled: await compiled(FIXTURES, 'infinite-loop.ts') }, [
        item('h-1'),
        item('ok-1', { params: { hang: false } }),
        item('h-2'),
        item('h-3'),
        item('ok-2', { params: { hang: false } }),
        item('h-4'),
      ]);
      const good = pool.computeBatch(
        { ref: 'momentum@1', compiled: await compiled(SAMPLES, 'momentum.ts') },
        [1, 2, 3, 4].map((n) => item(`g-${n}`, { now: NOW })),
      );
      const [h, g] = await Promise.all([hostile, good]);
      for (const id of ['h-1', 'h-2', 'h-3', 'h-4']) expect(h.get(id)).toEqual(failure('timed out after 300 ms'));
      for (const id of ['ok-1', 'ok-2']) expect(h.get(id)?.ok).toBe(true);
      for (const [id, r] of g) expect([id, r.ok && Object.keys(r.targets).length]).toEqual([id, 3]);
    } finally {
      await pool.close();
    }
  });

  it('re-runs the queued batch when the batch ahead of it exhausts the heap', async () => {
    const pool = createStrategyPool({ windows: filledWindows(BARS).handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 10_000, maxHeapMb: 64 });
    try {
      const oom = pool.computeBatch({ ref: 'oom@1', compiled: await compiled(FIXTURES, 'oom.ts') }, [
        item('o-ok', { params: { explode: false } }),
        item('o-boom'),
      ]);
      const good = pool.computeBatch({ ref: 'throws@1', compiled: await compiled(FIXTURES, 'throws.ts') }, [
        item('g-1', { params: { fail: false } }),
        item('g-2', { params: { fail: false } }),
      ]);
      const [o, g] = await Promise.all([oom, good]);
      expect(o.get('o-boom')).toEqual(failure('ran out of memory (limit 64 MB)'));
      expect(o.get('o-ok')?.ok).toBe(true);
      expect([...g.values()]).toEqual([
        { ok: true, targets: { BTCUSDT: { weight: 0.25 } }, candleFrom: null, candleTo: null },
        { ok: true, targets: { BTCUSDT: { weight: 0.25 } }, candleFrom: null, candleTo: null },
      ]);
    } finally {
      await pool.close();
    }
  });

  it('serves every batch correctly while workers retire with tasks queued behind them', async () => {
    const pool = createStrategyPool({ windows: filledWindows(2).handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 5000 });
    try {
      // An import that takes a few event-loop turns, so a queued task is mid-import when its worker retires.
      const slow = await build(
        'slow-import',
        `import { defineStrategy, z } from '@platform/strategy';
        await new Promise((resolve) => setTimeout(resolve, 5));
        export default defineStrategy({ name: 'slow-import', params: z.object({}), defaults: {}, compute: () => ({ BTCUSDT: { weight: 0.25 } }) });`,
      );
      // Each ref is a separate import; a worker retires after a dozen, all of these in flight at once.
      const all = await Promise.all(
        Array.from({ length: 30 }, (_, v) => pool.computeBatch({ ref: `slow-import@${v}`, compiled: slow.compiled }, [item(`t${v}`)])),
      );
      all.forEach((results, v) =>
        expect(results.get(`t${v}`)).toEqual({ ok: true, targets: { BTCUSDT: { weight: 0.25 } }, candleFrom: null, candleTo: null }),
      );
    } finally {
      await pool.close();
    }
  });
});
