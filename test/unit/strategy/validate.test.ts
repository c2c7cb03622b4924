import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateDefinition, validateTargets } from '../../../runtime/strategy/validate.ts';
import { defineStrategy } from '../../../runtime/strategy/sdk.ts';

const known = new Set(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
const error = (out: unknown) => {
  const r = validateTargets(out, known);
  return r.ok ? null : r.error;
};

describe('validateTargets', () => {
  it('accepts weights within bounds and keeps only weight, stopLoss and takeProfit', () => {
    const r = validateTargets({ BTCUSDT: { weight: 0.6, stopLoss: 90, takeProfit: 110, note: 'x' }, ETHUSDT: { weight: -0.4 } }, known);
    expect(r).toEqual({ ok: true, targets: { BTCUSDT: { weight: 0.6, stopLoss: 90, takeProfit: 110 }, ETHUSDT: { weight: -0.4 } } });
    expect(validateTargets({}, known)).toEqual({ ok: true, targets: {} });
    expect(error({ BTCUSDT: { weight: 0.7 }, ETHUSDT: { weight: 0.3 } })).toBeNull();
  });

  it('explains output that is not an object of targets', () => {
    expect(error(undefined)).toBe('compute must return an object of target weights, got undefined');
    expect(error(null)).toBe('compute must return an object of target weights, got null');
    expect(error([0.5])).toBe('compute must return an object of target weights, got an array');
    expect(error(0.5)).toBe('compute must return an object of target weights, got 0.5');
    expect(error(Promise.resolve({}))).toBe('compute must return target weights synchronously, got a Promise');
    expect(error({ BTCUSDT: 0.5 })).toBe('BTCUSDT: expected { weight, stopLoss?, takeProfit? }, got 0.5');
  });

  it('rejects weights that are not finite or outside [-1, 1]', () => {
    expect(error({ BTCUSDT: { weight: Number.NaN } })).toBe('BTCUSDT.weight: must be a finite number in [-1, 1], got NaN');
    expect(error({ BTCUSDT: { weight: Infinity } })).toBe('BTCUSDT.weight: must be a finite number in [-1, 1], got Infinity');
    expect(error({ BTCUSDT: { weight: 1.5 } })).toBe('BTCUSDT.weight: must be a finite number in [-1, 1], got 1.5');
    expect(error({ BTCUSDT: { weight: '0.5' } })).toBe('BTCUSDT.weight: must be a finite number in [-1, 1], got string');
    expect(error({ BTCUSDT: {} })).toBe('BTCUSDT.weight: must be a finite number in [-1, 1], got undefined');
  });

  it('rejects stop-loss and take-profit prices that are not finite and positive', () => {
    expect(error({ BTCUSDT: { weight: 0.5, stopLoss: 0 } })).toBe('BTCUSDT.stopLoss: must be a finite positive number, got 0');
    expect(error({ BTCUSDT: { weight: 0.5, takeProfit: Number.NaN } })).toBe('BTCUSDT.takeProfit: must be a finite positive number, got NaN');
  });

  it('rejects unknown symbols and a gross weight above 1', () => {
    expect(error({ BTCUSDT: { weight: 0.1 }, XYZ: { weight: 0.1 } })).toBe('unknown symbol XYZ');
    expect(error({ BTCUSDT: { weight: 0.8 }, ETHUSDT: { weight: -0.5 } })).toBe('sum of |weight| is 1.3, above 1');
    expect(error({ BTCUSDT: { weight: 0.7 }, ETHUSDT: { weight: 0.6 } })).toBe('sum of |weight| is 1.3, above 1');
  });
});

describe('validateDefinition', () => {
  const toJSONSchema = (s: z.ZodType) => z.toJSONSchema(s);
  const check = (def: unknown) => validateDefinition({ default: def }, known, toJSONSchema);
  const base = { name: 'x', params: z.object({ n: z.number().int().min(1) }), defaults: { n: 1 }, compute: () => ({}) };

  it('returns JSON-safe metadata with defaults for the optional fields', () => {
    const r = check(defineStrategy(base));
    expect(r.ok && r.strategy.meta).toEqual({
      name: 'x',
      description: '',
      defaults: { n: 1 },
      universe: [],
      timeframe: '1m',
      lookback: 0,
      paramsSchema: expect.objectContaining({ type: 'object', required: ['n'] }),
    });
  });

  it('falls back to a null params schema when zod cannot represent it as JSON Schema', () => {
    const r = check({ ...base, params: z.object({ at: z.date() }), defaults: { at: new Date(0) } });
    expect(r.ok && r.strategy.meta.paramsSchema).toBeNull();
  });

  it('explains each way a default export is not a strategy', () => {
    const err = (def: unknown) => {
      const r = check(def);
      return r.ok ? null : r.error;
    };
    expect(validateDefinition({}, known, toJSONSchema)).toEqual({ ok: false, error: 'no default export (export default defineStrategy({ … }))' });
    expect(err(42)).toBe('default export is not a strategy: expected an object, got 42');
    expect(err({ ...base, name: undefined })).toBe('default export is not a strategy: missing name');
    expect(err({ ...base, name: 'two words' })).toBe("default export is not a strategy: invalid name 'two words' (letters, digits, _ . - only)");
    expect(err({ ...base, compute: undefined })).toBe('default export is not a strategy: missing compute');
    expect(err({ ...base, params: { n: 'number' } })).toBe('default export is not a strategy: params is not a zod schema');
    expect(err({ ...base, defaults: { n: 0 } })).toBe('defaults do not satisfy params: n: Too small: expected number to be >=1');
    expect(err({ ...base, universe: ['BTCUSDT', 'XYZ'] })).toBe('universe has unknown symbol XYZ');
  });
});
