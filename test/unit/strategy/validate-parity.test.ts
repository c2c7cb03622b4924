import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeValue, packTargets, TARGET_STRIDE, unpackTargets, validateTargets, WEIGHT_SUM_EPSILON } from '../../../runtime/strategy/validate.ts';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const known = new Set(SYMBOLS);
const index = new Map(SYMBOLS.map((s, i) => [s, i]));

/** validateTargets as it was before its fast path: zod for every target. */
function reference(out: unknown): { ok: true; targets: unknown } | { ok: false; error: string } {
  const finiteIn = (what: string, check: (n: number) => boolean) =>
    z.unknown().superRefine((v, ctx) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) ctx.addIssue({ code: 'custom', message: `${what}, got ${describeValue(v)}` });
    });
  const targetSchema = z.object(
    {
      weight: finiteIn('must be a finite number in [-1, 1]', (n) => n >= -1 && n <= 1),
      stopLoss: finiteIn('must be a finite positive number', (n) => n > 0).optional(),
      takeProfit: finiteIn('must be a finite positive number', (n) => n > 0).optional(),
    },
    { error: (iss) => `expected { weight, stopLoss?, takeProfit? }, got ${describeValue(iss.input)}` },
  );
  if (typeof out !== 'object' || out === null || Array.isArray(out)) {
    return { ok: false, error: `compute must return an object of target weights, got ${describeValue(out)}` };
  }
  if (typeof (out as { then?: unknown }).then === 'function') return { ok: false, error: 'compute must return target weights synchronously, got a Promise' };
  const targets: Record<string, unknown> = {};
  let sum = 0;
  for (const symbol of Object.keys(out)) {
    if (!known.has(symbol)) return { ok: false, error: `unknown symbol ${symbol}` };
    const parsed = targetSchema.safeParse((out as Record<string, unknown>)[symbol]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { ok: false, error: `${[symbol, ...issue.path.map(String)].join('.')}: ${issue.message}` };
    }
    const t = parsed.data as { weight: number; stopLoss?: number; takeProfit?: number };
    const clean: Record<string, number> = { weight: t.weight };
    if (t.stopLoss !== undefined) clean.stopLoss = t.stopLoss;
    if (t.takeProfit !== undefined) clean.takeProfit = t.takeProfit;
    targets[symbol] = clean;
    sum += Math.abs(t.weight);
  }
  if (sum > 1 + WEIGHT_SUM_EPSILON) return { ok: false, error: `sum of |weight| is ${+sum.toPrecision(12)}, above 1` };
  return { ok: true, targets };
}

class Target {
  constructor(readonly weight: number) {}
}

const values: unknown[] = [
  undefined, null, 0, -0, 0.5, -1, 1, 1.0000001, -1.5, Number.NaN, Infinity, -Infinity, Number.MIN_VALUE, 1e308, '0.5', true, 5n, [], {}, () => 0, new Date(0),
];
const outputs: unknown[] = [
  undefined, null, 0.5, 'x', [], [{ weight: 0.1 }], Promise.resolve({}), { then: () => undefined }, {}, new Date(0),
  { XYZ: { weight: 0.1 } },
  { BTCUSDT: { weight: 0.5 }, ETHUSDT: { weight: 0.5 } },
  { BTCUSDT: { weight: 0.5 }, ETHUSDT: { weight: 0.5 + 1e-10 } },
  { BTCUSDT: { weight: 0.7 }, ETHUSDT: { weight: -0.6 } },
  { BTCUSDT: { weight: 1 / 3 }, ETHUSDT: { weight: 1 / 3 }, SOLUSDT: { weight: 1 / 3 } },
  { BTCUSDT: { weight: 0.2, stopLoss: undefined, takeProfit: 110, note: 'kept out' } },
  { BTCUSDT: new Target(0.3) },
  { BTCUSDT: Object.assign(Object.create({ weight: 0.4 }) as object, { stopLoss: 90 }) },
  { BTCUSDT: [0.5] },
  { BTCUSDT: { weight: 0.1 }, XYZ: { weight: 0.1 } },
  { BTCUSDT: { weight: Number.NaN }, XYZ: { weight: 0.1 } },
  ...values.map((weight) => ({ ETHUSDT: { weight } })),
  ...values.map((stopLoss) => ({ ETHUSDT: { weight: -0.5, stopLoss } })),
  ...values.map((takeProfit) => ({ SOLUSDT: { weight: 0.5, stopLoss: 1, takeProfit } })),
  ...values.map((target) => ({ BTCUSDT: target })),
];

describe('validateTargets fast path', () => {
  it('accepts and rejects exactly what the zod schema does, with the same messages and the same targets', () => {
    for (const out of outputs) {
      expect([out, validateTargets(out, known)]).toEqual([out, reference(out)]);
      const r = validateTargets(out, known);
      if (r.ok) for (const t of Object.values(r.targets)) expect(Object.keys(t)).toEqual(Object.keys(t).filter((k) => ['weight', 'stopLoss', 'takeProfit'].includes(k)));
    }
  });

  it('packs into a reply and reads back to the same targets, or fails with the same message', () => {
    for (const out of outputs) {
      const dst = new Float64Array(2 + TARGET_STRIDE * SYMBOLS.length);
      const packed = packTargets(out, index, dst, 2);
      const direct = validateTargets(out, known);
      if (typeof packed === 'string') expect([out, packed]).toEqual([out, direct.ok ? 'accepted' : direct.error]);
      else {
        const back = unpackTargets(dst, 2, packed, SYMBOLS);
        expect([out, { ok: true, targets: back }]).toEqual([out, direct]);
        if (direct.ok) for (const s of Object.keys(back)) expect(Object.is(back[s]!.weight, direct.targets[s]!.weight)).toBe(true);
      }
    }
  });

  it('keeps a weight of -0 as -0 through packing', () => {
    const dst = new Float64Array(16);
    expect(packTargets({ BTCUSDT: { weight: -0 } }, index, dst, 0)).toBe(1);
    expect(Object.is(unpackTargets(dst, 0, 1, SYMBOLS).BTCUSDT!.weight, -0)).toBe(true);
  });
});
