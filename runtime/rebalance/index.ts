/** Public surface of the rebalance folder: the pure planner. */
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_THRESHOLD,
  planRebalance,
  type PlanInput,
  type PlannedOrder,
  type PlannedOrderKind,
  type RebalancePlan,
  type SkippedSymbol,
} from './plan.ts';
