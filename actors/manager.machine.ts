/**
 * One manager (a trader group): parents its traders, forwards pause and resume to them, and
 * supervises them: a failed trader is restarted with backoff, or escalated when it fails too often.
 *
 * Injected by name (replace with `.provide()`):
 * - actor `trader`: the trader logic (defaults to {@link traderMachine}; provide it to inject the
 *   trader's own effects)
 * - action `restartScheduled` (params {@link RestartScheduledParams})
 * - action `traderEscalated` (params {@link TraderEscalatedParams})
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { ActorRefFrom, SnapshotFrom } from 'xstate';
import type { ErrorInfo, ManagerId, PauseInfo, PauseScope, TraderId } from '../runtime/domain.ts';
import { systemNow } from './clock.ts';
import { toErrorInfo } from './errors.ts';
import { addPause, effectivePause, pauseSetOf, releasePauses, unionPauses } from './pause.ts';
import type { PauseSet } from './pause.ts';
import { decideRestart, pendingRestartDelay, pruneLog } from './supervision.ts';
import type { Decision, SupervisionPolicy } from './supervision.ts';
import { traderMachine, traderStatus } from './trader.machine.ts';
import type { TraderActorRef, TraderContext, TraderInput, TraderSnapshot } from './trader.machine.ts';

/** What a manager actor is created from; a restarted process passes the stored state here. */
export interface ManagerInput {
  readonly managerId: ManagerId;
  readonly policy: SupervisionPolicy;
  readonly traders: readonly TraderInput[];
  /** The group's pause shown and persisted (used when `pauses` is absent). */
  readonly pause?: PauseInfo | null;
  /** Every group-level pause in force, if stored. */
  readonly pauses?: PauseSet | null;
  /** Restart times per trader, as persisted from {@link ManagerContext.restarts}. */
  readonly restarts?: Readonly<Record<string, readonly number[]>>;
  /** Escalated traders, as persisted from {@link ManagerContext.escalated}. */
  readonly escalated?: Readonly<Record<string, boolean>>;
}

/** A manager's context; `pause`, `restarts` and `escalated` are what the runtime persists. */
export interface ManagerContext {
  readonly managerId: ManagerId;
  readonly policy: SupervisionPolicy;
  /** The group's pause shown and persisted: the hardest to release of `pauses`, or null. */
  readonly pause: PauseInfo | null;
  /** Every group-level pause in force (`manager`, `all`); new traders inherit them. */
  readonly pauses: PauseSet;
  /** Child traders by trader id (the child id is the trader id). */
  readonly traders: Readonly<Record<string, TraderActorRef>>;
  readonly restarts: Readonly<Record<string, readonly number[]>>;
  readonly escalated: Readonly<Record<string, boolean>>;
}

/** Pauses every trader of the group; `scope` defaults to `manager`. */
export interface ManagerPauseEvent {
  readonly type: 'manager.pause';
  readonly by: string;
  readonly reason: string;
  readonly at: number;
  readonly scope?: PauseScope;
}
/** Lifts the pause of `scope` (default `manager`) from the group and from each of its traders. */
export interface ManagerResumeEvent {
  readonly type: 'manager.resume';
  readonly by: string;
  readonly at: number;
  readonly scope?: PauseScope;
}
/** An operator's restart: clears the trader's escalation and restart log, then restarts it. */
export interface ManagerRestartTraderEvent {
  readonly type: 'manager.restartTrader';
  readonly traderId: TraderId;
  readonly by: string;
}
/** Adds traders to the group (spawned in one step; ids already present are ignored). */
export interface ManagerAddTradersEvent {
  readonly type: 'manager.addTraders';
  readonly traders: readonly TraderInput[];
}
/** Stops one trader and forgets it. */
export interface ManagerRemoveTraderEvent {
  readonly type: 'manager.removeTrader';
  readonly traderId: TraderId;
}
/** A child trader failed into `error` (sent by the trader itself). */
export interface ManagerTraderFailedEvent {
  readonly type: 'trader.failed';
  readonly traderId: TraderId;
  readonly error: ErrorInfo;
}
/** XState's event when a child actor threw (its id follows the prefix). */
export interface ChildErrorEvent {
  readonly type: `xstate.error.actor.${string}`;
  readonly error: unknown;
  readonly actorId?: string;
}

/** Every event a manager accepts. */
export type ManagerEvent =
  | ManagerPauseEvent
  | ManagerResumeEvent
  | ManagerRestartTraderEvent
  | ManagerAddTradersEvent
  | ManagerRemoveTraderEvent
  | ManagerTraderFailedEvent
  | ChildErrorEvent;

/** Params of the injected `restartScheduled` action; `attempt` counts restarts in the window. */
export interface RestartScheduledParams {
  readonly traderId: TraderId;
  readonly delayMs: number;
  readonly attempt: number;
}

/** Params of the injected `traderEscalated` action: the trader stays in `error` for a human. */
export interface TraderEscalatedParams {
  readonly traderId: TraderId;
  readonly reason: string;
}

/**
 * Params of the injected `traderRespawned` action: a trader that threw was replaced by a new actor
 * (in `error`) under the same id; whoever observed the old reference must subscribe to `ref`.
 */
export interface TraderRespawnedParams {
  readonly traderId: TraderId;
  readonly ref: TraderActorRef;
}

/** The `by` of restarts the manager sends on its own. */
export const SUPERVISION_ACTOR = 'supervision';

const CHILD_ERROR_PREFIX = 'xstate.error.actor.';

/** The id of the delayed `trader.restart` of one trader (one pending restart per trader). */
function restartId(traderId: string): string {
  return `restart:${traderId}`;
}

/** A trader's input inside this group: its manager id, plus the group's pauses. */
function childInput(t: TraderInput, managerId: ManagerId, groupPauses: PauseSet): TraderInput {
  const pauses = unionPauses(pauseSetOf(t.pause, t.pauses), groupPauses);
  return { ...t, managerId, pause: effectivePause(pauses), pauses };
}

/**
 * The manager machine. All traders are spawned in one `assign` (XState copies a parent's children
 * map on every spawn, so one event per child would cost quadratic time).
 */
export const managerMachine = setup({
  types: {
    context: {} as ManagerContext,
    events: {} as ManagerEvent,
    input: {} as ManagerInput,
  },
  actors: { trader: traderMachine },
  actions: {
    restartScheduled: (_, _params: RestartScheduledParams) => {},
    traderEscalated: (_, _params: TraderEscalatedParams) => {},
    traderRespawned: (_, _params: TraderRespawnedParams) => {},
  },
  guards: {
    childRebuildable: ({ context, event }) => lastContextOf(context, event) !== undefined,
  },
}).createMachine({
  id: 'manager',
  context: ({ input, spawn, self }) => {
    systemNow(self.system);
    const pauses = pauseSetOf(input.pause, input.pauses);
    const traders: Record<string, TraderActorRef> = {};
    for (const t of input.traders) {
      traders[t.traderId] = spawn('trader', { id: t.traderId, input: childInput(t, input.managerId, pauses) });
    }
    return {
      managerId: input.managerId,
      policy: input.policy,
      pause: effectivePause(pauses),
      pauses,
      traders,
      restarts: { ...(input.restarts ?? {}) },
      escalated: { ...(input.escalated ?? {}) },
    };
  },
  // Delayed events do not survive a process restart: a trader that boots in `error` gets the
  // restart that was pending for it again, at its original due time, without a new log entry.
  entry: enqueueActions(({ context, system, enqueue }) => {
    for (const p of pendingRestarts(context, Object.keys(context.traders), systemNow(system))) {
      enqueue.sendTo(p.ref, supervisionRestart, { delay: p.delayMs, id: restartId(p.traderId) });
      enqueue({ type: 'restartScheduled', params: { traderId: p.traderId, delayMs: p.delayMs, attempt: p.attempt } });
    }
  }),
  initial: 'supervising',
  states: {
    supervising: {
      on: {
        'manager.pause': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const info: PauseInfo = { by: event.by, reason: event.reason, scope: event.scope ?? 'manager', at: event.at };
            const pauses = addPause(context.pauses, info);
            enqueue.assign({ pauses, pause: effectivePause(pauses) });
            for (const ref of Object.values(context.traders)) {
              enqueue.sendTo(ref, { type: 'trader.pause', ...info });
            }
          }),
        },
        'manager.resume': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const scope = event.scope ?? 'manager';
            const pauses = releasePauses(context.pauses, scope);
            enqueue.assign({ pauses, pause: effectivePause(pauses) });
            for (const ref of Object.values(context.traders)) {
              enqueue.sendTo(ref, { type: 'trader.resume', by: event.by, scope, at: event.at });
            }
          }),
        },
        'trader.failed': {
          actions: enqueueActions(({ context, event, system, enqueue }) => {
            const { traderId, error } = event;
            const ref = context.traders[traderId];
            if (ref === undefined || context.escalated[traderId] === true) return;
            const decision = decideFailure(context, traderId, error, systemNow(system));
            if (decision.action === 'restart') {
              enqueue.assign({ restarts: { ...context.restarts, [traderId]: decision.log } });
              enqueue.sendTo(ref, supervisionRestart, { delay: decision.delayMs, id: restartId(traderId) });
              enqueue({
                type: 'restartScheduled',
                params: { traderId, delayMs: decision.delayMs, attempt: decision.log.length },
              });
            } else {
              enqueue.assign({
                restarts: { ...context.restarts, [traderId]: decision.log },
                escalated: { ...context.escalated, [traderId]: true },
              });
              enqueue({ type: 'traderEscalated', params: { traderId, reason: decision.reason } });
            }
          }),
        },
        'manager.restartTrader': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const ref = context.traders[event.traderId];
            if (ref === undefined) return;
            enqueue.cancel(restartId(event.traderId));
            enqueue.assign({
              restarts: withoutKey(context.restarts, event.traderId),
              escalated: withoutKey(context.escalated, event.traderId),
            });
            enqueue.sendTo(ref, { type: 'trader.restart', by: event.by });
          }),
        },
        'manager.addTraders': {
          actions: [
            assign({
              traders: ({ context, event, spawn }) => {
                const traders = { ...context.traders };
                for (const t of event.traders) {
                  if (traders[t.traderId] !== undefined) continue;
                  traders[t.traderId] = spawn('trader', {
                    id: t.traderId,
                    input: childInput(t, context.managerId, context.pauses),
                  });
                }
                return traders;
              },
            }),
            enqueueActions(({ context, event, system, enqueue }) => {
              const ids = event.traders.map((t) => t.traderId);
              for (const p of pendingRestarts(context, ids, systemNow(system))) {
                enqueue.sendTo(p.ref, supervisionRestart, { delay: p.delayMs, id: restartId(p.traderId) });
                enqueue({
                  type: 'restartScheduled',
                  params: { traderId: p.traderId, delayMs: p.delayMs, attempt: p.attempt },
                });
              }
            }),
          ],
        },
        'manager.removeTrader': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const ref = context.traders[event.traderId];
            if (ref === undefined) return;
            enqueue.cancel(restartId(event.traderId));
            enqueue.stopChild(ref);
            enqueue.assign({
              traders: withoutKey(context.traders, event.traderId),
              restarts: withoutKey(context.restarts, event.traderId),
              escalated: withoutKey(context.escalated, event.traderId),
            });
          }),
        },
        // A child that threw is rebuilt in `error` from its last context and supervised like any
        // failure; without this handler the manager itself would fail and stop every other trader.
        'xstate.error.actor.*': [
          {
            guard: 'childRebuildable',
            actions: [
              enqueueActions(({ context, event, system, enqueue }) => {
                const traderId = childIdOf(event);
                const old = context.traders[traderId]!;
                const last = lastContextOf(context, event)!;
                const error = toErrorInfo(event.error, 'internal', systemNow(system));
                enqueue.cancel(restartId(traderId));
                enqueue.stopChild(old);
                enqueue.assign({
                  traders: ({ context: c, spawn }) => ({
                    ...c.traders,
                    [traderId]: spawn('trader', {
                      id: traderId,
                      input: {
                        traderId,
                        managerId: c.managerId,
                        strategyRef: last.strategyRef,
                        desired: 'error',
                        pause: last.pause,
                        pauses: last.pauses,
                        error,
                        lastCycleAt: last.lastCycleAt,
                      },
                    }),
                  }),
                });
                // The rebuilt trader boots in `error` without notifying: supervise it here.
                enqueue.raise({ type: 'trader.failed', traderId, error });
              }),
              {
                type: 'traderRespawned',
                params: ({ context, event }) => {
                  const traderId = childIdOf(event);
                  return { traderId, ref: context.traders[traderId]! };
                },
              },
            ],
          },
          {
            // It threw while being created (or is unknown): rebuilding it would throw again.
            actions: enqueueActions(({ context, event, system, enqueue }) => {
              const traderId = childIdOf(event);
              const old = context.traders[traderId];
              if (old === undefined) return;
              const error = toErrorInfo(event.error, 'internal', systemNow(system));
              enqueue.cancel(restartId(traderId));
              enqueue.stopChild(old);
              enqueue.assign({
                traders: withoutKey(context.traders, traderId),
                escalated: { ...context.escalated, [traderId]: true },
              });
              enqueue({
                type: 'traderEscalated',
                params: { traderId, reason: `trader could not be created: ${error.message}` },
              });
            }),
          },
        ],
      },
    },
  },
});

const supervisionRestart = { type: 'trader.restart', by: SUPERVISION_ACTOR } as const;

function childIdOf(event: ManagerEvent): TraderId {
  const id = 'actorId' in event && typeof event.actorId === 'string' ? event.actorId : event.type.slice(CHILD_ERROR_PREFIX.length);
  return id as TraderId;
}

function lastContextOf(context: ManagerContext, event: ManagerEvent): TraderContext | undefined {
  const ref = context.traders[childIdOf(event)];
  const snapshot = ref?.getSnapshot() as TraderSnapshot | undefined;
  return snapshot?.context as TraderContext | undefined;
}

/** The supervision decision for a failure: non-retryable errors escalate at once. */
function decideFailure(context: ManagerContext, traderId: string, error: ErrorInfo, now: number): Decision {
  const log = context.restarts[traderId] ?? [];
  if (!error.retryable) {
    return {
      action: 'escalate',
      log: pruneLog(log, now, context.policy),
      reason: `non-retryable ${error.kind} error: ${error.message}`,
    };
  }
  return decideRestart(log, now, context.policy);
}

/** The restarts still pending for the given traders that are in `error` and not escalated. */
function pendingRestarts(context: ManagerContext, ids: readonly string[], now: number) {
  const pending: { traderId: TraderId; ref: TraderActorRef; delayMs: number; attempt: number }[] = [];
  for (const id of ids) {
    const ref = context.traders[id];
    if (ref === undefined || context.escalated[id] === true) continue;
    if (traderStatus(ref.getSnapshot()) !== 'error') continue;
    const log = context.restarts[id] ?? [];
    pending.push({
      traderId: id as TraderId,
      ref,
      delayMs: pendingRestartDelay(log, now, context.policy),
      attempt: Math.max(1, pruneLog(log, now, context.policy).length),
    });
  }
  return pending;
}

function withoutKey<V>(record: Readonly<Record<string, V>>, key: string): Record<string, V> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/** A snapshot of a manager actor. */
export type ManagerSnapshot = SnapshotFrom<typeof managerMachine>;
/** A reference to a live manager actor. */
export type ManagerActorRef = ActorRefFrom<typeof managerMachine>;
