/**
 * Every command of the platform API writes one audit-log entry: who (user id, name), from
 * where, what, on what, done or refused, and the target's state before and after.
 */
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import type { AuditInput, AuditSink } from '../../../runtime/accounts/index.ts';
import { createManualClock } from '../../../runtime/clock.ts';
import type { PauseInfo } from '../../../runtime/domain.ts';
import { Ids } from '../../../runtime/domain.ts';
import { createLocalBus } from '../../../runtime/events/index.ts';
import { createOrderGate } from '../../../runtime/exchange/index.ts';
import type { TraderView } from '../../../runtime/node.ts';
import { MAX_RECENT_EVENTS } from '../../../runtime/api.ts';
import { createPlatformApi, type PlatformDeps } from '../../../runtime/platform.ts';
import type { EventRecord, Store, TraderRecord } from '../../../runtime/store/types.ts';

const T0 = Date.UTC(2026, 10, 21, 12);

function fixture(opts: { audit?: AuditSink } = {}) {
  const clock = createManualClock(T0);
  const record: TraderRecord = {
    id: Ids.trader('t-1'),
    managerId: Ids.manager('m-alpha'),
    userId: Ids.user('u-alice'),
    name: 'Alpha momentum',
    strategyName: 'momentum',
    strategyVersion: 1,
    params: { lookback: 20 },
    venue: 'paper',
    accountId: 'paper:t-1',
    initialCapital: '10000',
    leverage: 1,
    riskLimits: {},
    createdAt: T0,
    updatedAt: T0,
  };
  const view: TraderView = {
    record,
    ref: {
      send: (e: { type: string; by?: string; reason?: string; at?: number }) => {
        if (e.type === 'trader.pause') {
          view.status = 'paused';
          view.detail = 'paused';
          view.pause = { by: e.by!, reason: e.reason!, scope: 'trader', at: e.at! };
        }
      },
      getSnapshot: () => ({ context: {} }),
    } as unknown as AnyActorRef,
    status: 'running',
    detail: 'running.idle',
    pause: null,
    pauses: {},
    error: null,
    lastCycleAt: null,
  };
  let platformPause: PauseInfo | null = null;
  const supervisor = {
    send: (e: { type: string; by: string; reason: string; at: number }) => {
      if (e.type === 'supervisor.pauseAll') platformPause = { by: e.by, reason: e.reason, scope: 'all', at: e.at };
    },
    getSnapshot: () => ({ context: { pause: platformPause } }),
  } as unknown as AnyActorRef;
  const manager = { getSnapshot: () => ({ context: { pause: null, escalated: {} } }), send: () => {} } as unknown as AnyActorRef;
  const events: EventRecord[] = [];
  const askedLimits: number[] = [];
  const store = {
    users: { list: async () => [] },
    events: {
      appendMany: async (rows: readonly EventRecord[]) => {
        events.push(...rows);
      },
      recent: async ({ limit }: { limit: number }) => {
        askedLimits.push(limit);
        return events.slice(0, limit);
      },
    },
  } as unknown as Store;
  const deps: PlatformDeps = {
    clock,
    store,
    bus: createLocalBus(() => {}),
    gate: createOrderGate(),
    registry: { get: () => undefined } as unknown as PlatformDeps['registry'],
    pool: {} as PlatformDeps['pool'],
    views: new Map([['t-1', view]]),
    managers: [{ id: Ids.manager('m-alpha'), name: 'Alpha desk', capital: '0', maxRestarts: 5, restartWindowMs: 1, createdAt: T0 }],
    managerRef: () => manager,
    supervisor,
    startedAt: T0,
    databaseKind: 'pglite',
    lastCandleAt: () => null,
    symbols: 3,
    durable: async () => {},
    dryRun: async () => ({ ok: true }),
    onAssigned: () => {},
    positions: async () => [],
    ...(opts.audit ? { audit: opts.audit } : {}),
  };
  return { api: createPlatformApi(deps), view, events, askedLimits };
}

function recorder(): AuditSink & { entries: AuditInput[] } {
  const entries: AuditInput[] = [];
  return {
    entries,
    async record(e) {
      entries.push(e);
    },
  };
}

const ada = { by: 'Ada Admin', reason: 'news', userId: 'u-admin', ip: '10.1.2.3' };

describe('the audit log of platform commands', () => {
  it('records a pause with who, from where, and the bot before and after', async () => {
    const audit = recorder();
    const { api } = fixture({ audit });
    expect(await api.pauseBot('t-1', ada)).toEqual({ ok: true, message: 'Alpha momentum paused' });
    expect(audit.entries).toEqual([
      {
        actor: { userId: 'u-admin', label: 'Ada Admin', ip: '10.1.2.3' },
        action: 'bot.pause',
        target: { type: 'trader', id: 't-1' },
        outcome: 'ok',
        message: 'Alpha momentum paused',
        before: { status: 'running', pause: null, strategy: 'momentum@1', params: { lookback: 20 }, reason: 'news' },
        after: { status: 'paused', pause: { by: 'Ada Admin', reason: 'news', scope: 'trader', at: T0 }, strategy: 'momentum@1', params: { lookback: 20 } },
      },
    ]);
  });

  it('records a refused command as refused, with its reason', async () => {
    const audit = recorder();
    const { api } = fixture({ audit });
    const r = await api.resumeBot('t-1', ada);
    expect(r.ok).toBe(false);
    expect(audit.entries[0]).toMatchObject({ action: 'bot.resume', outcome: 'refused', message: 'Alpha momentum is running, not paused' });
  });

  it('records Pause All against the platform', async () => {
    const audit = recorder();
    const { api } = fixture({ audit });
    await api.pauseAll({ by: 'Otto Operator', reason: 'exchange incident', userId: 'u-op', ip: '10.0.0.8' });
    expect(audit.entries[0]).toMatchObject({
      action: 'platform.pause_all',
      target: { type: 'platform', id: null },
      actor: { userId: 'u-op', label: 'Otto Operator', ip: '10.0.0.8' },
      before: { tradingPaused: false, pause: null },
      after: { tradingPaused: true, pause: { by: 'Otto Operator', reason: 'exchange incident' } },
    });
  });

  it('records group commands and strategy assignments with what was asked', async () => {
    const audit = recorder();
    const { api } = fixture({ audit });
    await api.pauseManager('m-alpha', ada);
    await api.assignStrategy('t-1', { name: 'momentum', version: 9 }, { lookback: 5 }, ada);
    expect(audit.entries.map((e) => [e.action, e.target.type, e.target.id, e.outcome])).toEqual([
      ['group.pause', 'manager', 'm-alpha', 'ok'],
      ['bot.assign_strategy', 'trader', 't-1', 'refused'],
    ]);
    expect(audit.entries[1]!.after).toMatchObject({ requested: { ref: 'momentum@9', params: { lookback: 5 } } });
  });

  it('records the system as the actor when no user is given', async () => {
    const audit = recorder();
    const { api } = fixture({ audit });
    await api.pauseBot('t-1', { by: 'risk' });
    expect(audit.entries[0]!.actor).toEqual({ userId: null, label: 'risk', ip: '' });
  });

  it('keeps the command done when the audit write fails, and reports the failure as a critical event', async () => {
    const failing: AuditSink = {
      record: async () => {
        throw new Error('disk full');
      },
    };
    const { api, view, events } = fixture({ audit: failing });
    expect((await api.pauseBot('t-1', ada)).ok).toBe(true);
    expect(view.status).toBe('paused');
    expect(events.find((e) => e.type === 'audit.write_failed')).toMatchObject({
      severity: 'critical',
      message: 'audit log write failed for bot.pause on trader t-1: disk full',
    });
  });
});

describe('recent events', () => {
  it('asks the store for as many as the console offers, and no more', async () => {
    const { api, askedLimits } = fixture();
    expect(MAX_RECENT_EVENTS).toBe(1000);
    await api.recentEvents(1000);
    await api.recentEvents(700);
    await api.recentEvents(5000);
    await api.recentEvents(0);
    await api.recentEvents(Number.NaN);
    expect(askedLimits).toEqual([1000, 700, 1000, 1, 1]);
  });
});
