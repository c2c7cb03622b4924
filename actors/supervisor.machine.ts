/**
 * The root of one runtime node: parents the managers and owns Pause All. A pause is enforced
 * twice: the injected `closeGate` shuts the order gate first, then every trader is paused.
 *
 * Injected by name (replace with `.provide()`):
 * - actor `manager`: the manager logic (defaults to {@link managerMachine})
 * - action `closeGate` (params: the `PauseInfo` in force)
 * - action `openGate` (params {@link OpenGateParams})
 * - action `managerFailed` (params {@link ManagerFailedParams})
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { ActorRefFrom, SnapshotFrom } from 'xstate';
import type { ManagerId, PauseInfo } from '../runtime/domain.ts';
import { systemNow } from './clock.ts';
import { messageOf } from './errors.ts';
import { managerMachine } from './manager.machine.ts';
import type { ManagerActorRef, ManagerInput } from './manager.machine.ts';
import { addPause, effectivePause, pauseSetOf } from './pause.ts';

/** What the supervisor is created from; a restarted process passes the stored pause here. */
export interface SupervisorInput {
  readonly managers: readonly ManagerInput[];
  readonly pause?: PauseInfo | null;
}

/** The supervisor's context; `pause` is what the runtime persists. */
export interface SupervisorContext {
  /** Child managers by manager id (the child id is the manager id). */
  readonly managers: Readonly<Record<string, ManagerActorRef>>;
  readonly pause: PauseInfo | null;
}

/** Pause All: closes the order gate, then pauses every trader with scope `all`. */
export interface SupervisorPauseAllEvent {
  readonly type: 'supervisor.pauseAll';
  readonly by: string;
  readonly reason: string;
  readonly at: number;
}
/** Resume All: opens the order gate, then resumes every trader paused with scope `all`. */
export interface SupervisorResumeAllEvent {
  readonly type: 'supervisor.resumeAll';
  readonly by: string;
  readonly at: number;
}
/** Adds a manager (ignored if its id is taken); it starts paused while Pause All holds. */
export interface SupervisorAddManagerEvent {
  readonly type: 'supervisor.addManager';
  readonly manager: ManagerInput;
}
/** XState's event when a child manager threw. */
export interface ManagerErrorEvent {
  readonly type: `xstate.error.actor.${string}`;
  readonly error: unknown;
  readonly actorId?: string;
}

/** Every event the supervisor accepts. */
export type SupervisorEvent =
  | SupervisorPauseAllEvent
  | SupervisorResumeAllEvent
  | SupervisorAddManagerEvent
  | ManagerErrorEvent;

/** Params of the injected `openGate` action. */
export interface OpenGateParams {
  readonly by: string;
  readonly at: number;
}

/** Params of the injected `managerFailed` action: a manager threw and was stopped. */
export interface ManagerFailedParams {
  readonly managerId: ManagerId;
  readonly message: string;
}

const CHILD_ERROR_PREFIX = 'xstate.error.actor.';

function managerChildInput(m: ManagerInput, pause: PauseInfo | null): ManagerInput {
  if (pause === null) return m;
  const pauses = addPause(pauseSetOf(m.pause, m.pauses), { ...pause, scope: 'all' });
  return { ...m, pause: effectivePause(pauses), pauses };
}

/**
 * The supervisor machine: `active` or `tradingPaused`. It boots into `tradingPaused` when
 * `input.pause` is set and closes the gate again on entry, so a restarted process never trades
 * through a Pause All that was in force when it stopped.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
  },
  actors: { manager: managerMachine },
  actions: {
    closeGate: (_, _params: PauseInfo) => {},
    openGate: (_, _params: OpenGateParams) => {},
    managerFailed: (_, _params: ManagerFailedParams) => {},
  },
  guards: {
    bootsPaused: ({ context }) => context.pause !== null,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input, spawn, self }) => {
    systemNow(self.system);
    const managers: Record<string, ManagerActorRef> = {};
    for (const m of input.managers) {
      managers[m.managerId] = spawn('manager', { id: m.managerId, input: m });
    }
    return { managers, pause: input.pause ?? null };
  },
  initial: 'routing',
  on: {
    'supervisor.addManager': {
      actions: assign({
        managers: ({ context, event, spawn }) => {
          const m = event.manager;
          if (context.managers[m.managerId] !== undefined) return context.managers;
          return {
            ...context.managers,
            [m.managerId]: spawn('manager', { id: m.managerId, input: managerChildInput(m, context.pause) }),
          };
        },
      }),
    },
    // A manager that threw is stopped and reported; the runtime may rebuild it from the store
    // with `supervisor.addManager`. Without this the supervisor would fail and stop every manager.
    'xstate.error.actor.*': {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const managerId = (event.actorId ?? event.type.slice(CHILD_ERROR_PREFIX.length)) as ManagerId;
        const ref = context.managers[managerId];
        if (ref === undefined) return;
        enqueue.stopChild(ref);
        const managers = { ...context.managers };
        delete managers[managerId];
        enqueue.assign({ managers });
        enqueue({ type: 'managerFailed', params: { managerId, message: messageOf(event.error) } });
      }),
    },
  },
  states: {
    routing: {
      always: [{ guard: 'bootsPaused', target: 'tradingPaused' }, { target: 'active' }],
    },
    active: {
      on: {
        'supervisor.pauseAll': {
          target: 'tradingPaused',
          actions: assign({
            pause: ({ event }) => ({ by: event.by, reason: event.reason, scope: 'all' as const, at: event.at }),
          }),
        },
      },
    },
    tradingPaused: {
      // The gate closes first (a custom action runs at once; sends to children are deferred to
      // the end of the step), so no order slips through while the pause fans out.
      entry: [
        { type: 'closeGate', params: ({ context }) => context.pause! },
        enqueueActions(({ context, enqueue }) => {
          const pause = context.pause!;
          for (const ref of Object.values(context.managers)) {
            enqueue.sendTo(ref, { type: 'manager.pause', by: pause.by, reason: pause.reason, at: pause.at, scope: 'all' });
          }
        }),
      ],
      on: {
        // Pause All again re-asserts the pause (gate and traders): harmless, and it repairs drift.
        'supervisor.pauseAll': {
          target: 'tradingPaused',
          reenter: true,
          actions: assign({
            pause: ({ event }) => ({ by: event.by, reason: event.reason, scope: 'all' as const, at: event.at }),
          }),
        },
        'supervisor.resumeAll': {
          target: 'active',
          actions: [
            { type: 'openGate', params: ({ event }) => ({ by: event.by, at: event.at }) },
            enqueueActions(({ context, event, enqueue }) => {
              for (const ref of Object.values(context.managers)) {
                enqueue.sendTo(ref, { type: 'manager.resume', by: event.by, at: event.at, scope: 'all' });
              }
            }),
            assign({ pause: null }),
          ],
        },
      },
    },
  },
});

/** A snapshot of the supervisor actor. */
export type SupervisorSnapshot = SnapshotFrom<typeof supervisorMachine>;
/** A reference to a live supervisor actor. */
export type SupervisorActorRef = ActorRefFrom<typeof supervisorMachine>;
