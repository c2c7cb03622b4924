/**
 * The strategy module: the SDK authors import, the registry that versions strategy files, the
 * worker pool that runs them over shared candle windows, and the validation both sides share.
 */
export { defineStrategy, z } from './sdk.ts';
export type {
  CandleField,
  ParamsSchema,
  PositionView,
  StrategyContext,
  StrategyDefinition,
  TargetWeight,
  TargetWeights,
} from './sdk.ts';
export { compileStrategy, hashSource, SDK_PATH, STRATEGY_EXTENSIONS } from './compile.ts';
export { createStrategyPool } from './pool.ts';
export type { ComputeItem, ComputeResult, InspectResult, PoolStats, StrategyPool, StrategyPoolOptions } from './pool.ts';
export { createRegistry, isStrategyFile } from './registry.ts';
export type { Registry, RegistryChange, RegistryLog, RegistryOptions } from './registry.ts';
export { validateTargets, validateDefinition, WEIGHT_SUM_EPSILON } from './validate.ts';
export type { InspectedMeta } from './validate.ts';
