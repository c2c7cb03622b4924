import { describe, expect, it } from 'vitest';
import { createTurns } from '../../../runtime/turns.ts';

/** A manual clock and a manual `defer`: each call of `turn()` is one turn of the event loop. */
function harness(budgetMs = 10) {
  let t = 0;
  const deferred: (() => void)[] = [];
  const errors: unknown[] = [];
  const turns = createTurns({ budgetMs, now: () => t, defer: (fn) => deferred.push(fn), onError: (e) => errors.push(e) });
  /** Runs the turn that was deferred last and lets its microtasks finish. */
  const turn = async () => {
    const fn = deferred.shift();
    if (!fn) throw new Error('no turn is scheduled');
    fn();
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { turns, turn, errors, deferred, spend: (ms: number) => (t += ms) };
}

describe('createTurns', () => {
  it('runs callbacks while the turn has budget, then leaves the rest to the next turn', async () => {
    const h = harness(10);
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) {
      h.turns.run(() => {
        ran.push(i);
        h.spend(4);
      });
    }
    expect(ran).toEqual([]);
    expect(h.deferred).toHaveLength(1);
    await h.turn();
    // 4 + 4 < 10, the third reaches 12: the turn ends after it.
    expect(ran).toEqual([0, 1, 2]);
    expect(h.turns.pending()).toBe(2);
    expect(h.deferred).toHaveLength(1);
    await h.turn();
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(h.turns.pending()).toBe(0);
    expect(h.deferred).toHaveLength(0);
  });

  it('counts what a woken waiter runs up to its next wait against the turn', async () => {
    const h = harness(10);
    const steps: string[] = [];
    const waiter = async (name: string) => {
      await h.turns.next();
      steps.push(name);
      h.spend(6);
    };
    void waiter('a');
    void waiter('b');
    void waiter('c');
    await h.turn();
    // `a` woke and spent 6 ms, `b` took the total to 12: `c` waits for the next turn.
    expect(steps).toEqual(['a', 'b']);
    await h.turn();
    expect(steps).toEqual(['a', 'b', 'c']);
  });

  it('serves a lane only when the lanes before it are empty: cycle, then tick, then background', async () => {
    const h = harness(1_000);
    const ran: string[] = [];
    h.turns.run(() => ran.push('metrics 1'), 'background');
    h.turns.run(() => ran.push('tick 1'), 'tick');
    h.turns.run(() => {
      ran.push('reply 1');
      // A cycle step queued while ticks wait still goes first.
      h.turns.run(() => ran.push('reply 3'));
    });
    h.turns.run(() => ran.push('tick 2'), 'tick');
    h.turns.run(() => ran.push('metrics 2'), 'background');
    h.turns.run(() => ran.push('reply 2'), 'cycle');
    await h.turn();
    expect(ran).toEqual(['reply 1', 'reply 2', 'reply 3', 'tick 1', 'tick 2', 'metrics 1', 'metrics 2']);
  });

  it('goes on after a callback throws and reports what it threw', async () => {
    const h = harness(1_000);
    const ran: number[] = [];
    h.turns.run(() => ran.push(1));
    h.turns.run(() => {
      throw new Error('boom');
    });
    h.turns.run(() => ran.push(3));
    await h.turn();
    expect(ran).toEqual([1, 3]);
    expect(h.errors).toHaveLength(1);
    expect((h.errors[0] as Error).message).toBe('boom');
  });

  it('keeps order over many turns and many callbacks', async () => {
    const h = harness(5);
    const ran: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      h.turns.run(() => {
        ran.push(i);
        h.spend(1);
      });
    }
    let turnsTaken = 0;
    while (h.deferred.length > 0) {
      await h.turn();
      turnsTaken++;
    }
    expect(ran).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect(turnsTaken).toBe(1_000);
  });

  it('refuses a budget that is not a positive number', () => {
    expect(() => createTurns({ budgetMs: 0 })).toThrow(/turn budget must be a positive number/);
    expect(() => createTurns({ budgetMs: Number.NaN })).toThrow(/turn budget/);
  });

  it('on the real event loop, lets timers run between turns', async () => {
    const turns = createTurns({ budgetMs: 2 });
    let timerRanAfter = -1;
    let done = 0;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        timerRanAfter = done;
        resolve();
      }, 0),
    );
    const all = new Promise<void>((resolve) => {
      for (let i = 0; i < 200; i++) {
        turns.run(() => {
          const until = performance.now() + 0.1;
          while (performance.now() < until);
          if (++done === 200) resolve();
        });
      }
    });
    await Promise.all([timer, all]);
    // 200 × 0.1 ms is ten 2-ms turns: the 0-ms timer got its turn before the last of them.
    expect(timerRanAfter).toBeGreaterThanOrEqual(0);
    expect(timerRanAfter).toBeLessThan(200);
  });
});
