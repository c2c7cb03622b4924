import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emptyAccumulator,
  snapshotMetrics,
  updateAccumulator,
  type MetricsAccumulator,
} from '../../../runtime/metrics/index.ts';

const MINUTE = 60_000;

function feed(initial: string, series: readonly string[], start = 0): MetricsAccumulator {
  return series.reduce((acc, pv, i) => updateAccumulator(acc, pv, start + (i + 1) * MINUTE), emptyAccumulator(initial));
}

/** The textbook formulas over the whole series, computed in one pass each. */
function batch(initial: number, series: readonly number[]) {
  const returns = series.slice(1).map((pv, i) => pv / series[i]! - 1);
  const n = returns.length;
  const mean = n ? returns.reduce((s, r) => s + r, 0) / n : 0;
  const variance = n > 1 ? returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (n - 1) : 0;
  const stdev = Math.sqrt(variance);
  let peak = -Infinity;
  let mdd = 0;
  for (const pv of series) {
    peak = Math.max(peak, pv);
    mdd = Math.max(mdd, (peak - pv) / peak);
  }
  const last = series.at(-1) ?? initial;
  return { roe: last / initial - 1, mdd, stdev, sharpe: n >= 30 && stdev > 0 ? (mean / stdev) * Math.sqrt(525_600) : null };
}

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
}

const cents = fc.integer({ min: 1, max: 1_000_000_000 });
const toPv = (c: number) => (c / 100).toFixed(2);
/** Any positive values, jumping anywhere from one minute to the next. */
const wildSeries = fc.array(cents, { maxLength: 120, size: 'max' }).map((xs) => xs.map(toPv));
/** A random walk of small per-minute returns, like a real account. */
const walkSeries = fc
  .tuple(cents, fc.array(fc.double({ min: -0.01, max: 0.01, noNaN: true }), { maxLength: 120, size: 'max' }))
  .map(([start, returns]) => {
    let pv = start / 100;
    return [pv.toFixed(8), ...returns.map((r) => (pv *= 1 + r).toFixed(8))];
  });

describe('metrics statistics', () => {
  it('matches the batch formulas for ROE, MDD and Sharpe on generated series', () => {
    fc.assert(
      fc.property(cents, fc.oneof(wildSeries, walkSeries), (initialCents, series) => {
        const snap = snapshotMetrics(feed(toPv(initialCents), series), '0');
        const expected = batch(initialCents / 100, series.map(Number));
        expect(Number(snap.pv)).toBe(Number(series.length ? series.at(-1) : toPv(initialCents)));
        expect(relativeError(snap.roe, expected.roe)).toBeLessThan(1e-9);
        expect(snap.mdd).toBeCloseTo(expected.mdd, 12);
        if (expected.sharpe === null) expect(snap.sharpe).toBeNull();
        else if (expected.stdev > 1e-9) {
          expect(snap.sharpe).not.toBeNull();
          expect(relativeError(snap.sharpe!, expected.sharpe)).toBeLessThan(1e-6);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is plain JSON that continues identically after a round trip', () => {
    fc.assert(
      fc.property(fc.oneof(wildSeries, walkSeries), fc.integer({ min: 1, max: 119 }), (series, cut) => {
        fc.pre(series.length >= 2);
        const split = Math.min(cut, series.length - 1);
        const whole = feed('1000', series);
        const head = feed('1000', series.slice(0, split));
        const revived = JSON.parse(JSON.stringify(head)) as MetricsAccumulator;
        const resumed = series
          .slice(split)
          .reduce((acc, pv, i) => updateAccumulator(acc, pv, (split + i + 1) * MINUTE), revived);
        expect(resumed).toEqual(whole);
      }),
    );
  });

  it('reports the initial capital, zero ROE and no Sharpe before any update', () => {
    expect(snapshotMetrics(emptyAccumulator('5000'), '0')).toEqual({ pv: '5000', roe: 0, upnl: '0', sharpe: null, mdd: 0 });
  });

  it('computes ROE as pv over initial capital minus one and passes uPnL through', () => {
    const acc = feed('1000', ['1000', '1100', '1250']);
    expect(snapshotMetrics(acc, '-3.5')).toMatchObject({ pv: '1250', roe: 0.25, upnl: '-3.5' });
  });

  it('measures the deepest peak-to-trough fall, not the latest one', () => {
    const acc = feed('100', ['100', '120', '90', '110', '130', '117']);
    expect(acc.mdd).toBeCloseTo(0.25, 12);
  });

  it('keeps Sharpe null until 30 returns are known', () => {
    const series = Array.from({ length: 31 }, (_, i) => String(1000 + (i % 2 === 0 ? i : -i)));
    expect(snapshotMetrics(feed('1000', series.slice(0, 30)), '0').sharpe).toBeNull();
    expect(snapshotMetrics(feed('1000', series), '0').sharpe).not.toBeNull();
  });

  it('keeps Sharpe null when the returns do not vary', () => {
    const flat = Array.from({ length: 50 }, () => '1000');
    expect(snapshotMetrics(feed('1000', flat), '0').sharpe).toBeNull();
  });

  it('annualizes Sharpe with the square root of the minutes in a year', () => {
    // Returns alternate +1% and −0.5%: mean 0.0025, sample stdev from 40 returns.
    let pv = 1000;
    const series = ['1000'];
    for (let i = 0; i < 40; i++) {
      pv *= i % 2 === 0 ? 1.01 : 0.995;
      series.push(pv.toFixed(10));
    }
    const returns = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 0.01 : -0.005));
    const mean = 0.0025;
    const stdev = Math.sqrt(returns.reduce((s, r) => s + (r - mean) ** 2, 0) / 39);
    const sharpe = snapshotMetrics(feed('1000', series), '0').sharpe!;
    expect(sharpe).toBeCloseTo((mean / stdev) * Math.sqrt(525_600), 3);
  });

  it('ignores an update at or before the last one', () => {
    const acc = updateAccumulator(emptyAccumulator('1000'), '1000', 2 * MINUTE);
    expect(updateAccumulator(acc, '500', 2 * MINUTE)).toBe(acc);
    expect(updateAccumulator(acc, '500', MINUTE)).toBe(acc);
  });

  it('counts a capital flow neither as a return nor as a drawdown', () => {
    let acc = updateAccumulator(emptyAccumulator('1000'), '1000', MINUTE);
    acc = updateAccumulator(acc, '2000', 2 * MINUTE, '1000');
    expect(acc.mean).toBe(0);
    expect(acc.count).toBe(1);
    acc = updateAccumulator(acc, '1900', 3 * MINUTE);
    expect(acc.mdd).toBeCloseTo(0.05, 12);
    acc = updateAccumulator(acc, '950', 4 * MINUTE, '-950');
    expect(acc.mdd).toBeCloseTo(0.05, 12);
    expect(acc.index).toBeCloseTo(0.95, 12);
    expect(acc.count).toBe(3);
    expect(acc.mean).toBeCloseTo(-0.05 / 3, 12);
  });

  it('returns a new accumulator and leaves the old one untouched', () => {
    const before = updateAccumulator(emptyAccumulator('1000'), '1000', MINUTE);
    const copy = structuredClone(before);
    const after = updateAccumulator(before, '900', 2 * MINUTE);
    expect(after).not.toBe(before);
    expect(before).toEqual(copy);
  });
});
