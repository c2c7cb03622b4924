/**
 * A fake clock with timers for the limiter and collector tests: time moves only by `advance`,
 * which fires due timers in order and lets promise callbacks run between them.
 */
import type { LimiterTimers } from '../../../runtime/exchange/ccxt/limiter.ts';

/** A manual clock plus the timers that follow it. */
export interface FakeTime {
  readonly clock: { now(): number };
  readonly timers: LimiterTimers;
  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): Promise<void>;
  /** Lets pending promise callbacks run. */
  flush(): Promise<void>;
  pendingTimers(): number;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Creates fake time starting at `start`. */
export function fakeTime(start = 0): FakeTime {
  let now = start;
  let seq = 0;
  let timers: Timer[] = [];
  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return {
    clock: { now: () => now },
    timers: {
      setTimeout(fn, ms) {
        const t: Timer = { at: now + Math.max(0, ms), seq: ++seq, fn };
        timers.push(t);
        return t;
      },
      clearTimeout(h) {
        timers = timers.filter((t) => t !== h);
      },
    },
    async advance(ms) {
      const until = now + ms;
      await flush();
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = Math.max(now, due.at);
        due.fn();
        await flush();
      }
      now = until;
      await flush();
    },
    flush,
    pendingTimers: () => timers.length,
  };
}
