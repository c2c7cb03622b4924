/**
 * Clocks. Everything that needs the time takes a `Clock`; only this file reads the wall clock.
 */

/** A source of the current time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that runs `scale` times faster than real time from `startAt`. Used for demos and
 * tests of the synthetic market; `scale` 1 is real time.
 *
 * @example const clock = createScaledClock({ scale: 60, startAt: Date.now() }); // a minute per second
 */
export function createScaledClock(opts: { scale: number; startAt: number; real?: Clock }): Clock {
  const real = opts.real ?? systemClock;
  const realStart = real.now();
  return { now: () => Math.floor(opts.startAt + (real.now() - realStart) * opts.scale) };
}

/** A clock moved by hand, for tests. */
export interface ManualClock extends Clock {
  set(t: number): void;
  advance(ms: number): void;
}

/** Creates a clock that only moves when told. */
export function createManualClock(start: number): ManualClock {
  let t = start;
  return {
    now: () => t,
    set: (v) => {
      t = v;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** The open time of the 1-minute candle containing `t`. */
export function minuteFloor(t: number): number {
  return t - (t % 60_000);
}
