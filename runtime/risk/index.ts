/** Public surface of the risk folder: the pre-trade checks. */
export {
  checkOrder,
  DEFAULT_LIMITS,
  resolveLimits,
  reviewPlan,
  type ReviewedOrder,
  type RiskCheck,
  type RiskContext,
  type RiskDecision,
} from './pretrade.ts';
