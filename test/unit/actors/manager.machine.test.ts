import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { ManagerId, TraderId } from '../../../runtime/domain.ts';
import {
  DEFAULT_POLICY,
  managerMachine,
  traderMachine,
  traderStateDetail,
  traderStatus,
} from '../../../actors/index.ts';
import type {
  ManagerInput,
  RestartScheduledParams,
  TraderActorRef,
  TraderEscalatedParams,
  TraderInput,
  TraderRespawnedParams,
} from '../../../actors/index.ts';
import { T0, fakeEffects, flush, traderInput, untilAborted } from './helpers.ts';

type Effects = ReturnType<typeof fakeEffects>;

const ids = (n: number) => Array.from({ length: n }, (_, i) => `t-${i + 1}` as TraderId);

function startManager(
  opts: {
    traders?: TraderInput[];
    input?: Partial<ManagerInput>;
    effects?: Effects;
    traderActions?: Parameters<typeof traderMachine.provide>[0]['actions'];
  } = {},
) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const effects = opts.effects ?? fakeEffects();
  const scheduled: RestartScheduledParams[] = [];
  const escalated: TraderEscalatedParams[] = [];
  const respawned: TraderRespawnedParams[] = [];
  const machine = managerMachine.provide({
    actors: { trader: traderMachine.provide({ actions: { ...effects.actions, ...opts.traderActions } }) },
    actions: {
      restartScheduled: (_, p) => void scheduled.push(p),
      traderEscalated: (_, p) => void escalated.push(p),
      traderRespawned: (_, p) => void respawned.push(p),
    },
  });
  const input: ManagerInput = {
    managerId: 'm-1' as ManagerId,
    policy: DEFAULT_POLICY,
    traders: opts.traders ?? ids(3).map((traderId) => traderInput({ traderId })),
    ...opts.input,
  };
  const actor = createActor(machine, { input, clock });
  const errors: unknown[] = [];
  actor.subscribe({ error: (err) => void errors.push(err) });
  actor.start();
  const trader = (id: string) => actor.getSnapshot().context.traders[id] as TraderActorRef;
  const status = (id: string) => traderStatus(trader(id).getSnapshot());
  return { actor, clock, scheduled, escalated, respawned, errors, fakes: effects.fakes, trader, status };
}

describe('manager machine', () => {
  it('spawns every trader as a child named by its trader id', async () => {
    const m = startManager();
    const children = m.actor.getSnapshot().children as Record<string, unknown>;
    expect(Object.keys(children).sort()).toEqual(['t-1', 't-2', 't-3']);
    await flush();
    expect(['t-1', 't-2', 't-3'].map(m.status)).toEqual(['running', 'running', 'running']);
    expect(m.trader('t-2').getSnapshot().context.managerId).toBe('m-1');
  });

  it('forwards a pause to every trader with scope manager and a resume releases them', async () => {
    const m = startManager();
    await flush();
    m.actor.send({ type: 'manager.pause', by: 'ops', reason: 'desk review', at: T0 });
    expect(m.actor.getSnapshot().context.pause).toEqual({ by: 'ops', reason: 'desk review', scope: 'manager', at: T0 });
    expect(['t-1', 't-2', 't-3'].map(m.status)).toEqual(['paused', 'paused', 'paused']);
    expect(m.trader('t-1').getSnapshot().context.pause?.scope).toBe('manager');

    m.actor.send({ type: 'manager.resume', by: 'ops', at: T0 + 1 });
    expect(m.actor.getSnapshot().context.pause).toBeNull();
    expect(['t-1', 't-2', 't-3'].map(m.status)).toEqual(['running', 'running', 'running']);
  });

  it('does not resume a trader paused individually or by risk when the group resumes', async () => {
    const m = startManager();
    await flush();
    m.trader('t-1').send({ type: 'trader.pause', by: 'ops', reason: 'mine', scope: 'trader', at: T0 });
    m.trader('t-2').send({ type: 'trader.pause', by: 'risk', reason: 'daily stop-loss', scope: 'risk', at: T0 });
    m.actor.send({ type: 'manager.pause', by: 'ops', reason: 'desk', at: T0 });
    m.actor.send({ type: 'manager.resume', by: 'ops', at: T0 });
    expect(['t-1', 't-2', 't-3'].map(m.status)).toEqual(['paused', 'paused', 'running']);
  });

  it('restarts a failing strategy after 1 s, 2 s, 4 s, 8 s, 16 s, then escalates and keeps it in error', async () => {
    let failing = true;
    const effects = fakeEffects({
      compute: async () => {
        if (failing) throw new Error('strategy threw: index out of range');
        return {};
      },
    });
    const m = startManager({ traders: [traderInput({ traderId: 't-1' as TraderId })], effects });
    await flush();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      m.trader('t-1').send({ type: 'trader.tick', candleTime: attempt * 60_000 });
      await flush();
      expect(m.status('t-1')).toBe('error');
      const last = m.scheduled.at(-1)!;
      expect(last).toMatchObject({ traderId: 't-1', attempt });
      delays.push(last.delayMs);
      m.clock.increment(last.delayMs - 1);
      expect(m.status('t-1')).toBe('error');
      m.clock.increment(1);
      expect(m.status('t-1')).toBe('starting');
      await flush();
      expect(m.status('t-1')).toBe('running');
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(m.actor.getSnapshot().context.restarts['t-1']).toHaveLength(5);

    m.trader('t-1').send({ type: 'trader.tick', candleTime: 6 * 60_000 });
    await flush();
    expect(m.scheduled).toHaveLength(5);
    expect(m.escalated).toEqual([
      { traderId: 't-1', reason: 'restart limit reached: 5 restarts within 600000 ms' },
    ]);
    expect(m.actor.getSnapshot().context.escalated).toEqual({ 't-1': true });
    m.clock.increment(3_600_000);
    await flush();
    expect(m.status('t-1')).toBe('error');
    expect(m.trader('t-1').getSnapshot().context.error?.message).toBe('strategy threw: index out of range');

    // An operator's restart clears the escalation and the log and brings it back.
    failing = false;
    m.actor.send({ type: 'manager.restartTrader', traderId: 't-1' as TraderId, by: 'ops' });
    expect(m.actor.getSnapshot().context.escalated).toEqual({});
    expect(m.actor.getSnapshot().context.restarts).toEqual({});
    await flush();
    expect(m.status('t-1')).toBe('running');
    m.trader('t-1').send({ type: 'trader.tick', candleTime: 7 * 60_000 });
    await flush();
    expect(m.trader('t-1').getSnapshot().context.cyclesCompleted).toBe(1);
    expect(m.errors).toEqual([]);
  });

  it('keeps the other traders running while one fails', async () => {
    const effects = fakeEffects({
      compute: async (input) => {
        if (input.traderId === 't-2') throw new Error('bad');
        return {};
      },
    });
    const m = startManager({ effects });
    await flush();
    for (const id of ids(3)) m.trader(id).send({ type: 'trader.tick', candleTime: 60_000 });
    await flush();
    expect(['t-1', 't-2', 't-3'].map(m.status)).toEqual(['running', 'error', 'running']);
    expect(m.trader('t-1').getSnapshot().context.cyclesCompleted).toBe(1);
  });

  it('escalates a non-retryable error at once without restarting', async () => {
    const m = startManager();
    await flush();
    m.trader('t-1').send({
      type: 'trader.fail',
      error: { kind: 'operational', message: 'invalid api key', at: T0, retryable: false },
    });
    expect(m.scheduled).toEqual([]);
    expect(m.escalated).toEqual([{ traderId: 't-1', reason: 'non-retryable operational error: invalid api key' }]);
    m.clock.increment(60_000);
    expect(m.status('t-1')).toBe('error');
  });

  it('survives a trader that throws inside an action: rebuilds it in error and restarts it with backoff', async () => {
    const m = startManager({
      effects: fakeEffects({ compute: (_, signal) => untilAborted(signal) }),
      traderActions: {
        cycleSkipped: (_, p) => {
          if (p.traderId === 't-1') throw new Error('boom in an action');
        },
      },
    });
    await flush();
    const original = m.trader('t-1');
    original.send({ type: 'trader.tick', candleTime: 60_000 });
    original.send({ type: 'trader.tick', candleTime: 120_000 }); // busy: cycleSkipped throws
    expect(original.getSnapshot().status).toBe('error');

    expect(m.actor.getSnapshot().status).toBe('active');
    expect(m.errors).toEqual([]);
    const rebuilt = m.trader('t-1');
    expect(rebuilt).not.toBe(original);
    expect(m.respawned).toEqual([{ traderId: 't-1', ref: rebuilt }]);
    expect(traderStatus(rebuilt.getSnapshot())).toBe('error');
    expect(rebuilt.getSnapshot().context.error).toEqual({
      kind: 'internal',
      message: 'boom in an action',
      at: T0,
      retryable: true,
    });
    expect(m.scheduled).toEqual([{ traderId: 't-1', delayMs: 1_000, attempt: 1 }]);
    expect(['t-2', 't-3'].map(m.status)).toEqual(['running', 'running']);

    m.clock.increment(1_000);
    await flush();
    expect(traderStateDetail(m.trader('t-1').getSnapshot())).toBe('running.idle');
  });

  it('re-schedules the pending restart of a trader that boots in error, at its original due time and without a new log entry', async () => {
    const error = { kind: 'strategy', message: 'boom', at: T0 - 500, retryable: true } as const;
    const m = startManager({
      traders: [
        traderInput({ traderId: 't-1' as TraderId, desired: 'error', error }),
        traderInput({ traderId: 't-2' as TraderId, desired: 'error', error }),
        traderInput({ traderId: 't-3' as TraderId }),
      ],
      // t-1 failed for the second time 500 ms before the process restarted: due 2 s after that.
      input: { restarts: { 't-1': [T0 - 10_000, T0 - 500], 't-2': [T0 - 1_000] }, escalated: { 't-2': true } },
    });
    expect(m.scheduled).toEqual([{ traderId: 't-1', delayMs: 1_500, attempt: 2 }]);
    expect(m.actor.getSnapshot().context.restarts['t-1']).toEqual([T0 - 10_000, T0 - 500]);
    expect(m.fakes.loads.map((l) => l.traderId)).toEqual(['t-3']);

    m.clock.increment(1_499);
    expect(m.status('t-1')).toBe('error');
    m.clock.increment(1);
    await flush();
    expect(m.status('t-1')).toBe('running');
    expect(m.status('t-2')).toBe('error');
    expect(m.actor.getSnapshot().context.restarts['t-1']).toEqual([T0 - 10_000, T0 - 500]);
  });

  it('boots its traders paused when the manager was paused', async () => {
    const pause = { by: 'ops', reason: 'desk', scope: 'manager', at: T0 - 1 } as const;
    const m = startManager({ input: { pause } });
    await flush();
    expect(['t-1', 't-2', 't-3'].map(m.status)).toEqual(['paused', 'paused', 'paused']);
    m.actor.send({ type: 'manager.resume', by: 'ops', at: T0 });
    expect(['t-1', 't-2', 't-3'].map(m.status)).toEqual(['running', 'running', 'running']);
  });

  it('adds traders in one step (paused while the group is paused) and removes one with its pending restart', async () => {
    const m = startManager({ traders: [traderInput({ traderId: 't-1' as TraderId })] });
    await flush();
    m.actor.send({ type: 'manager.pause', by: 'ops', reason: 'desk', at: T0 });
    m.actor.send({
      type: 'manager.addTraders',
      traders: [traderInput({ traderId: 't-8' as TraderId }), traderInput({ traderId: 't-9' as TraderId })],
    });
    await flush();
    expect(Object.keys(m.actor.getSnapshot().children).sort()).toEqual(['t-1', 't-8', 't-9']);
    expect(m.status('t-9')).toBe('paused');

    m.trader('t-1').send({ type: 'trader.fail', error: { kind: 'internal', message: 'x', at: T0, retryable: true } });
    expect(m.scheduled).toHaveLength(1);
    const removed = m.trader('t-1');
    m.actor.send({ type: 'manager.removeTrader', traderId: 't-1' as TraderId });
    expect(Object.keys(m.actor.getSnapshot().children).sort()).toEqual(['t-8', 't-9']);
    expect(m.actor.getSnapshot().context.restarts).toEqual({});
    expect(removed.getSnapshot().status).toBe('stopped');
    m.clock.increment(5_000);
    expect(m.fakes.loads.filter((l) => l.traderId === 't-1')).toHaveLength(1);
  });

  it('persists its traders with their states, since the trader logic is registered by name', async () => {
    const m = startManager();
    await flush();
    m.trader('t-2').send({ type: 'trader.pause', by: 'ops', reason: 'mine', scope: 'trader', at: T0 });
    const persisted = JSON.parse(JSON.stringify(m.actor.getPersistedSnapshot())) as {
      children: Record<string, { src: string; snapshot: { value: unknown } }>;
    };
    expect(Object.keys(persisted.children).sort()).toEqual(['t-1', 't-2', 't-3']);
    expect(persisted.children['t-2']).toMatchObject({ src: 'trader', snapshot: { value: 'paused' } });
  });

  it('ignores an operator restart for an unknown trader', () => {
    const m = startManager();
    m.actor.send({ type: 'manager.restartTrader', traderId: 't-404' as TraderId, by: 'ops' });
    expect(m.actor.getSnapshot().status).toBe('active');
  });
});
