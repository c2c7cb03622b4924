/**
 * Performance statistics (pure): a small serializable accumulator per scope, updated once a
 * minute with the portfolio value, from which PV, ROE, Sharpe and MDD are read in O(1).
 * Money (PV, peak) stays decimal; the statistics are numbers.
 */
import type { DecimalString } from '../domain.ts';
import { dec } from '../exchange/precision.ts';

/** Minutes in a 365-day year: per-minute Sharpe × √this is annualized. */
export const MINUTES_PER_YEAR = 525_600;
/** Sharpe stays null until this many returns are known. */
export const MIN_RETURNS_FOR_SHARPE = 30;

/** The running state of one scope's statistics (plain JSON). */
export interface MetricsAccumulator {
  readonly initialCapital: DecimalString;
  /** Last portfolio value, or null before the first update. */
  readonly pv: DecimalString | null;
  /** Time of the last update (epoch ms), or null before the first. */
  readonly at: number | null;
  /** Growth of 1 since the first update, capital flows excluded (drives the drawdown). */
  readonly index: number;
  /** Highest `index` so far. */
  readonly peakIndex: number;
  /** Largest peak-to-trough drawdown so far, as a positive fraction. */
  readonly mdd: number;
  /** Welford's running count, mean and sum of squared deviations of the simple returns. */
  readonly count: number;
  readonly mean: number;
  readonly m2: number;
}

/** The figures a metrics row carries. */
export interface MetricsSnapshot {
  readonly pv: DecimalString;
  /** pv / initial − 1. */
  readonly roe: number;
  readonly upnl: DecimalString;
  /** Annualized Sharpe of per-minute returns, or null when not yet meaningful. */
  readonly sharpe: number | null;
  readonly mdd: number;
}

/** An accumulator that has seen nothing yet. */
export function emptyAccumulator(initialCapital: DecimalString): MetricsAccumulator {
  return { initialCapital, pv: null, at: null, index: 1, peakIndex: 1, mdd: 0, count: 0, mean: 0, m2: 0 };
}

/**
 * Folds one portfolio value into the accumulator and returns a new one. An update at or
 * before the last one is ignored (same object back). `flow` is capital that entered (or, when
 * negative, left) since the last update: it counts neither as return nor as drawdown.
 * @example acc = updateAccumulator(acc, '1012.50', clock.now())
 */
export function updateAccumulator(
  acc: MetricsAccumulator,
  pv: DecimalString,
  at: number,
  flow: DecimalString = '0',
): MetricsAccumulator {
  if (acc.at !== null && !(at > acc.at)) return acc;
  // Returns, Sharpe and drawdown are statistics (doubles); the PV itself is kept as given, exact.
  const value = Number(pv);
  if (!Number.isFinite(value)) throw new Error(`portfolio value is not a number: ${pv}`);
  if (acc.pv === null) return { ...acc, pv, at };

  const prev = Number(acc.pv);
  // No return is defined from a non-positive value: the statistics wait for the next one.
  if (!(prev > 0)) return { ...acc, pv, at };
  const growth = (value - Number(flow)) / prev;
  const r = growth - 1;
  const count = acc.count + 1;
  const delta = r - acc.mean;
  const mean = acc.mean + delta / count;
  const m2 = acc.m2 + delta * (r - mean);
  const index = acc.index * growth;
  const peakIndex = Math.max(acc.peakIndex, index);
  const drawdown = peakIndex > 0 ? 1 - index / peakIndex : 0;
  return { ...acc, pv, at, index, peakIndex, mdd: Math.max(acc.mdd, drawdown), count, mean, m2 };
}

/**
 * Reads PV, ROE, Sharpe and MDD from an accumulator; before the first update PV is the
 * initial capital.
 */
export function snapshotMetrics(acc: MetricsAccumulator, upnl: DecimalString): MetricsSnapshot {
  const pv = acc.pv ?? dec(acc.initialCapital).toFixed();
  const initial = Number(acc.initialCapital);
  const roe = initial > 0 ? (Number(pv) - initial) / initial : 0;
  return { pv, roe, upnl, sharpe: sharpeOf(acc), mdd: acc.mdd };
}

/** Annualized Sharpe (sample standard deviation), null under 30 returns or with no variance. */
function sharpeOf(acc: MetricsAccumulator): number | null {
  if (acc.count < MIN_RETURNS_FOR_SHARPE) return null;
  const stdev = Math.sqrt(acc.m2 / (acc.count - 1));
  if (!(stdev > 0) || !Number.isFinite(stdev)) return null;
  const sharpe = (acc.mean / stdev) * Math.sqrt(MINUTES_PER_YEAR);
  return Number.isFinite(sharpe) ? sharpe : null;
}
