/**
 * The actor tree: supervisor → managers → traders, and the pure supervision policy. Actors hold
 * no I/O: the runtime provides every effect by name with `.provide()` and creates the root with a
 * clock that has `now()` (see {@link ActorSystemClock}).
 */
export { systemNow, MISSING_CLOCK_MESSAGE } from './clock.ts';
export { cancelEffect, traderEffect } from './effects.ts';
export type { CancelSignal, EffectAction, EffectArgs, EffectDoneEvent, EffectErrorEvent, EffectParams } from './effects.ts';
export type { ActorSystemClock, ClockedSystem } from './clock.ts';
export { messageOf, toErrorInfo } from './errors.ts';
export { NO_PAUSES, addPause, effectivePause, pauseSetOf, releasePauses, unionPauses } from './pause.ts';
export type { PauseSet } from './pause.ts';
export { DEFAULT_POLICY, backoffDelay, decideRestart, pendingRestartDelay, pruneLog } from './supervision.ts';
export type { Decision, SupervisionPolicy } from './supervision.ts';
export { traderMachine, traderStateDetail, traderStatus } from './trader.machine.ts';
export type {
  ComputeTargetsInput,
  CycleSkippedParams,
  ExecuteRebalanceInput,
  LoadTraderInput,
  LoadTraderOutput,
  TraderActorRef,
  TraderContext,
  TraderCycle,
  TraderDesired,
  TraderEvent,
  TraderFailEvent,
  TraderFailedEvent,
  TraderInput,
  TraderPauseEvent,
  TraderRestartEvent,
  TraderResumeEvent,
  TraderSnapshot,
  TraderStopEvent,
  TraderTickEvent,
} from './trader.machine.ts';
export { SUPERVISION_ACTOR, managerMachine } from './manager.machine.ts';
export type {
  ChildErrorEvent,
  ManagerActorRef,
  ManagerAddTradersEvent,
  ManagerContext,
  ManagerEvent,
  ManagerInput,
  ManagerPauseEvent,
  ManagerRemoveTraderEvent,
  ManagerRestartTraderEvent,
  ManagerResumeEvent,
  ManagerSnapshot,
  ManagerTraderFailedEvent,
  RestartScheduledParams,
  TraderEscalatedParams,
  TraderRespawnedParams,
} from './manager.machine.ts';
export { supervisorMachine } from './supervisor.machine.ts';
export type {
  ManagerErrorEvent,
  ManagerFailedParams,
  OpenGateParams,
  SupervisorActorRef,
  SupervisorAddManagerEvent,
  SupervisorContext,
  SupervisorEvent,
  SupervisorInput,
  SupervisorPauseAllEvent,
  SupervisorResumeAllEvent,
  SupervisorSnapshot,
} from './supervisor.machine.ts';
export { observeSafely } from './observe.ts';
export type { Observable } from './observe.ts';
