/**
 * Time inside the actor tree. Actors never read the wall clock: the one clock of an actor system
 * (`createActor(root, { clock })`) both fires delayed events and stamps times, so a test that moves
 * a `SimulatedClock` moves both together.
 */

/** The part of an XState `ActorSystem` that holds its clock. */
export interface ClockedSystem {
  readonly _clock: unknown;
}

/**
 * The clock a root actor must be created with: XState's `Clock` (timers) plus `now()`.
 * `SimulatedClock` already is one; the runtime builds
 * `{ now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id) }`.
 */
export interface ActorSystemClock {
  now(): number;
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/** The message thrown when a root actor was created without a clock that has `now()`. */
export const MISSING_CLOCK_MESSAGE =
  'actor system clock has no now(): create the root actor with createActor(machine, { clock }) where clock has now(), setTimeout and clearTimeout';

/**
 * The current time of an actor system, read from the clock it was created with.
 *
 * XState does not expose the time to actions, but every action receives `system`, whose `_clock`
 * is typed in `ActorSystem`; reading it here is the only place that depends on that field.
 */
export function systemNow(system: ClockedSystem): number {
  const clock = system._clock as Partial<ActorSystemClock> | undefined;
  if (typeof clock?.now !== 'function') throw new TypeError(MISSING_CLOCK_MESSAGE);
  return clock.now();
}
