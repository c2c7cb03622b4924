/**
 * A trader's effects (load, compute, rebalance) are injected actions that start async work and
 * answer the trader with an event, not invoked promise actors.
 *
 * Measured on this platform's fleet (10,000 traders, XState 5.33): every invoked promise actor is
 * a full child actor — created, registered with the system, started, and on a pause stopped and
 * unregistered. Two of them per trader per cycle were the largest share of a rebalance wave's
 * allocation, and stopping them a third of a Pause All caught mid-cycle. An effect started by an
 * action costs a small object, and its cancellation one flag.
 *
 * The contract, which the trader machine keeps:
 * - the state that needs the work runs the effect's action on entry and `cancelEffect` on exit;
 * - the effect answers with `trader.effect.done` (`output`) or `trader.effect.error` (`error`);
 * - once the state is left, or the actor stopped, the effect's signal reads `aborted` and
 *   whatever it returns later is dropped, so a late answer can never reach a newer state.
 */
import type { AnyActorRef } from 'xstate';

/** Set once the effect's state is left (pause, stop, restart); the work checks it between steps. */
export interface CancelSignal {
  readonly aborted: boolean;
}

/** Sent by an effect when its work resolves. */
export interface EffectDoneEvent {
  readonly type: 'trader.effect.done';
  readonly output: unknown;
}

/** Sent by an effect when its work rejects (or throws). */
export interface EffectErrorEvent {
  readonly type: 'trader.effect.error';
  readonly error: unknown;
}

/**
 * What the machine passes to an effect's action. `output` is never set: it carries the output
 * type the machine expects, so `.provide()` rejects an effect that returns something else.
 */
export interface EffectParams<TInput, TOutput> {
  readonly input: TInput;
  readonly output?: TOutput;
}

/** The arguments of an effect's work. */
export interface EffectArgs<TInput> {
  readonly input: TInput;
  readonly signal: CancelSignal;
  readonly self: AnyActorRef;
}

/** An effect's action, as `setup({ actions })` and `.provide({ actions })` take it. */
export type EffectAction<TInput, TOutput> = (args: { readonly self: AnyActorRef }, params: EffectParams<TInput, TOutput>) => void;

/** Aborted once the effect's state is left ({@link cancelEffect}) or its actor is no longer active. */
class EffectSignal implements CancelSignal {
  private cancelled = false;
  constructor(private readonly self: AnyActorRef) {}
  get aborted(): boolean {
    return this.cancelled || this.self.getSnapshot().status !== 'active';
  }
  cancel(): void {
    this.cancelled = true;
  }
}

/** The effect in flight per actor (a trader runs at most one at a time). */
const inFlight = new WeakMap<AnyActorRef, EffectSignal>();

/**
 * An effect's action from its async work.
 * @example computeTargets: traderEffect(async ({ input, signal }) => { …; if (signal.aborted) return {}; … })
 */
export function traderEffect<TInput, TOutput>(run: (args: EffectArgs<TInput>) => PromiseLike<TOutput>): EffectAction<TInput, TOutput> {
  return ({ self }, { input }) => {
    const signal = new EffectSignal(self);
    inFlight.set(self, signal);
    let work: PromiseLike<TOutput>;
    try {
      work = run({ input, signal, self });
    } catch (error) {
      work = Promise.reject(error);
    }
    // The answer always arrives in a later turn, never inside the transition that started it.
    Promise.resolve(work).then(
      (output) => {
        if (signal.aborted) return;
        if (inFlight.get(self) === signal) inFlight.delete(self);
        self.send({ type: 'trader.effect.done', output } satisfies EffectDoneEvent);
      },
      (error: unknown) => {
        if (signal.aborted) return;
        if (inFlight.get(self) === signal) inFlight.delete(self);
        self.send({ type: 'trader.effect.error', error } satisfies EffectErrorEvent);
      },
    );
  };
}

/** Cancels the actor's effect in flight, if any (the exit action of every effect state). */
export function cancelEffect(self: AnyActorRef): void {
  const signal = inFlight.get(self);
  if (signal === undefined) return;
  inFlight.delete(self);
  signal.cancel();
}
