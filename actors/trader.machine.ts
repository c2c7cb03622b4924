/**
 * One trader (one bot): load, then a cycle per candle (compute targets, rebalance), pause and
 * resume by scope, fail into `error` and wait for its manager or an operator to restart it.
 *
 * Every effect is an injected action, named in `setup()` and replaced with `.provide()`:
 * - effect `loadTrader` (input {@link LoadTraderInput}, output {@link LoadTraderOutput})
 * - effect `computeTargets` (input {@link ComputeTargetsInput}, output `TargetWeights`)
 * - effect `executeRebalance` (input {@link ExecuteRebalanceInput}, output ignored)
 * - action `cycleSkipped` (params {@link CycleSkippedParams}), default no-op
 * An effect is async work built with {@link traderEffect} (see `effects.ts`): its state starts it
 * on entry, cancels it on exit, and moves on its `trader.effect.done` / `trader.effect.error`.
 * The three defaults reject, so a trader nobody wired fails loudly into `error`.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { ActorRefFrom, SnapshotFrom } from 'xstate';
import type {
  CycleId,
  ErrorInfo,
  ErrorKind,
  ManagerId,
  PauseInfo,
  PauseScope,
  StrategyRef,
  TargetWeights,
  TraderId,
  TraderStatus,
} from '../runtime/domain.ts';
import { systemNow } from './clock.ts';
import type { ClockedSystem } from './clock.ts';
import { toErrorInfo } from './errors.ts';
import { cancelEffect, traderEffect } from './effects.ts';
import type { EffectDoneEvent, EffectErrorEvent, EffectParams } from './effects.ts';
import { addPause, effectivePause, pauseSetOf, releasePauses } from './pause.ts';
import type { PauseSet } from './pause.ts';

/** The state a trader is asked to boot into (what the store says it was in). */
export type TraderDesired = 'running' | 'paused' | 'error' | 'stopped';

/** What a trader actor is created from; a restarted process passes the stored state here. */
export interface TraderInput {
  readonly traderId: TraderId;
  readonly managerId: ManagerId;
  readonly strategyRef: StrategyRef;
  readonly desired: TraderDesired;
  /** The pause shown and persisted (used when `pauses` is absent). */
  readonly pause?: PauseInfo | null;
  /** Every pause in force, if stored; see {@link PauseSet}. */
  readonly pauses?: PauseSet | null;
  readonly error?: ErrorInfo | null;
  readonly lastCycleAt?: number | null;
}

/** Input of the injected `loadTrader` effect. */
export interface LoadTraderInput {
  readonly traderId: TraderId;
}

/** Output of the injected `loadTrader` effect: the strategy version to run. */
export interface LoadTraderOutput {
  readonly strategyRef: StrategyRef;
}

/** Input of the injected `computeTargets` effect. */
export interface ComputeTargetsInput {
  readonly traderId: TraderId;
  readonly cycleId: CycleId;
  readonly candleTime: number;
  readonly strategyRef: StrategyRef;
}

/** Input of the injected `executeRebalance` effect. */
export interface ExecuteRebalanceInput {
  readonly traderId: TraderId;
  readonly cycleId: CycleId;
  readonly candleTime: number;
  readonly targets: TargetWeights;
}

/** Params of the injected `cycleSkipped` action: a tick arrived while a cycle was in flight. */
export interface CycleSkippedParams {
  readonly traderId: TraderId;
  readonly candleTime: number;
  readonly busyCycleId: CycleId | null;
}

/** The cycle in flight (kept after a failure, to show which cycle failed). */
export interface TraderCycle {
  readonly id: CycleId;
  readonly candleTime: number;
  readonly targets: TargetWeights | null;
}

/** A trader's context; `pause`, `error` and `lastCycleAt` are what the runtime persists. */
export interface TraderContext {
  readonly traderId: TraderId;
  readonly managerId: ManagerId;
  readonly strategyRef: StrategyRef;
  /** The state it booted into; read only by the routing state. */
  readonly desired: TraderDesired;
  /** The pause shown and persisted: the hardest to release of `pauses`, or null. */
  readonly pause: PauseInfo | null;
  /** Every pause in force; the trader stays paused until none is left. */
  readonly pauses: PauseSet;
  readonly error: ErrorInfo | null;
  readonly cycle: TraderCycle | null;
  /** Candle open time of the last completed cycle. */
  readonly lastCycleAt: number | null;
  readonly cyclesCompleted: number;
  /** Whether `loadTrader` has completed since boot (a resume before that reloads first). */
  readonly loaded: boolean;
}

/** Starts a cycle for the candle that opened at `candleTime` (ignored unless idle). */
export interface TraderTickEvent {
  readonly type: 'trader.tick';
  readonly candleTime: number;
}
/** Pauses the trader; an in-flight cycle is cancelled (its effect's AbortSignal fires). */
export interface TraderPauseEvent {
  readonly type: 'trader.pause';
  readonly by: string;
  readonly reason: string;
  readonly scope: PauseScope;
  readonly at: number;
}
/** Lifts the pause of `scope` (every pause if `trader`); the trader resumes when none is left. */
export interface TraderResumeEvent {
  readonly type: 'trader.resume';
  readonly by: string;
  readonly scope: PauseScope;
  readonly at: number;
}
/** Reloads the trader (from `error`, `running` or `paused`), clearing its error. */
export interface TraderRestartEvent {
  readonly type: 'trader.restart';
  readonly by: string;
}
/** Fails the trader with a known error (e.g. a risk or exchange fault found outside a cycle). */
export interface TraderFailEvent {
  readonly type: 'trader.fail';
  readonly error: ErrorInfo;
}
/** Stops the trader for good (final state). */
export interface TraderStopEvent {
  readonly type: 'trader.stop';
  readonly by?: string;
}

/** Every event a trader accepts. */
export type TraderEvent =
  | TraderTickEvent
  | TraderPauseEvent
  | TraderResumeEvent
  | TraderRestartEvent
  | TraderFailEvent
  | TraderStopEvent
  | EffectDoneEvent
  | EffectErrorEvent;

/** Sent to the parent (its manager) when a trader fails into `error`. */
export interface TraderFailedEvent {
  readonly type: 'trader.failed';
  readonly traderId: TraderId;
  readonly error: ErrorInfo;
}

function initialContext(input: TraderInput, system: ClockedSystem): TraderContext {
  // Reading the clock here also makes a root created without a usable clock fail at boot.
  const now = systemNow(system);
  let pauses = pauseSetOf(input.pause, input.pauses);
  if (input.desired === 'paused' && effectivePause(pauses) === null) {
    pauses = addPause(pauses, { by: 'system', reason: 'restored as paused', scope: 'trader', at: now });
  }
  let error = input.error ?? null;
  if (input.desired === 'error' && error === null) {
    error = { kind: 'internal', message: 'restored in error without details', at: now, retryable: true };
  }
  return {
    traderId: input.traderId,
    managerId: input.managerId,
    strategyRef: input.strategyRef,
    desired: input.desired,
    pause: effectivePause(pauses),
    pauses,
    error: input.desired === 'error' ? error : null,
    cycle: null,
    lastCycleAt: input.lastCycleAt ?? null,
    cyclesCompleted: 0,
    loaded: false,
  };
}

/** The default of an effect nobody provided: it fails, so the trader goes to `error` loudly. */
function notProvided(name: string) {
  return traderEffect<unknown, unknown>(async () => {
    throw new Error(`${name} is not provided`);
  });
}
const loadNotProvided = notProvided('loadTrader');
const computeNotProvided = notProvided('computeTargets');
const rebalanceNotProvided = notProvided('executeRebalance');

/** The cycle in progress, as the compute and rebalance effects are told it. */
function cycleOf(context: TraderContext): { traderId: TraderId; cycleId: CycleId; candleTime: number } {
  return { traderId: context.traderId, cycleId: context.cycle!.id, candleTime: context.cycle!.candleTime };
}

/** Keeps the strategy version `loadTrader` answered with. */
const recordLoaded = assign<TraderContext, TraderEvent, undefined, TraderEvent, never>({
  strategyRef: ({ event }) => outputOf<LoadTraderOutput>(event).strategyRef,
  loaded: true,
});

function failWith(kind: ErrorKind) {
  return assign<TraderContext, { type: string; error?: unknown }, undefined, TraderEvent, never>({
    error: ({ event, system }) => toErrorInfo(event.error, kind, systemNow(system)),
  });
}

/**
 * The trader machine.
 *
 * It starts in `routing`, whose eventless transitions send it to the state in `input.desired`.
 * That is how a restarted process rebuilds the same states: the runtime recreates each trader
 * from its stored state (pause, error) instead of restoring XState snapshots, because delayed
 * events do not survive XState persistence (statelyai/xstate#4860) and a running trader must
 * reload (and reconcile) before it trades again anyway.
 */
export const traderMachine = setup({
  types: {
    context: {} as TraderContext,
    events: {} as TraderEvent,
    input: {} as TraderInput,
  },
  actions: {
    loadTrader: (args, params: EffectParams<LoadTraderInput, LoadTraderOutput>) => loadNotProvided(args, params),
    computeTargets: (args, params: EffectParams<ComputeTargetsInput, TargetWeights>) => computeNotProvided(args, params),
    executeRebalance: (args, params: EffectParams<ExecuteRebalanceInput, unknown>) => rebalanceNotProvided(args, params),
    cancelEffect: ({ self }) => cancelEffect(self),
    cycleSkipped: (_, _params: CycleSkippedParams) => {},
    // Only failures notify the parent: a trader booted into `error` from input must not count as
    // a new failure (its manager re-schedules the pending restart itself).
    notifyFailed: enqueueActions(({ context, self, enqueue }) => {
      if (self._parent === undefined || context.error === null) return;
      const failed: TraderFailedEvent = { type: 'trader.failed', traderId: context.traderId, error: context.error };
      enqueue.sendParent(failed);
    }),
    recordPause: assign(({ context, event }) => {
      if (event.type !== 'trader.pause') return {};
      const { by, reason, scope, at } = event;
      const pauses = addPause(context.pauses, { by, reason, scope, at });
      return { pauses, pause: effectivePause(pauses) };
    }),
    // One assign for the pause and the dropped cycle: Pause All runs this for every trader.
    recordPauseDropCycle: assign(({ context, event }) => {
      if (event.type !== 'trader.pause') return {};
      const { by, reason, scope, at } = event;
      const pauses = addPause(context.pauses, { by, reason, scope, at });
      return { pauses, pause: effectivePause(pauses), cycle: null };
    }),
    releasePause: assign(({ context, event }) => {
      if (event.type !== 'trader.resume') return {};
      const pauses = releasePauses(context.pauses, event.scope);
      return { pauses, pause: effectivePause(pauses) };
    }),
    failFromEvent: assign({
      error: ({ context, event }) => (event.type === 'trader.fail' ? event.error : context.error),
    }),
    clearForStart: assign({ error: null, cycle: null, loaded: false }),
  },
  guards: {
    bootsInError: ({ context }) => context.desired === 'error',
    bootsStopped: ({ context }) => context.desired === 'stopped',
    pauseRecorded: ({ context }) => context.pause !== null,
    resumeReleasesAll: ({ context, event }) =>
      event.type === 'trader.resume' && effectivePause(releasePauses(context.pauses, event.scope)) === null,
    resumeReleasesAllUnloaded: ({ context, event }) =>
      event.type === 'trader.resume' &&
      effectivePause(releasePauses(context.pauses, event.scope)) === null &&
      !context.loaded,
  },
}).createMachine({
  id: 'trader',
  context: ({ input, self }) => initialContext(input, self.system),
  initial: 'routing',
  states: {
    routing: {
      always: [
        { guard: 'bootsInError', target: 'error' },
        { guard: 'bootsStopped', target: 'stopped' },
        { target: 'starting' },
      ],
    },
    starting: {
      entry: { type: 'loadTrader', params: ({ context }) => ({ input: { traderId: context.traderId } }) },
      exit: 'cancelEffect',
      on: {
        'trader.effect.done': [
          { guard: 'pauseRecorded', target: 'paused', actions: recordLoaded },
          { target: 'running', actions: recordLoaded },
        ],
        'trader.effect.error': { target: 'error', actions: [failWith('internal'), 'notifyFailed'] },
        'trader.pause': { target: 'paused', actions: 'recordPause' },
        'trader.fail': { target: 'error', actions: ['failFromEvent', 'notifyFailed'] },
        'trader.stop': { target: 'stopped' },
      },
    },
    running: {
      initial: 'idle',
      on: {
        // Leaving `computing` or `rebalancing` cancels its effect (the effect's signal aborts).
        'trader.pause': { target: 'paused', actions: 'recordPauseDropCycle' },
        'trader.restart': { target: 'starting', actions: 'clearForStart' },
        'trader.fail': { target: 'error', actions: ['failFromEvent', 'notifyFailed'] },
        'trader.stop': { target: 'stopped' },
      },
      states: {
        idle: {
          on: {
            'trader.tick': {
              target: 'computing',
              actions: assign({
                cycle: ({ context, event }) => ({
                  id: `${context.traderId}:${event.candleTime}` as CycleId,
                  candleTime: event.candleTime,
                  targets: null,
                }),
              }),
            },
          },
        },
        computing: {
          entry: {
            type: 'computeTargets',
            params: ({ context }) => ({ input: { ...cycleOf(context), strategyRef: context.strategyRef } }),
          },
          exit: 'cancelEffect',
          on: {
            'trader.effect.done': {
              target: 'rebalancing',
              actions: assign({
                cycle: ({ context, event }) => ({ ...context.cycle!, targets: outputOf<TargetWeights>(event) }),
              }),
            },
            'trader.effect.error': { target: '#trader.error', actions: [failWith('strategy'), 'notifyFailed'] },
            'trader.tick': { actions: { type: 'cycleSkipped', params: skippedParams } },
          },
        },
        rebalancing: {
          entry: {
            type: 'executeRebalance',
            params: ({ context }) => ({ input: { ...cycleOf(context), targets: context.cycle!.targets ?? {} } }),
          },
          exit: 'cancelEffect',
          on: {
            'trader.effect.done': {
              target: 'idle',
              actions: assign({
                cycle: null,
                // The candle of the last completed cycle: a restarted process never re-runs it.
                lastCycleAt: ({ context }) => context.cycle!.candleTime,
                cyclesCompleted: ({ context }) => context.cyclesCompleted + 1,
              }),
            },
            'trader.effect.error': { target: '#trader.error', actions: [failWith('internal'), 'notifyFailed'] },
            'trader.tick': { actions: { type: 'cycleSkipped', params: skippedParams } },
          },
        },
      },
    },
    paused: {
      on: {
        'trader.pause': { actions: 'recordPause' },
        'trader.resume': [
          { guard: 'resumeReleasesAllUnloaded', target: 'starting', actions: 'releasePause' },
          { guard: 'resumeReleasesAll', target: 'running', actions: 'releasePause' },
          { actions: 'releasePause' },
        ],
        'trader.restart': { target: 'starting', actions: 'clearForStart' },
        'trader.fail': { target: 'error', actions: ['failFromEvent', 'notifyFailed'] },
        'trader.stop': { target: 'stopped' },
      },
    },
    error: {
      on: {
        // A pause that arrives while in error still holds after a restart.
        'trader.pause': { actions: 'recordPause' },
        'trader.resume': { actions: 'releasePause' },
        'trader.restart': { target: 'starting', actions: 'clearForStart' },
        'trader.stop': { target: 'stopped' },
      },
    },
    stopped: { type: 'final' },
  },
});

/** The output of the effect that answered (each effect state knows its own effect's type). */
function outputOf<T>(event: TraderEvent): T {
  return (event as EffectDoneEvent).output as T;
}

function skippedParams({ context, event }: { context: TraderContext; event: TraderEvent }): CycleSkippedParams {
  return {
    traderId: context.traderId,
    candleTime: event.type === 'trader.tick' ? event.candleTime : Number.NaN,
    busyCycleId: context.cycle?.id ?? null,
  };
}

/** A snapshot of a trader actor. */
export type TraderSnapshot = SnapshotFrom<typeof traderMachine>;
/** A reference to a live trader actor. */
export type TraderActorRef = ActorRefFrom<typeof traderMachine>;

/** The console status of a trader snapshot (an actor that threw counts as `error`). */
export function traderStatus(snapshot: TraderSnapshot): TraderStatus {
  if (snapshot.status === 'error') return 'error';
  if (snapshot.status === 'done') return 'stopped';
  return statusOfTop(topState(snapshot.value as string | Record<string, unknown>));
}

function statusOfTop(top: string): TraderStatus {
  switch (top) {
    case 'routing':
    case 'starting':
      return 'starting';
    case 'running':
      return 'running';
    case 'paused':
      return 'paused';
    case 'error':
      return 'error';
    case 'stopped':
      return 'stopped';
    default:
      return 'error';
  }
}

/** The full state path of a trader snapshot, dot-joined: `running.computing`, `paused`. */
export function traderStateDetail(snapshot: TraderSnapshot): string {
  if (snapshot.status === 'error') return 'error';
  return statePath(snapshot.value as string | Record<string, unknown>);
}

// These run for every snapshot of every trader (the runtime's observers): no arrays, no entries.
function topState(value: string | Record<string, unknown>): string {
  if (typeof value === 'string') return value;
  for (const key in value) return key;
  return '';
}

/** Joined paths, interned: the same few strings for every trader. */
const joinedPaths = new Map<string, Map<string, string>>();

function joinPath(key: string, rest: string): string {
  let byRest = joinedPaths.get(key);
  if (byRest === undefined) joinedPaths.set(key, (byRest = new Map()));
  let joined = byRest.get(rest);
  if (joined === undefined) byRest.set(rest, (joined = `${key}.${rest}`));
  return joined;
}

function statePath(value: string | Record<string, unknown>): string {
  if (typeof value === 'string') return value;
  for (const key in value) {
    const child = value[key];
    const rest =
      typeof child === 'string' ? child : child !== null && typeof child === 'object' ? statePath(child as Record<string, unknown>) : '';
    return rest === '' ? key : joinPath(key, rest);
  }
  return '';
}
