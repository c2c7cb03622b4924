/**
 * The runtime's public surface: configuration, clocks, the node (composition root), the
 * platform API and the domain vocabulary. Other top-level folders import only from here.
 */
export * from './domain.ts';
export type * from './api.ts';
export { loadConfig, ConfigError, type Config } from './config.ts';
export { createManualClock, createScaledClock, minuteFloor, systemClock, type Clock, type ManualClock } from './clock.ts';
export { createLogger, REDACT_PATHS, type Logger } from './log.ts';
export { startNode, type NodeOptions, type RuntimeNode, type TraderView } from './node.ts';
export type { RebalanceReport, PlanLine, OrderOutcome } from './rebalance/execute.ts';
export { USER_SUSPENDED_REASON } from './api.ts';
export {
  createAdminApi,
  failureBursts,
  liquidationRisk,
  newAddressSignIns,
  SUSPICIOUS_FAILURES,
  USER_SORTS,
  type AdminApi,
  type AdminCaller,
  type AdminDeps,
  type AdminErrorCode,
  type AdminPosition,
  type AdminResult,
  type AuditLogPage,
  type AuditLogQuery,
  type IpActivity,
  type KeyQuery,
  type KeyRow,
  type LiquidationRisk,
  type PoliciesView,
  type PolicyInput,
  type ReleaseOutcome,
  type SessionSummary,
  type SignInSecurityView,
  type SuspiciousSignIn,
  type UserDetail,
  type UserPage,
  type UserPosition,
  type UserQuery,
  type UserRow,
  type UserSort,
  type ViolationQuery,
  type ViolationRow,
} from './admin.ts';
