/**
 * The market folder's public surface: synthetic markets and candles, the synthetic feed and
 * the shared candle windows.
 */
export { SYNTHETIC_MARKETS, SYNTHETIC_PROFILES, type SyntheticProfile } from './markets.ts';
export {
  MINUTE_MS,
  REGIME_MINUTES,
  SYNTHETIC_TIMEFRAME,
  syntheticCandle,
  syntheticCandles,
  syntheticRegime,
  type Regime,
  type RegimeName,
} from './synthetic.ts';
export {
  createSyntheticFeed,
  type CandleNumbers,
  type CandleSink,
  type ClosedMinute,
  type SyntheticFeed,
  type SyntheticFeedOptions,
} from './feed.ts';
export * from './window.ts';
export {
  createOhlcvCollector,
  timeframeMs,
  type CcxtLike,
  type FetchOhlcv,
  type OhlcvAdapterLike,
  type OhlcvCollector,
  type OhlcvCollectorOptions,
  type OhlcvRowLike,
} from './collector.ts';
