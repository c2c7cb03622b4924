/** Public surface of the rebalance folder: the pure planner and the pure managed-exit rules. */
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
export {
  exitLevelsFromOrders,
  triggeredExits,
  type ExitLevel,
  type ExitTrigger,
  type ManagedExits,
  type PriceRange,
  type TriggeredExit,
} from './exits.ts';
export type { ExitLine, RebalanceCycle, RebalanceReport } from './execute.ts';
