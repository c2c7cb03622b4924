import { describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../../runtime/store/types.ts';
import {
  releaseCommands,
  samplesFromMetrics,
  utcDayStart,
  violationCommands,
  type PolicyTrader,
  type ViolationRecord,
} from '../../../runtime/risk/index.ts';

const AT = 1_700_000_000_000;

function violation(over: Partial<ViolationRecord> = {}): ViolationRecord {
  return {
    id: 7,
    at: AT,
    traderId: 't-1',
    userId: 'u-1',
    policy: 'dailyStopLoss',
    observed: '12.4',
    limit: '10',
    message: 'daily loss 12.4 % reached the limit 10 %',
    status: 'open',
    releasedAt: null,
    releasedBy: null,
    releaseReason: null,
    ...over,
  };
}

const metric = (over: Partial<MetricRecord> = {}): MetricRecord => ({
  scope: 'trader',
  scopeId: 't-1',
  at: AT,
  pv: '876',
  roe: -0.124,
  upnl: '0',
  sharpe: null,
  mdd: 0.124,
  ...over,
});

describe('violationCommands', () => {
  it('pauses each trader once at scope risk by risk, with its violations as the reason', () => {
    const out = violationCommands(
      [violation(), violation({ id: 8, policy: 'totalStopLoss', message: 'total loss 31 % reached the limit 30 %' }), violation({ id: 9, traderId: 't-2' })],
      AT + 5,
      (id) => (id === 't-1' ? 'm-1' : undefined),
    );
    expect(out.sends).toEqual([
      {
        traderId: 't-1',
        event: {
          type: 'trader.pause',
          by: 'risk',
          scope: 'risk',
          at: AT + 5,
          reason: 'daily loss 12.4 % reached the limit 10 %; total loss 31 % reached the limit 30 %',
        },
      },
      { traderId: 't-2', event: { type: 'trader.pause', by: 'risk', scope: 'risk', at: AT + 5, reason: 'daily loss 12.4 % reached the limit 10 %' } },
    ]);
    expect(out.events.map((e) => [e.type, e.traderId, e.managerId, e.severity, e.actor])).toEqual([
      ['risk.violated', 't-1', 'm-1', 'critical', 'risk'],
      ['risk.violated', 't-1', 'm-1', 'critical', 'risk'],
      ['risk.violated', 't-2', null, 'critical', 'risk'],
    ]);
    expect(out.events[0]?.message).toBe('daily loss 12.4 % reached the limit 10 %: trader t-1 paused (violation #7)');
    expect(out.audit.map((a) => [a.action, a.target.id, a.actor.label, a.after?.['violationId']])).toEqual([
      ['risk.pause', 't-1', 'risk', 7],
      ['risk.pause', 't-1', 'risk', 8],
      ['risk.pause', 't-2', 'risk', 9],
    ]);
  });

  it('has nothing to do when there is no new violation', () => {
    expect(violationCommands([], AT)).toEqual({ sends: [], events: [], audit: [] });
  });
});

describe('releaseCommands', () => {
  const released = violation({ status: 'released', releasedAt: AT + 60_000, releasedBy: 'alice', releaseReason: 'loss accepted' });

  it('resumes the trader at scope trader when no violation of it is still open', () => {
    const out = releaseCommands({ violation: released, stillOpen: [] }, AT + 60_000, () => 'm-1', { userId: 'u-ops', ip: '10.0.0.7' });
    expect(out.sends).toEqual([{ traderId: 't-1', event: { type: 'trader.resume', by: 'alice', scope: 'trader', at: AT + 60_000 } }]);
    expect(out.events).toEqual([
      expect.objectContaining({
        type: 'risk.released',
        actor: 'alice',
        managerId: 'm-1',
        message: 'alice released violation #7 (dailyStopLoss) of t-1: loss accepted; resumed',
      }),
    ]);
    expect(out.audit).toEqual([
      {
        actor: { userId: 'u-ops', label: 'alice', ip: '10.0.0.7' },
        action: 'risk.release',
        target: { type: 'trader', id: 't-1' },
        outcome: 'ok',
        message: 'alice released risk violation #7 (dailyStopLoss) of t-1: loss accepted',
        before: { violationId: 7, status: 'open' },
        after: { violationId: 7, status: 'released', resumed: true },
      },
    ]);
  });

  it('keeps the trader paused while another of its violations is open, and says which', () => {
    const out = releaseCommands({ violation: released, stillOpen: [violation({ id: 8, policy: 'totalStopLoss' })] }, AT);
    expect(out.sends).toEqual([]);
    expect(out.events[0]?.message).toBe('alice released violation #7 (dailyStopLoss) of t-1: loss accepted; stays paused (still open: #8 totalStopLoss)');
  });
});

describe('samplesFromMetrics', () => {
  const traders = new Map<string, PolicyTrader>([['t-1', { id: 't-1', userId: 'u-1', leverage: 3, initialCapital: '1000' }]]);

  it('joins the trader rows with the traders and drops other scopes and unknown traders', () => {
    const rows = [metric(), metric({ scope: 'manager', scopeId: 'm-1' }), metric({ scopeId: 't-gone' })];
    expect(samplesFromMetrics(rows, (id) => traders.get(id))).toEqual([{ trader: traders.get('t-1'), at: AT, pv: '876' }]);
  });

  it('adds the position leverage when the caller knows it', () => {
    expect(samplesFromMetrics([metric()], (id) => traders.get(id), () => 4.5)[0]?.positionsLeverage).toBe(4.5);
  });
});

describe('utcDayStart', () => {
  it('floors a time to 00:00 UTC of its day', () => {
    expect(utcDayStart(Date.UTC(2026, 10, 21, 23, 59, 59, 999))).toBe(Date.UTC(2026, 10, 21));
    expect(utcDayStart(Date.UTC(2026, 10, 22))).toBe(Date.UTC(2026, 10, 22));
  });
});
