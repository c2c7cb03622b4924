import { describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { fromCancellable, type CancelSignal } from '../../../actors/index.ts';

/** A machine that invokes one cancellable effect in `working` and can be paused out of it. */
function machineWith(effect: ReturnType<typeof fromCancellable<number, { n: number }>>) {
  return setup({
    types: { context: {} as { result: number | null; error: string | null }, events: {} as { type: 'pause' } },
    actors: { effect },
  }).createMachine({
    context: { result: null, error: null },
    initial: 'working',
    states: {
      working: {
        invoke: {
          src: 'effect',
          input: { n: 21 },
          onDone: { target: 'done', actions: assign({ result: ({ event }) => event.output }) },
          onError: { target: 'failed', actions: assign({ error: ({ event }) => (event.error as Error).message }) },
        },
        on: { pause: 'paused' },
      },
      done: {},
      failed: {},
      paused: {},
    },
  });
}

describe('fromCancellable', () => {
  it('resolves like fromPromise: the invoking state gets onDone with the output', async () => {
    const actor = createActor(machineWith(fromCancellable(async ({ input }) => input.n * 2))).start();
    await new Promise((r) => setTimeout(r, 0));
    expect(actor.getSnapshot().value).toBe('done');
    expect(actor.getSnapshot().context.result).toBe(42);
  });

  it('rejects like fromPromise: onError with the error', async () => {
    const actor = createActor(machineWith(fromCancellable(async () => Promise.reject(new Error('venue down'))))).start();
    await new Promise((r) => setTimeout(r, 0));
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.error).toBe('venue down');
  });

  it('sets the signal when the invoking state is left, and a late result is dropped', async () => {
    let seen: CancelSignal | null = null;
    let finish: (n: number) => void = () => {};
    const actor = createActor(
      machineWith(
        fromCancellable(({ signal }) => {
          seen = signal;
          return new Promise<number>((r) => (finish = r));
        }),
      ),
    ).start();
    expect(seen!.aborted).toBe(false);
    actor.send({ type: 'pause' });
    expect(seen!.aborted).toBe(true);
    finish(7);
    await new Promise((r) => setTimeout(r, 0));
    expect(actor.getSnapshot().value).toBe('paused');
    expect(actor.getSnapshot().context.result).toBeNull();
  });
});
