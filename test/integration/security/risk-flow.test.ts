/**
 * The must-show, with the pieces the composition root wires: a forced daily
 * stop-loss breach auto-pauses a live trader actor, is listed as a violation, and Release
 * resumes it; every step lands in the audit log and the event timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { traderMachine, traderStatus } from '../../../actors/index.ts';
import type { AuditInput, AuditSink } from '../../../runtime/accounts/index.ts';
import { createManualClock } from '../../../runtime/clock.ts';
import {
  createRiskPolicyEngine,
  createRiskPolicyStore,
  releaseCommands,
  samplesFromMetrics,
  violationCommands,
  type PolicyTrader,
  type RiskCommands,
  type RiskPauseCommand,
  type RiskResumeCommand,
} from '../../../runtime/risk/index.ts';
import type { MetricRecord, Sql } from '../../../runtime/store/index.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';
import { fakeEffects, flush, traderInput } from '../../unit/actors/helpers.ts';

const DAY = Date.UTC(2026, 10, 21);
const MIN = 60_000;

/** The accounts module's audit writer, as the node provides it (the entries are its `AuditInput`). */
function auditSink(sql: Sql, clock: { now(): number }): AuditSink {
  return {
    async record(a: AuditInput) {
      await sql`
        INSERT INTO audit_log (at, actor_user_id, actor_label, ip, action, target_type, target_id, outcome, message, before, after)
        VALUES (${clock.now()}, ${a.actor.userId}, ${a.actor.label}, ${a.actor.ip}, ${a.action}, ${a.target.type}, ${a.target.id},
          ${a.outcome ?? 'ok'}, ${a.message ?? ''}, ${a.before == null ? null : sql.json(a.before as never)},
          ${a.after == null ? null : sql.json(a.after as never)})`;
    },
  };
}

describe.each(dbTargets())('risk auto-pause and release on $name', (target) => {
  let db: FreshDatabase;
  beforeAll(async () => {
    db = await freshDatabase(target);
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('auto-pauses a trader on a forced daily stop-loss breach, lists it, and Release resumes it, each step audited', async () => {
    const clock = createManualClock(DAY + MIN);
    const engine = createRiskPolicyEngine({ store: createRiskPolicyStore(db.sql), clock });
    const sink = auditSink(db.sql, clock);
    const t: PolicyTrader = { id: 't-1', userId: 'u-1', leverage: 2, initialCapital: '1000' };
    const actorClock = new SimulatedClock();
    const actor = createActor(traderMachine.provide({ actions: fakeEffects().actions }), { input: traderInput(), clock: actorClock });
    actor.start();
    await flush();
    expect(traderStatus(actor.getSnapshot())).toBe('running');

    // What the node does after each metrics collection.
    const apply = async (cmds: RiskCommands<RiskPauseCommand | RiskResumeCommand>) => {
      // The commands are the actor's own event types: this compiles only while they match.
      for (const s of cmds.sends) actor.send(s.event);
      await db.store.events.appendMany(cmds.events);
      for (const a of cmds.audit) await sink.record(a);
    };
    const afterCollection = async (pv: string) => {
      const row: MetricRecord = { scope: 'trader', scopeId: 't-1', at: clock.now(), pv, roe: 0, upnl: '0', sharpe: null, mdd: 0 };
      await db.store.metrics.insertMany([row]);
      const { newViolations } = await engine.evaluate(samplesFromMetrics([row], (id) => (id === t.id ? t : undefined)));
      await apply(violationCommands(newViolations, clock.now(), () => 'm-1'));
      return newViolations;
    };

    expect(await afterCollection('1000')).toEqual([]);
    clock.advance(MIN);
    const [violation] = await afterCollection('876');
    expect(violation?.message).toBe('daily loss 12.4 % reached the limit 10 %');

    const paused = actor.getSnapshot();
    expect(traderStatus(paused)).toBe('paused');
    expect(paused.context.pause).toEqual({ by: 'risk', reason: 'daily loss 12.4 % reached the limit 10 %', scope: 'risk', at: DAY + 2 * MIN });
    expect((await engine.listViolations({ status: 'open' })).map((v) => [v.id, v.traderId, v.policy])).toEqual([
      [violation!.id, 't-1', 'dailyStopLoss'],
    ]);

    clock.advance(MIN);
    expect(await afterCollection('870')).toEqual([]);
    expect(traderStatus(actor.getSnapshot())).toBe('paused');

    clock.advance(MIN);
    const released = await engine.release(violation!.id, 'alice', 'loss accepted for today');
    if (!released.ok) throw new Error(released.error);
    await apply(releaseCommands(released.value, clock.now(), () => 'm-1'));
    await flush();
    expect(traderStatus(actor.getSnapshot())).toBe('running');
    expect(await engine.listViolations({ status: 'open' })).toEqual([]);

    // The next minute at the same PV does not pause it again.
    clock.advance(MIN);
    expect(await afterCollection('870')).toEqual([]);
    expect(traderStatus(actor.getSnapshot())).toBe('running');

    const audit = await db.sql<{ action: string; actor_label: string; target_id: string; message: string }[]>`
      SELECT action, actor_label, target_id, message FROM audit_log ORDER BY id`;
    expect(audit.map((a) => [a.action, a.actor_label, a.target_id])).toEqual([
      ['risk.pause', 'risk', 't-1'],
      ['risk.release', 'alice', 't-1'],
    ]);
    expect(audit[1]?.message).toBe(`alice released risk violation #${violation!.id} (dailyStopLoss) of t-1: loss accepted for today`);
    const events = await db.store.events.recent({ limit: 10, traderId: 't-1' });
    expect(events.map((e) => e.type).reverse()).toEqual(['risk.violated', 'risk.released']);
    actor.stop();
  });
});
