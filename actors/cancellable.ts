/**
 * A promise actor whose cancellation costs next to nothing. XState's `fromPromise` gives each
 * invocation an `AbortController` and aborts it when the actor stops; Node builds a
 * `DOMException` and dispatches an event for every abort, which made up a quarter of a Pause All
 * over 10,000 traders caught mid-cycle. The effects here only read a flag, so the signal is a
 * plain object. Otherwise it behaves as `fromPromise` (same snapshot, same done/error events).
 */
import type { AnyActorRef, EventObject, NonReducibleUnknown, PromiseActorLogic, PromiseSnapshot } from 'xstate';

/** Set once the invoking state is left (pause, stop, restart); the effect checks it between steps. */
export interface CancelSignal {
  readonly aborted: boolean;
}

const RESOLVE = 'xstate.promise.resolve';
const REJECT = 'xstate.promise.reject';
const STOP = 'xstate.stop';

type Relay = { _relay(source: AnyActorRef, target: AnyActorRef, event: EventObject): void };

/**
 * Like `fromPromise`, with a {@link CancelSignal} instead of an `AbortSignal`.
 * @example computeTargets: fromCancellable(async ({ input, signal }) => { …; if (signal.aborted) return {}; … })
 */
export function fromCancellable<TOutput, TInput = NonReducibleUnknown>(
  run: (args: { readonly input: TInput; readonly signal: CancelSignal; readonly self: AnyActorRef }) => PromiseLike<TOutput>,
): PromiseActorLogic<TOutput, TInput> {
  const signals = new WeakMap<AnyActorRef, { aborted: boolean }>();
  const logic = {
    config: run,
    transition: (state: PromiseSnapshot<TOutput, TInput>, event: EventObject & { data?: unknown }, scope: { self: AnyActorRef }) => {
      if (state.status !== 'active') return state;
      switch (event.type) {
        case RESOLVE:
          return { ...state, status: 'done', output: event.data as TOutput, input: undefined };
        case REJECT:
          return { ...state, status: 'error', error: event.data, input: undefined };
        case STOP: {
          const s = signals.get(scope.self);
          if (s) s.aborted = true;
          signals.delete(scope.self);
          return { ...state, status: 'stopped', input: undefined };
        }
        default:
          return state;
      }
    },
    start: (state: PromiseSnapshot<TOutput, TInput>, { self, system }: { self: AnyActorRef; system: unknown }) => {
      if (state.status !== 'active') return;
      const signal = { aborted: false };
      signals.set(self, signal);
      const relay = system as Relay;
      Promise.resolve(run({ input: state.input as TInput, signal, self })).then(
        (data) => {
          if (self.getSnapshot().status !== 'active') return;
          signals.delete(self);
          relay._relay(self, self, { type: RESOLVE, data } as EventObject);
        },
        (data: unknown) => {
          if (self.getSnapshot().status !== 'active') return;
          signals.delete(self);
          relay._relay(self, self, { type: REJECT, data } as EventObject);
        },
      );
    },
    getInitialSnapshot: (_: unknown, input: TInput) => ({ status: 'active', output: undefined, error: undefined, input }),
    getPersistedSnapshot: (snapshot: PromiseSnapshot<TOutput, TInput>) => snapshot,
    restoreSnapshot: (snapshot: unknown) => snapshot,
  };
  return logic as unknown as PromiseActorLogic<TOutput, TInput>;
}
