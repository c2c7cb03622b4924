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
