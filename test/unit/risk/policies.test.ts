import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  evaluatePolicies,
  resolvePolicy,
  type PolicyInput,
  type ResolvedLimits,
} from '../../../runtime/risk/index.ts';

const limits = (over: Partial<ResolvedLimits> = {}): ResolvedLimits => ({ dailyStopLossPct: 10, totalStopLossPct: 30, maxLeverage: 10, ...over });

function input(over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    trader: { id: 't-1', userId: 'u-1', leverage: 2, initialCapital: '1000' },
    policy: limits(),
    dayStartPv: '1000',
    pv: '1000',
    ...over,
  };
}

describe('evaluatePolicies', () => {
  it('finds nothing for a trader within every limit', () => {
    expect(evaluatePolicies(input({ pv: '950' }))).toEqual([]);
  });

  it('reports a daily loss that passed the limit with the exact message', () => {
    expect(evaluatePolicies(input({ pv: '876' }))).toEqual([
      { policy: 'dailyStopLoss', observed: '12.4', limit: '10', message: 'daily loss 12.4 % reached the limit 10 %' },
    ]);
  });

  it('breaches the daily stop-loss exactly at the limit, not a cent before it', () => {
    expect(evaluatePolicies(input({ pv: '900' })).map((b) => b.policy)).toEqual(['dailyStopLoss']);
    expect(evaluatePolicies(input({ pv: '900.01' }))).toEqual([]);
  });

  it('measures the daily loss from the day-start PV, not from the initial capital', () => {
    // Up 50 % overall, but down 10 % today.
    const out = evaluatePolicies(input({ dayStartPv: '1500', pv: '1350' }));
    expect(out).toEqual([
      { policy: 'dailyStopLoss', observed: '10', limit: '10', message: 'daily loss 10 % reached the limit 10 %' },
    ]);
  });

  it('truncates the shown loss so a breach never reads as under its limit, and keeps 6 decimals stored', () => {
    const [b] = evaluatePolicies(input({ dayStartPv: '3', pv: '2.6999' }));
    expect(b?.message).toBe('daily loss 10 % reached the limit 10 %');
    expect(b?.observed).toBe('10.003333');
  });

  it('reports a total loss against the initial capital', () => {
    const out = evaluatePolicies(input({ dayStartPv: '720', pv: '700' }));
    expect(out).toEqual([
      { policy: 'totalStopLoss', observed: '30', limit: '30', message: 'total loss 30 % reached the limit 30 %' },
    ]);
    expect(evaluatePolicies(input({ dayStartPv: '720', pv: '700.01' }))).toEqual([]);
  });

  it('measures the total loss from a release basis when one is given, and says so', () => {
    const out = evaluatePolicies(input({ dayStartPv: '500', pv: '491', totalBasePv: '700' }));
    expect(out).toEqual([]);
    const [b] = evaluatePolicies(input({ dayStartPv: '500', pv: '480', totalBasePv: '700' }));
    expect(b).toEqual({
      policy: 'totalStopLoss',
      observed: '31.428571',
      limit: '30',
      message: 'total loss 31.42 % since the release at PV 700 reached the limit 30 %',
    });
  });

  it('reports both stop-losses at once, daily first', () => {
    expect(evaluatePolicies(input({ dayStartPv: '800', pv: '600' })).map((b) => b.message)).toEqual([
      'daily loss 25 % reached the limit 10 %',
      'total loss 40 % reached the limit 30 %',
    ]);
  });

  it('allows leverage at the cap and reports it above the cap', () => {
    expect(evaluatePolicies(input({ trader: { id: 't-1', userId: 'u-1', leverage: 10, initialCapital: '1000' } }))).toEqual([]);
    expect(evaluatePolicies(input({ trader: { id: 't-1', userId: 'u-1', leverage: 12, initialCapital: '1000' } }))).toEqual([
      { policy: 'maxLeverage', observed: '12', limit: '10', message: 'leverage 12 is over the cap 10' },
    ]);
  });

  it('reports the position leverage when it is the one over the cap', () => {
    expect(evaluatePolicies(input({ positionsLeverage: 10 }))).toEqual([]);
    expect(evaluatePolicies(input({ positionsLeverage: 12.345 }))).toEqual([
      { policy: 'maxLeverage', observed: '12.345', limit: '10', message: 'position leverage 12.34 is over the cap 10' },
    ]);
  });

  it('reports one leverage breach with the larger of the configured and the position leverage', () => {
    const out = evaluatePolicies(input({ trader: { id: 't-1', userId: 'u-1', leverage: 15, initialCapital: '1000' }, positionsLeverage: 11 }));
    expect(out).toEqual([{ policy: 'maxLeverage', observed: '15', limit: '10', message: 'leverage 15 is over the cap 10' }]);
  });

  it('skips a stop-loss whose basis is not positive', () => {
    expect(evaluatePolicies(input({ dayStartPv: '0', pv: '-5', trader: { id: 't-1', userId: 'u-1', leverage: 1, initialCapital: '0' } }))).toEqual([]);
  });

  it('computes losses in exact decimals: 0.3 → 0.27 is 10 % (floats say 9.999…)', () => {
    const trader = { id: 't-1', userId: 'u-1', leverage: 1, initialCapital: '0.3' };
    expect(((0.3 - 0.27) / 0.3) * 100).toBeLessThan(10);
    expect(evaluatePolicies(input({ trader, dayStartPv: '0.3', pv: '0.27' })).map((b) => b.observed)).toEqual(['10']);
  });

  it('throws on a PV that is not a decimal number (a broken invariant)', () => {
    expect(() => evaluatePolicies(input({ pv: 'NaN' }))).toThrow('not a finite decimal: NaN');
  });
});

describe('resolvePolicy', () => {
  it('takes the defaults when no layer is stored', () => {
    expect(resolvePolicy({})).toEqual({
      ...DEFAULT_POLICY,
      sources: { dailyStopLossPct: 'default', totalStopLossPct: 'default', maxLeverage: 'default' },
    });
  });

  it('lets the trader win over the user and the user over the platform, field by field', () => {
    const r = resolvePolicy({
      platform: { dailyStopLossPct: 8, totalStopLossPct: 25, maxLeverage: 5 },
      user: { dailyStopLossPct: 6, totalStopLossPct: null, maxLeverage: 3 },
      trader: { dailyStopLossPct: 4, totalStopLossPct: null, maxLeverage: null },
    });
    expect(r).toEqual({
      dailyStopLossPct: 4,
      totalStopLossPct: 25,
      maxLeverage: 3,
      sources: { dailyStopLossPct: 'trader', totalStopLossPct: 'platform', maxLeverage: 'user' },
    });
  });

  it('ignores zero, negative and non-finite values as if they were not set', () => {
    const r = resolvePolicy({
      platform: { dailyStopLossPct: 8, totalStopLossPct: 25, maxLeverage: 5 },
      trader: { dailyStopLossPct: 0, totalStopLossPct: -1, maxLeverage: Number.NaN },
    });
    expect([r.dailyStopLossPct, r.totalStopLossPct, r.maxLeverage]).toEqual([8, 25, 5]);
  });
});
