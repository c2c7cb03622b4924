import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { ManagerId, PauseInfo, TraderId } from '../../../runtime/domain.ts';
import {
  DEFAULT_POLICY,
  managerMachine,
  supervisorMachine,
  traderMachine,
  traderStatus,
} from '../../../actors/index.ts';
import type {
  ManagerActorRef,
  ManagerFailedParams,
  ManagerInput,
  OpenGateParams,
  SupervisorInput,
  TraderActorRef,
} from '../../../actors/index.ts';
import { T0, fakeEffects, flush, traderInput } from './helpers.ts';

function managerInput(managerId: string, traderCount: number, overrides: Partial<ManagerInput> = {}): ManagerInput {
  return {
    managerId: managerId as ManagerId,
    policy: DEFAULT_POLICY,
    traders: Array.from({ length: traderCount }, (_, i) =>
      traderInput({ traderId: `${managerId}-t${i}` as TraderId, managerId: managerId as ManagerId }),
    ),
    ...overrides,
  };
}

function startSupervisor(
  input: SupervisorInput,
  managerActions: Parameters<typeof managerMachine.provide>[0]['actions'] = {},
  opts: { countPausedAtGate?: boolean } = {},
) {
  const countAtGate = opts.countPausedAtGate ?? true;
  const clock = new SimulatedClock();
  clock.set(T0);
  const log: string[] = [];
  const gateClosed: PauseInfo[] = [];
  const gateOpened: OpenGateParams[] = [];
  const failed: ManagerFailedParams[] = [];
  const effects = fakeEffects();
  const machine = supervisorMachine.provide({
    actions: {
      closeGate: (_, p) => {
        gateClosed.push(p);
        if (countAtGate) log.push(`closeGate while ${pausedCount()} traders paused`);
      },
      openGate: (_, p) => {
        gateOpened.push(p);
        if (countAtGate) log.push(`openGate while ${pausedCount()} traders paused`);
      },
      managerFailed: (_, p) => void failed.push(p),
    },
    actors: {
      manager: managerMachine.provide({
        actions: managerActions,
        actors: { trader: traderMachine.provide({ actions: effects.actions }) },
      }),
    },
  });
  const actor = createActor(machine, { input, clock });
  const errors: unknown[] = [];
  actor.subscribe({ error: (err) => void errors.push(err) });
  const managers = () => Object.values(actor.getSnapshot().context.managers) as ManagerActorRef[];
  const traders = () =>
    managers().flatMap((m) => Object.values(m.getSnapshot().context.traders) as TraderActorRef[]);
  const pausedCount = () => traders().filter((t) => traderStatus(t.getSnapshot()) === 'paused').length;
  actor.start();
  return { actor, clock, log, gateClosed, gateOpened, failed, errors, managers, traders, pausedCount };
}

const statuses = (refs: TraderActorRef[]) => new Set(refs.map((t) => traderStatus(t.getSnapshot())));

describe('supervisor machine', () => {
  it('spawns its managers as children named by manager id', async () => {
    const s = startSupervisor({ managers: [managerInput('m-a', 2), managerInput('m-b', 3)] });
    expect(Object.keys(s.actor.getSnapshot().children).sort()).toEqual(['m-a', 'm-b']);
    await flush();
    expect(s.traders()).toHaveLength(5);
    expect(statuses(s.traders())).toEqual(new Set(['running']));
    expect(s.actor.getSnapshot().value).toBe('active');
  });

  it('closes the gate before any trader is paused, then pauses every trader with scope all', async () => {
    const s = startSupervisor({ managers: [managerInput('m-a', 2), managerInput('m-b', 2)] });
    await flush();
    s.actor.send({ type: 'supervisor.pauseAll', by: 'ops', reason: 'exchange incident', at: T0 + 5 });
    expect(s.log).toEqual(['closeGate while 0 traders paused']);
    expect(s.gateClosed).toEqual([{ by: 'ops', reason: 'exchange incident', scope: 'all', at: T0 + 5 }]);
    expect(s.actor.getSnapshot().value).toBe('tradingPaused');
    expect(statuses(s.traders())).toEqual(new Set(['paused']));
    expect(s.traders().every((t) => t.getSnapshot().context.pause?.scope === 'all')).toBe(true);
    expect(s.managers().every((m) => m.getSnapshot().context.pause?.scope === 'all')).toBe(true);
  });

  it('opens the gate on resume all and lifts only the pause all, leaving narrower pauses in force', async () => {
    const s = startSupervisor({ managers: [managerInput('m-a', 3)] });
    await flush();
    const [t0, t1, t2] = s.traders();
    t0!.send({ type: 'trader.pause', by: 'ops', reason: 'mine', scope: 'trader', at: T0 });
    s.managers()[0]!.send({ type: 'manager.pause', by: 'ops', reason: 'desk', at: T0 });
    s.actor.send({ type: 'supervisor.pauseAll', by: 'ops', reason: 'incident', at: T0 });
    // Lifting the desk pause on one bot cannot lift Pause All.
    t2!.send({ type: 'trader.resume', by: 'ops', scope: 'manager', at: T0 });
    expect(traderStatus(t2!.getSnapshot())).toBe('paused');

    s.actor.send({ type: 'supervisor.resumeAll', by: 'ops', at: T0 + 9 });
    expect(s.gateOpened).toEqual([{ by: 'ops', at: T0 + 9 }]);
    expect(s.log.at(-1)).toBe('openGate while 3 traders paused');
    expect(s.actor.getSnapshot().value).toBe('active');
    expect(s.actor.getSnapshot().context.pause).toBeNull();
    expect([t0, t1, t2].map((t) => t!.getSnapshot().context.pause?.scope ?? null)).toEqual(['trader', 'manager', null]);
    expect([t0, t1, t2].map((t) => traderStatus(t!.getSnapshot()))).toEqual(['paused', 'paused', 'running']);

    s.managers()[0]!.send({ type: 'manager.resume', by: 'ops', at: T0 });
    expect([t0, t1, t2].map((t) => traderStatus(t!.getSnapshot()))).toEqual(['paused', 'running', 'running']);
  });

  it('boots into tradingPaused from a stored pause, closes the gate again and pauses every trader', async () => {
    const pause: PauseInfo = { by: 'ops', reason: 'incident', scope: 'all', at: T0 - 1_000 };
    const s = startSupervisor({ managers: [managerInput('m-a', 2)], pause });
    expect(s.actor.getSnapshot().value).toBe('tradingPaused');
    expect(s.gateClosed).toEqual([pause]);
    await flush();
    expect(statuses(s.traders())).toEqual(new Set(['paused']));
    s.actor.send({ type: 'supervisor.resumeAll', by: 'ops', at: T0 });
    // These traders were paused before they finished loading: they load again, then run.
    expect(statuses(s.traders())).toEqual(new Set(['starting']));
    await flush();
    expect(statuses(s.traders())).toEqual(new Set(['running']));
  });

  it('ignores resume all while trading is active', async () => {
    const s = startSupervisor({ managers: [managerInput('m-a', 1)] });
    s.actor.send({ type: 'supervisor.resumeAll', by: 'ops', at: T0 });
    expect(s.gateOpened).toEqual([]);
  });

  it('adds a manager whose traders start paused while pause all holds', async () => {
    const s = startSupervisor({ managers: [managerInput('m-a', 1)] });
    await flush();
    s.actor.send({ type: 'supervisor.pauseAll', by: 'ops', reason: 'incident', at: T0 });
    s.actor.send({ type: 'supervisor.addManager', manager: managerInput('m-new', 2) });
    await flush();
    expect(Object.keys(s.actor.getSnapshot().children).sort()).toEqual(['m-a', 'm-new']);
    expect(statuses(s.traders())).toEqual(new Set(['paused']));
    s.actor.send({ type: 'supervisor.resumeAll', by: 'ops', at: T0 });
    expect(statuses(s.traders())).toEqual(new Set(['running']));
  });

  it('stops and reports a manager that throws, and keeps the others running', async () => {
    const s = startSupervisor({ managers: [managerInput('m-a', 1), managerInput('m-b', 1)] }, {
      restartScheduled: () => {
        throw new Error('alert sink exploded');
      },
    });
    await flush();
    const [ma] = s.managers();
    const failing = Object.values(ma!.getSnapshot().context.traders)[0] as TraderActorRef;
    failing.send({ type: 'trader.fail', error: { kind: 'internal', message: 'x', at: T0, retryable: true } });
    expect(s.failed).toEqual([{ managerId: 'm-a', message: 'alert sink exploded' }]);
    expect(s.actor.getSnapshot().status).toBe('active');
    expect(s.errors).toEqual([]);
    expect(Object.keys(s.actor.getSnapshot().children)).toEqual(['m-b']);
    expect(statuses(s.traders())).toEqual(new Set(['running']));
  });

  it('reaches every one of 10,000 traders under 100 managers with one pause all', async () => {
    const managers = Array.from({ length: 100 }, (_, i) => managerInput(`m-${i}`, 100));
    const spawnStart = performance.now();
    const s = startSupervisor({ managers }, {}, { countPausedAtGate: false });
    const spawnMs = performance.now() - spawnStart;
    await flush();
    const traders = s.traders();
    expect(traders).toHaveLength(10_000);
    expect(statuses(traders)).toEqual(new Set(['running']));

    const t = performance.now();
    s.actor.send({ type: 'supervisor.pauseAll', by: 'ops', reason: 'incident', at: T0 });
    const pauseMs = performance.now() - t;
    expect(s.gateClosed).toHaveLength(1);
    expect(traders.filter((r) => traderStatus(r.getSnapshot()) !== 'paused')).toEqual([]);
    console.log(`spawned 100 × 100 traders in ${spawnMs.toFixed(0)} ms; pause all reached 10,000 in ${pauseMs.toFixed(1)} ms`);
  });
});
