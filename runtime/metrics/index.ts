/** Public surface of the metrics folder: the pure statistics and the per-minute collector. */
export {
  emptyAccumulator,
  MIN_RETURNS_FOR_SHARPE,
  MINUTES_PER_YEAR,
  snapshotMetrics,
  updateAccumulator,
  type MetricsAccumulator,
  type MetricsSnapshot,
} from './stats.ts';
export {
  COLLECT_SLICE,
  createMetricsCollector,
  PLATFORM_SCOPE_ID,
  type CollectReport,
  type MeasuredTrader,
  type MetricsCollector,
  type MetricsCollectorDeps,
  type TraderReading,
} from './collector.ts';
