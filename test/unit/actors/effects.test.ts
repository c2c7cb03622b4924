import { describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { cancelEffect, traderEffect, type CancelSignal, type EffectAction, type EffectParams } from '../../../actors/index.ts';

type Ev = { type: 'pause' } | { type: 'resume' } | { type: 'trader.effect.done'; output: unknown } | { type: 'trader.effect.error'; error: unknown };

/** A machine that runs one effect in `working` (entry starts, exit cancels) and can be paused out of it. */
function machineWith(effect: EffectAction<{ n: number }, number>) {
  return setup({
    types: { context: {} as { result: number | null; error: string | null; runs: number }, events: {} as Ev },
    actions: {
      effect: (args, params: EffectParams<{ n: number }, number>) => effect(args, params),
      cancel: ({ self }) => cancelEffect(self),
    },
  }).createMachine({
    context: { result: null, error: null, runs: 0 },
    initial: 'working',
    states: {
      working: {
        entry: [assign({ runs: ({ context }) => context.runs + 1 }), { type: 'effect', params: ({ context }) => ({ input: { n: 20 + context.runs } }) }],
        exit: 'cancel',
        on: {
          'trader.effect.done': { target: 'done', actions: assign({ result: ({ event }) => event.output as number }) },
          'trader.effect.error': { target: 'failed', actions: assign({ error: ({ event }) => (event.error as Error).message }) },
          pause: 'paused',
        },
      },
      done: {},
      failed: {},
      paused: { on: { resume: 'working' } },
    },
  });
}

const turn = () => new Promise((r) => setTimeout(r, 0));

describe('traderEffect', () => {
  it('answers the state that started it with its output, in a later turn', async () => {
    const actor = createActor(machineWith(traderEffect(async ({ input }) => input.n * 2))).start();
    expect(actor.getSnapshot().value).toBe('working');
    await turn();
    expect(actor.getSnapshot().value).toBe('done');
    expect(actor.getSnapshot().context.result).toBe(42);
  });

  it('answers with the error when the work rejects or throws synchronously', async () => {
    const rejects = createActor(machineWith(traderEffect(async () => Promise.reject(new Error('venue down'))))).start();
    const throws = createActor(
      machineWith(
        traderEffect(() => {
          throw new Error('bad input');
        }),
      ),
    ).start();
    expect(throws.getSnapshot().value).toBe('working');
    await turn();
    expect(rejects.getSnapshot().context.error).toBe('venue down');
    expect(throws.getSnapshot().value).toBe('failed');
    expect(throws.getSnapshot().context.error).toBe('bad input');
  });

  it('aborts the signal when the state is left, and drops the late answer even after the state is re-entered', async () => {
    const runs: { signal: CancelSignal; finish: (n: number) => void }[] = [];
    const actor = createActor(
      machineWith(traderEffect(({ signal }) => new Promise<number>((finish) => runs.push({ signal, finish })))),
    ).start();
    expect(runs[0]!.signal.aborted).toBe(false);
    actor.send({ type: 'pause' });
    expect(runs[0]!.signal.aborted).toBe(true);
    actor.send({ type: 'resume' });
    expect(runs).toHaveLength(2);
    expect(runs[1]!.signal.aborted).toBe(false);
    runs[0]!.finish(7); // the cancelled run answers late: dropped
    await turn();
    expect(actor.getSnapshot().value).toBe('working');
    expect(actor.getSnapshot().context.result).toBeNull();
    runs[1]!.finish(9);
    await turn();
    expect(actor.getSnapshot().context.result).toBe(9);
  });

  it('aborts the signal when the actor is stopped (XState runs no exit actions on stop)', async () => {
    let seen: CancelSignal | null = null;
    let finish: (n: number) => void = () => {};
    const actor = createActor(
      machineWith(
        traderEffect(({ signal }) => {
          seen = signal;
          return new Promise<number>((r) => (finish = r));
        }),
      ),
    ).start();
    actor.stop();
    expect(seen!.aborted).toBe(true);
    finish(1);
    await turn();
    expect(actor.getSnapshot().context.result).toBeNull();
  });
});
