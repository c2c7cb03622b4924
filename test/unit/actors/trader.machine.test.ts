import { describe, expect, it, vi } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { ErrorInfo, PauseScope, TraderId } from '../../../runtime/domain.ts';
import {
  MISSING_CLOCK_MESSAGE,
  traderMachine,
  traderStateDetail,
  traderStatus,
} from '../../../actors/index.ts';
import type { CycleSkippedParams, TraderInput } from '../../../actors/index.ts';
import { T0, fakeEffects, flush, traderInput, untilAborted } from './helpers.ts';

type Effects = ReturnType<typeof fakeEffects>;

function startTrader(input: TraderInput = traderInput(), effects: Effects = fakeEffects()) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const skipped: CycleSkippedParams[] = [];
  const machine = traderMachine.provide({
    actions: { ...effects.actions, cycleSkipped: (_, params) => void skipped.push(params) },
  });
  const actor = createActor(machine, { input, clock });
  const errors: unknown[] = [];
  actor.subscribe({ error: (err) => void errors.push(err) });
  actor.start();
  return { actor, clock, skipped, errors, fakes: effects.fakes };
}

const pause = (scope: PauseScope, at = T0) =>
  ({ type: 'trader.pause', by: 'ops', reason: 'test', scope, at }) as const;
const resume = (scope: PauseScope, at = T0) => ({ type: 'trader.resume', by: 'ops', scope, at }) as const;

describe('trader machine', () => {
  it('loads, then runs one cycle from tick to rebalance and counts it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = startTrader(traderInput(), fakeEffects({ rebalance: () => gate }));
    expect(traderStatus(t.actor.getSnapshot())).toBe('starting');
    await flush();
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.idle');
    expect(t.fakes.loads).toEqual([{ traderId: 't-1' }]);

    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.computing');
    expect(t.actor.getSnapshot().context.cycle?.id).toBe('t-1:60000');
    await flush();
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.rebalancing');
    expect(t.fakes.rebalances[0]?.input).toEqual({
      traderId: 't-1',
      cycleId: 't-1:60000',
      candleTime: 60_000,
      targets: { BTCUSDT: { weight: 0.5 } },
    });

    t.clock.increment(1234);
    release();
    await flush();
    const snap = t.actor.getSnapshot();
    expect(traderStateDetail(snap)).toBe('running.idle');
    expect(snap.context.cyclesCompleted).toBe(1);
    expect(snap.context.lastCycleAt).toBe(60_000); // the candle it ran, not the wall time
    expect(snap.context.cycle).toBeNull();
  });

  it('passes the strategy version loaded at start to computeTargets', async () => {
    const t = startTrader(
      traderInput(),
      fakeEffects({ load: async () => ({ strategyRef: 'momentum@4' as never }) }),
    );
    await flush();
    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    expect(t.fakes.computes[0]?.input.strategyRef).toBe('momentum@4');
  });

  it('ignores a tick while a cycle is in flight and reports it as skipped', async () => {
    const t = startTrader(traderInput(), fakeEffects({ compute: (_, signal) => untilAborted(signal) }));
    await flush();
    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    t.actor.send({ type: 'trader.tick', candleTime: 120_000 });
    await flush();
    expect(t.fakes.computes).toHaveLength(1);
    expect(t.actor.getSnapshot().context.cycle?.candleTime).toBe(60_000);
    expect(t.skipped).toEqual([{ traderId: 't-1', candleTime: 120_000, busyCycleId: 't-1:60000' }]);
  });

  it('cancels the cycle when paused during computing: the signal aborts and no rebalance runs', async () => {
    const t = startTrader(traderInput(), fakeEffects({ compute: (_, signal) => untilAborted(signal) }));
    await flush();
    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    await flush();
    const signal = t.fakes.computes[0]!.signal;
    expect(signal.aborted).toBe(false);

    t.actor.send(pause('trader'));
    expect(signal.aborted).toBe(true);
    await flush();
    const snap = t.actor.getSnapshot();
    expect(traderStatus(snap)).toBe('paused');
    expect(snap.context.pause).toEqual({ by: 'ops', reason: 'test', scope: 'trader', at: T0 });
    expect(snap.context.cycle).toBeNull();
    expect(snap.context.error).toBeNull();
    expect(t.fakes.rebalances).toHaveLength(0);
  });

  it('cancels the rebalance when paused during rebalancing', async () => {
    const t = startTrader(traderInput(), fakeEffects({ rebalance: (_, signal) => untilAborted(signal) }));
    await flush();
    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    await flush();
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.rebalancing');
    t.actor.send(pause('risk'));
    expect(t.fakes.rebalances[0]!.signal.aborted).toBe(true);
    await flush();
    expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
    expect(t.actor.getSnapshot().context.cyclesCompleted).toBe(0);
  });

  it.each([
    // [paused by, resumed by, resumes?]
    ['trader', 'manager', false],
    ['trader', 'all', false],
    ['trader', 'trader', true],
    ['risk', 'manager', false],
    ['risk', 'all', false],
    ['risk', 'trader', true],
    ['risk', 'risk', true],
    ['manager', 'all', false],
    ['manager', 'manager', true],
    ['manager', 'trader', true],
    ['all', 'manager', false],
    ['all', 'all', true],
  ] as const)('a trader paused at scope %s and resumed at scope %s resumes: %s', async (by, resumedBy, resumes) => {
    const t = startTrader();
    await flush();
    t.actor.send(pause(by));
    t.actor.send(resume(resumedBy));
    expect(traderStatus(t.actor.getSnapshot())).toBe(resumes ? 'running' : 'paused');
    expect(t.actor.getSnapshot().context.pause === null).toBe(resumes);
  });

  it('keeps an individual pause when a pause-all follows it, so resume-all leaves the bot paused', async () => {
    const t = startTrader();
    await flush();
    t.actor.send(pause('trader'));
    t.actor.send(pause('all', T0 + 1));
    t.actor.send(resume('all'));
    expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
    expect(t.actor.getSnapshot().context.pause?.scope).toBe('trader');
    t.actor.send(resume('trader'));
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.idle');
  });

  it('stays paused until every pause in force is lifted, whatever the order of group resumes', async () => {
    const t = startTrader();
    await flush();
    t.actor.send(pause('manager'));
    t.actor.send(pause('all', T0 + 1));
    expect(t.actor.getSnapshot().context.pause?.scope).toBe('manager');
    t.actor.send(resume('all'));
    expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
    expect(t.actor.getSnapshot().context.pauses).toEqual({ manager: { by: 'ops', reason: 'test', scope: 'manager', at: T0 } });
    t.actor.send(pause('all', T0 + 2));
    t.actor.send(resume('manager'));
    expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
    expect(t.actor.getSnapshot().context.pause?.scope).toBe('all');
    t.actor.send(resume('all'));
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.idle');
    expect(t.actor.getSnapshot().context.pauses).toEqual({});
  });

  it('goes to paused when paused while loading, and loads again before running when resumed', async () => {
    let finish!: () => void;
    const loads: Promise<void>[] = [new Promise<void>((r) => (finish = r))];
    const t = startTrader(
      traderInput(),
      fakeEffects({
        load: async () => {
          await (loads.shift() ?? Promise.resolve());
          return { strategyRef: 'momentum@3' as never };
        },
      }),
    );
    t.actor.send(pause('manager'));
    expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
    finish();
    await flush();
    expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
    t.actor.send(resume('manager'));
    expect(traderStatus(t.actor.getSnapshot())).toBe('starting');
    await flush();
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.idle');
    expect(t.fakes.loads).toHaveLength(2);
  });

  it('fails into error with kind strategy and the clock time when computeTargets rejects, and restarts', async () => {
    let fail = true;
    const t = startTrader(
      traderInput(),
      fakeEffects({
        compute: async () => {
          if (fail) throw new Error('division by zero in momentum');
          return {};
        },
      }),
    );
    await flush();
    t.clock.increment(5_000);
    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    await flush();
    const snap = t.actor.getSnapshot();
    expect(traderStatus(snap)).toBe('error');
    expect(snap.context.error).toEqual({
      kind: 'strategy',
      message: 'division by zero in momentum',
      at: T0 + 5_000,
      retryable: true,
    });
    expect(t.fakes.rebalances).toHaveLength(0);
    expect(t.errors).toEqual([]);

    fail = false;
    t.actor.send({ type: 'trader.restart', by: 'ops' });
    expect(traderStatus(t.actor.getSnapshot())).toBe('starting');
    expect(t.actor.getSnapshot().context.error).toBeNull();
    await flush();
    expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.idle');
    t.actor.send({ type: 'trader.tick', candleTime: 120_000 });
    await flush();
    expect(t.actor.getSnapshot().context.cyclesCompleted).toBe(1);
  });

  it('keeps the kind and retryable flag an adapter attached to the error it threw', async () => {
    const t = startTrader(
      traderInput(),
      fakeEffects({
        rebalance: async () => {
          throw Object.assign(new Error('invalid api key'), { kind: 'operational' });
        },
      }),
    );
    await flush();
    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    await flush();
    expect(t.actor.getSnapshot().context.error).toMatchObject({
      kind: 'operational',
      message: 'invalid api key',
      retryable: false,
    });
  });

  it('fails into error with kind internal when loading fails', async () => {
    const t = startTrader(traderInput(), fakeEffects({ load: async () => Promise.reject(new Error('no such trader')) }));
    await flush();
    expect(traderStatus(t.actor.getSnapshot())).toBe('error');
    expect(t.actor.getSnapshot().context.error?.kind).toBe('internal');
    expect(t.actor.getSnapshot().context.error?.message).toBe('no such trader');
  });

  it('fails with the error carried by trader.fail and ignores ticks until restarted', async () => {
    const t = startTrader();
    await flush();
    const error: ErrorInfo = { kind: 'operational', message: 'margin call', at: 42, retryable: false };
    t.actor.send({ type: 'trader.fail', error });
    expect(t.actor.getSnapshot().context.error).toEqual(error);
    t.actor.send({ type: 'trader.tick', candleTime: 60_000 });
    expect(t.fakes.computes).toHaveLength(0);
    expect(traderStatus(t.actor.getSnapshot())).toBe('error');
  });

  it('records a pause that arrives while in error, so a restart comes back paused', async () => {
    const t = startTrader();
    await flush();
    t.actor.send({ type: 'trader.fail', error: { kind: 'internal', message: 'x', at: 1, retryable: true } });
    t.actor.send(pause('all'));
    expect(traderStatus(t.actor.getSnapshot())).toBe('error');
    t.actor.send({ type: 'trader.restart', by: 'ops' });
    await flush();
    expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
  });

  it('reloads on a restart from running', async () => {
    const t = startTrader();
    await flush();
    t.actor.send({ type: 'trader.restart', by: 'ops' });
    expect(traderStatus(t.actor.getSnapshot())).toBe('starting');
    await flush();
    expect(t.fakes.loads).toHaveLength(2);
    expect(traderStatus(t.actor.getSnapshot())).toBe('running');
  });

  it('stops for good on trader.stop', async () => {
    const t = startTrader();
    await flush();
    t.actor.send({ type: 'trader.stop' });
    expect(traderStatus(t.actor.getSnapshot())).toBe('stopped');
    expect(t.actor.getSnapshot().status).toBe('done');
  });

  describe('routing state', () => {
    it('boots into error from input without loading and keeps the stored error', async () => {
      const error: ErrorInfo = { kind: 'strategy', message: 'boom', at: 7, retryable: true };
      const t = startTrader(traderInput({ desired: 'error', error }));
      await flush();
      expect(traderStatus(t.actor.getSnapshot())).toBe('error');
      expect(t.actor.getSnapshot().context.error).toEqual(error);
      expect(t.fakes.loads).toHaveLength(0);
    });

    it('boots into error with a placeholder error when none was stored', () => {
      const t = startTrader(traderInput({ desired: 'error' }));
      expect(t.actor.getSnapshot().context.error).toMatchObject({ kind: 'internal', at: T0 });
    });

    it('boots into paused after loading when the stored pause is given', async () => {
      const p = { by: 'risk', reason: 'daily stop-loss', scope: 'risk', at: 3 } as const;
      const t = startTrader(traderInput({ desired: 'paused', pause: p }));
      await flush();
      expect(traderStatus(t.actor.getSnapshot())).toBe('paused');
      expect(t.actor.getSnapshot().context.pause).toEqual(p);
      expect(t.fakes.loads).toHaveLength(1);
    });

    it('boots into paused with a trader-scope pause when desired paused has no stored pause', async () => {
      const t = startTrader(traderInput({ desired: 'paused' }));
      await flush();
      expect(t.actor.getSnapshot().context.pause).toMatchObject({ scope: 'trader', at: T0 });
    });

    it('boots into running.idle when desired running', async () => {
      const t = startTrader(traderInput({ desired: 'running', lastCycleAt: 99 }));
      await flush();
      expect(traderStateDetail(t.actor.getSnapshot())).toBe('running.idle');
      expect(t.actor.getSnapshot().context.lastCycleAt).toBe(99);
    });

    it('boots into stopped when desired stopped', () => {
      const t = startTrader(traderInput({ desired: 'stopped' }));
      expect(traderStatus(t.actor.getSnapshot())).toBe('stopped');
    });
  });

  it('fails at boot with an exact message when the root has no clock with now()', () => {
    const actor = createActor(traderMachine.provide({ actions: fakeEffects().actions }), { input: traderInput() });
    const onError = vi.fn();
    actor.subscribe({ error: onError });
    actor.start();
    expect(actor.getSnapshot().status).toBe('error');
    expect(onError).toHaveBeenCalledWith(new TypeError(MISSING_CLOCK_MESSAGE));
  });

  it('does not notify anyone when it fails without a parent', async () => {
    const t = startTrader(traderInput({ traderId: 't-solo' as TraderId }), fakeEffects({ load: () => Promise.reject(new Error('x')) }));
    await flush();
    expect(t.actor.getSnapshot().status).toBe('active');
    expect(t.errors).toEqual([]);
  });
});
