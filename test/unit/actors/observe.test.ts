import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, setup } from 'xstate';
import { observeSafely } from '../../../actors/index.ts';
import { flush } from './helpers.ts';

const boomMachine = setup({
  types: { events: {} as { type: 'boom' } | { type: 'tick' } },
  actions: {
    explode: () => {
      throw new Error('boom');
    },
  },
}).createMachine({ on: { boom: { actions: 'explode' }, tick: {} } });

describe('observeSafely', () => {
  it('passes an actor failure to onError instead of rethrowing it', async () => {
    const actor = createActor(boomMachine);
    const errors: unknown[] = [];
    observeSafely(actor, () => {}, (err) => errors.push(err));
    actor.start();
    actor.send({ type: 'boom' });
    await flush();
    expect(errors).toEqual([new Error('boom')]);
    expect(actor.getSnapshot().status).toBe('error');
  });

  it('catches an observer that throws and reports it, keeping the actor alive', async () => {
    const actor = createActor(boomMachine);
    const errors: unknown[] = [];
    let calls = 0;
    observeSafely(
      actor,
      () => {
        calls += 1;
        throw new Error('observer bug');
      },
      (err) => errors.push(err),
    );
    actor.start();
    actor.send({ type: 'tick' });
    await flush();
    expect(calls).toBeGreaterThan(0);
    expect(errors[0]).toEqual(new Error('observer bug'));
    expect(actor.getSnapshot().status).toBe('active');
  });

  it('survives an error reporter that throws', async () => {
    const actor = createActor(fromCallback(() => {
      throw new Error('callback failed');
    }));
    observeSafely(actor, () => {}, () => {
      throw new Error('reporter failed too');
    });
    actor.start();
    await flush();
    expect(actor.getSnapshot().status).toBe('error');
  });
});
