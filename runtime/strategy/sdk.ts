/**
 * The strategy SDK that authors import as `@platform/strategy`. It is bundled into every
 * strategy version, so it stays tiny and imports nothing but zod.
 */
import { z } from 'zod';

export { z };

/** A candle field that `ctx.history` can read. */
export type CandleField = 'open' | 'high' | 'low' | 'close' | 'volume';

/** A position the trader holds when compute runs. */
export interface PositionView {
  readonly side: 'long' | 'short';
  readonly amount: number;
  readonly entryPrice: number;
  /** Current weight of the position in the trader's equity (negative when short). */
  readonly weight: number;
}

/** What `compute` sees: the cycle's time, the trader's book and the candle history. */
export interface StrategyContext {
  /** Open time (ms) of the candle that triggered this cycle; history never goes past it. */
  readonly now: number;
  /** Trader equity in quote units. */
  readonly equity: number;
  readonly positions: Readonly<Record<string, PositionView>>;
  /** The last `window` values of `field` per symbol, oldest first (fewer when history is short). */
  history(symbols: readonly string[], opts: { readonly window: number; readonly field: CandleField }): Record<string, Float64Array>;
}

/** One target: weight in [-1, 1] (negative is short), optional stop-loss and take-profit prices. */
export interface TargetWeight {
  readonly weight: number;
  readonly stopLoss?: number;
  readonly takeProfit?: number;
}

/** Target weights keyed by symbol; Σ|weight| ≤ 1. Symbols left out are closed. */
export type TargetWeights = Readonly<Record<string, TargetWeight>>;

/** The params schema: a zod schema of an object (a trader's params are merged over the defaults). */
export type ParamsSchema = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

/** A strategy as an author writes it; `compute` runs once per trader per cycle. */
export interface StrategyDefinition<P extends ParamsSchema = ParamsSchema> {
  /** Unique across the registry; letters, digits, `_`, `.` and `-`. */
  readonly name: string;
  readonly description?: string;
  /** The zod schema of the params a trader may set. */
  readonly params: P;
  /** Params used where a trader sets none; must satisfy `params`. */
  readonly defaults: z.input<P>;
  /** Symbols the strategy trades (informational; compute decides). */
  readonly universe?: readonly string[];
  /** Candle timeframe, e.g. `1m`. */
  readonly timeframe?: string;
  /** How many candles of history compute needs. */
  readonly lookback?: number;
  compute(this: StrategyDefinition<P>, ctx: StrategyContext, params: z.output<P>): TargetWeights;
}

/**
 * Declares a strategy; the file's default export must be its result.
 * @example export default defineStrategy({ name: 'flat', params: z.object({}), defaults: {}, compute: () => ({}) });
 */
export function defineStrategy<P extends ParamsSchema>(definition: StrategyDefinition<P>): StrategyDefinition<P> {
  return definition;
}
