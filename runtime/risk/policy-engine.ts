/**
 * The risk policy engine: evaluates every trader's per-minute sample against its resolved
 * policy, stores each new violation once (never a second open one for the same trader and
 * policy), releases violations, and edits policies. It sends nothing to actors itself:
 * `violationCommands` and `releaseCommands` say what the composition root must send and write.
 *
 * Day-start PV: kept per trader in memory and persisted in `risk_baselines` (so a restart
 * mid-day keeps the morning's basis); when a day has no stored basis the first trader PV of
 * that UTC day in `metrics` is used, else the sample itself. A release re-bases the released
 * stop-loss at the trader's latest PV, so the same loss does not pause the trader again a
 * minute later: the daily stop-loss until the next UTC day, the total one from then on.
 */
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { errorMessage, type DecimalString } from '../domain.ts';
import type { EventRecord, MetricRecord } from '../store/types.ts';
import { processTurns, type Turns } from '../turns.ts';
import {
  evaluatePolicies,
  PLATFORM_POLICY_ID,
  resolvePolicy,
  type PolicyLimits,
  type PolicyScope,
  type PolicyTrader,
  type ResolvedPolicy,
} from './policies.ts';
import type { BaselineRecord, PolicyRecord, RiskPolicyStore, ViolationQuery, ViolationRecord } from './policy-store.ts';

/** Samples evaluated between two waits for a turn with budget left. */
const EVALUATE_SLICE = 25;

/** Milliseconds in a UTC day. */
export const DAY_MS = 86_400_000;

/** The UTC day's 00:00 (epoch ms) containing `t`. */
export function utcDayStart(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}

/** One trader's sample from a metrics collection. */
export interface RiskSample {
  readonly trader: PolicyTrader;
  /** The sample's time (the metrics row's `at`). */
  readonly at: number;
  readonly pv: DecimalString;
  /** Gross position notional over equity, when the caller knows it. */
  readonly positionsLeverage?: number | null;
}

/** The subset of a pino logger the engine writes to. */
export interface RiskLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/** What the engine needs (all injected). */
export interface RiskPolicyEngineDeps {
  readonly store: RiskPolicyStore;
  readonly clock: Clock;
  readonly log?: RiskLogger;
  /** Where the evaluation waits for budget between slices of samples, in the background lane (default the process's). */
  readonly turns?: Turns;
}

/** A command's outcome: a value, never an exception, for expected refusals. */
export type RiskResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** A released violation and the trader's violations still open after it. */
export interface ReleasedViolation {
  readonly violation: ViolationRecord;
  readonly stillOpen: readonly ViolationRecord[];
}

/** The engine. */
export interface RiskPolicyEngine {
  /** Evaluates one collection's samples; stores and returns the violations that are new. */
  evaluate(samples: readonly RiskSample[]): Promise<{ readonly newViolations: readonly ViolationRecord[] }>;
  /** Every open violation, newest first. */
  openViolations(): Promise<ViolationRecord[]>;
  /** Violations, newest first (default: the last 500 of any status). */
  listViolations(q?: ViolationQuery): Promise<ViolationRecord[]>;
  /** Releases an open violation (who and why are required) and re-bases its stop-loss. */
  release(id: number, by: string, reason: string): Promise<RiskResult<ReleasedViolation>>;
  /** Sets a scope's limits (null inherits; the platform row must set all three). */
  setPolicy(scope: PolicyScope, scopeId: string, limits: PolicyLimits, by: string): Promise<RiskResult<PolicyRecord>>;
  /** Removes a user's or trader's own row so that its limits inherit again. */
  clearPolicy(scope: Exclude<PolicyScope, 'platform'>, scopeId: string): Promise<RiskResult<boolean>>;
  /** Every stored policy row. */
  policies(): Promise<PolicyRecord[]>;
  /** A trader's resolved limits and where each comes from. */
  policyFor(trader: { readonly id: string; readonly userId: string }): Promise<ResolvedPolicy>;
}

const MAX_TEXT = 500;
const DECIMAL = /^-?\d+(\.\d+)?$/;

const pctField = z.number().gt(0, 'must be above 0').lte(100, 'must be at most 100').nullable().optional();
const LimitsInput = z.strictObject({
  dailyStopLossPct: pctField,
  totalStopLossPct: pctField,
  maxLeverage: z.number().gte(1, 'must be at least 1').lte(1000, 'must be at most 1000').nullable().optional(),
});

function who(by: string, reason?: string): RiskResult<{ by: string; reason: string }> {
  const b = by.trim();
  if (!b) return { ok: false, error: 'who is asking must be given' };
  if (b.length > 100) return { ok: false, error: 'the name is longer than 100 characters' };
  const r = (reason ?? '').trim();
  if (reason !== undefined && !r) return { ok: false, error: 'a reason is required' };
  if (r.length > MAX_TEXT) return { ok: false, error: `the reason is longer than ${MAX_TEXT} characters` };
  return { ok: true, value: { by: b, reason: r } };
}

/** Creates the engine over its repository. */
export function createRiskPolicyEngine(deps: RiskPolicyEngineDeps): RiskPolicyEngine {
  const { store, clock, log } = deps;
  const turns = deps.turns ?? processTurns;
  /** Daily basis per trader: the UTC day it belongs to and the PV. */
  const daily = new Map<string, { period: number; pv: DecimalString }>();
  /** Total stop-loss basis per trader after a release (else the initial capital). */
  const totalBase = new Map<string, DecimalString>();
  /** Latest PV seen per trader (what a release re-bases at). */
  const lastPv = new Map<string, { pv: DecimalString; at: number }>();
  let loaded: Promise<void> | null = null;
  /** First metrics PV per trader of one day, read once per day (restart or day change). */
  let firstOfDay: { day: number; pvs: Map<string, DecimalString> } | null = null;

  const load = () => {
    loaded ??= (async () => {
      for (const b of await store.listBaselines()) {
        if (b.policy === 'dailyStopLoss' && b.period !== null) daily.set(b.traderId, { period: b.period, pv: b.pv });
        else if (b.policy === 'totalStopLoss') totalBase.set(b.traderId, b.pv);
      }
    })().catch((err: unknown) => {
      loaded = null;
      throw err;
    });
    return loaded;
  };

  const layersOf = (rows: readonly PolicyRecord[]) => {
    const byKey = new Map<string, PolicyRecord>();
    for (const r of rows) byKey.set(`${r.scope}:${r.scopeId}`, r);
    return (t: { id: string; userId: string }): ResolvedPolicy =>
      resolvePolicy({
        platform: byKey.get(`platform:${PLATFORM_POLICY_ID}`) ?? null,
        user: byKey.get(`user:${t.userId}`) ?? null,
        trader: byKey.get(`trader:${t.id}`) ?? null,
      });
  };

  const dayBasis = async (s: RiskSample, fresh: BaselineRecord[]): Promise<DecimalString> => {
    const day = utcDayStart(s.at);
    const cur = daily.get(s.trader.id);
    if (cur && cur.period === day) return cur.pv;
    if (!firstOfDay || firstOfDay.day !== day) firstOfDay = { day, pvs: await store.firstTraderPvs(day, day + DAY_MS) };
    const pv = firstOfDay.pvs.get(s.trader.id) ?? s.pv;
    daily.set(s.trader.id, { period: day, pv });
    fresh.push({ traderId: s.trader.id, policy: 'dailyStopLoss', period: day, pv, source: 'firstSample', at: s.at });
    return pv;
  };

  return {
    async evaluate(samples) {
      await load();
      const resolve = layersOf(await store.listPolicies());
      const open = new Set<string>();
      for (const v of await store.listViolations({ status: 'open', limit: 1_000_000 })) open.add(`${v.traderId}\u0000${v.policy}`);

      const fresh: BaselineRecord[] = [];
      const newViolations: ViolationRecord[] = [];
      const at = clock.now();
      let n = 0;
      for (const s of samples) {
        // 10,000 traders are not one long stall: a slice at a time, in the budget trading leaves.
        if (++n % EVALUATE_SLICE === 0) await turns.next('background');
        let breaches;
        try {
          if (!DECIMAL.test(s.pv)) throw new Error(`PV ${JSON.stringify(s.pv)} is not a decimal number`);
          const dayStartPv = await dayBasis(s, fresh);
          const prev = lastPv.get(s.trader.id);
          if (!prev || s.at >= prev.at) lastPv.set(s.trader.id, { pv: s.pv, at: s.at });
          breaches = evaluatePolicies({
            trader: s.trader,
            policy: resolve(s.trader),
            dayStartPv,
            pv: s.pv,
            positionsLeverage: s.positionsLeverage ?? null,
            totalBasePv: totalBase.get(s.trader.id) ?? null,
          });
        } catch (err) {
          // One malformed sample must not stop the others' evaluation.
          log?.warn({ trader: s.trader.id, err: errorMessage(err) }, 'risk sample skipped');
          continue;
        }
        for (const b of breaches) {
          const key = `${s.trader.id}\u0000${b.policy}`;
          if (open.has(key)) continue;
          const stored = await store.insertViolation({
            at,
            traderId: s.trader.id,
            userId: s.trader.userId,
            policy: b.policy,
            observed: b.observed,
            limit: b.limit,
            message: b.message,
          });
          open.add(key);
          // null: another node stored the same open violation first.
          if (stored) newViolations.push(stored);
        }
      }
      if (fresh.length > 0) await store.saveBaselines(fresh);
      if (newViolations.length > 0) log?.info({ violations: newViolations.length }, 'risk policy violations raised');
      return { newViolations };
    },

    openViolations() {
      return store.listViolations({ status: 'open', limit: 1_000_000 });
    },

    listViolations(q) {
      return store.listViolations(q);
    },

    async release(id, by, reason) {
      const w = who(by, reason);
      if (!w.ok) return w;
      await load();
      const before = await store.getViolation(id);
      if (!before) return { ok: false, error: `no risk violation #${id}` };
      if (before.status !== 'open') return { ok: false, error: `risk violation #${id} is already released` };
      const at = clock.now();
      const violation = await store.releaseViolation(id, at, w.value.by, w.value.reason);
      if (!violation) return { ok: false, error: `risk violation #${id} is already released` };

      if (violation.policy !== 'maxLeverage') {
        const mem = lastPv.get(violation.traderId) ?? null;
        const stored = await store.latestTraderPv(violation.traderId);
        const seen = mem && (!stored || mem.at >= stored.at) ? mem : stored;
        if (seen) {
          const row: BaselineRecord =
            violation.policy === 'dailyStopLoss'
              ? { traderId: violation.traderId, policy: 'dailyStopLoss', period: utcDayStart(seen.at), pv: seen.pv, source: 'release', at }
              : { traderId: violation.traderId, policy: 'totalStopLoss', period: null, pv: seen.pv, source: 'release', at };
          if (row.policy === 'dailyStopLoss') daily.set(row.traderId, { period: row.period!, pv: row.pv });
          else totalBase.set(row.traderId, row.pv);
          await store.saveBaselines([row]);
        }
      }
      const stillOpen = await store.listViolations({ status: 'open', traderId: violation.traderId });
      return { ok: true, value: { violation, stillOpen } };
    },

    async setPolicy(scope, scopeId, limits, by) {
      const w = who(by);
      if (!w.ok) return w;
      const id = scope === 'platform' ? PLATFORM_POLICY_ID : scopeId.trim();
      if (!id) return { ok: false, error: `a ${scope} policy needs the ${scope}'s id` };
      const parsed = LimitsInput.safeParse(limits);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        return { ok: false, error: `${first?.path.join('.') || 'limits'} ${first?.message ?? 'is invalid'}` };
      }
      const l = parsed.data;
      const row: PolicyRecord = {
        scope,
        scopeId: id,
        dailyStopLossPct: l.dailyStopLossPct ?? null,
        totalStopLossPct: l.totalStopLossPct ?? null,
        maxLeverage: l.maxLeverage ?? null,
        updatedAt: clock.now(),
        updatedBy: w.value.by,
      };
      if (scope === 'platform' && (row.dailyStopLossPct === null || row.totalStopLossPct === null || row.maxLeverage === null)) {
        return { ok: false, error: 'the platform policy must set every limit' };
      }
      return { ok: true, value: await store.upsertPolicy(row) };
    },

    async clearPolicy(scope, scopeId) {
      return { ok: true, value: await store.deletePolicy(scope, scopeId) };
    },

    policies() {
      return store.listPolicies();
    },

    async policyFor(trader) {
      return layersOf(await store.listPolicies())(trader);
    },
  };
}

/**
 * Builds the samples of one metrics collection: its trader rows joined with each trader's
 * facts; rows of unknown traders and of other scopes are dropped.
 * @example engine.evaluate(samplesFromMetrics(await metrics.collect(), (id) => traderRecords.get(id)))
 */
export function samplesFromMetrics(
  rows: readonly MetricRecord[],
  trader: (id: string) => PolicyTrader | undefined,
  positionsLeverage?: (id: string) => number | null | undefined,
): RiskSample[] {
  const out: RiskSample[] = [];
  for (const r of rows) {
    if (r.scope !== 'trader') continue;
    const t = trader(r.scopeId);
    if (!t) continue;
    const lev = positionsLeverage?.(r.scopeId);
    out.push({ trader: t, at: r.at, pv: r.pv, ...(lev !== undefined && lev !== null ? { positionsLeverage: lev } : {}) });
  }
  return out;
}

/** The pause a risk violation puts on a trader (a `TraderPauseEvent`). */
export interface RiskPauseCommand {
  readonly type: 'trader.pause';
  readonly by: 'risk';
  readonly reason: string;
  readonly scope: 'risk';
  readonly at: number;
}

/** The resume a release sends (a `TraderResumeEvent`). */
export interface RiskResumeCommand {
  readonly type: 'trader.resume';
  readonly by: string;
  readonly scope: 'trader';
  readonly at: number;
}

/** An audit-log entry, shaped as the accounts module's `AuditInput` (`audit.record(entry)`). */
export interface RiskAuditEntry {
  readonly actor: { readonly userId: string | null; readonly label: string; readonly ip: string };
  readonly action: 'risk.pause' | 'risk.release';
  readonly target: { readonly type: 'trader'; readonly id: string };
  readonly outcome: 'ok';
  readonly message: string;
  readonly before: Readonly<Record<string, unknown>> | null;
  readonly after: Readonly<Record<string, unknown>> | null;
}

/** What the composition root does for a batch of new violations or a release. */
export interface RiskCommands<C> {
  /** `view.ref.send(event)` for each, after `gate.blockTrader(traderId)` for a pause. */
  readonly sends: readonly { readonly traderId: string; readonly event: C }[];
  /** Timeline events (`store.events` and the bus). */
  readonly events: readonly EventRecord[];
  /** Audit-log entries. */
  readonly audit: readonly RiskAuditEntry[];
}

/**
 * The pauses, events and audit entries for new violations: one `risk`-scope pause per trader
 * (its reasons joined), one `risk.violated` event and one `risk.pause` audit entry per violation.
 * @example for (const c of violationCommands(newViolations, clock.now(), managerOf).sends) views.get(c.traderId)?.ref.send(c.event)
 */
export function violationCommands(
  violations: readonly ViolationRecord[],
  at: number,
  managerOf?: (traderId: string) => string | undefined,
): RiskCommands<RiskPauseCommand> {
  const reasons = new Map<string, string[]>();
  const events: EventRecord[] = [];
  const audit: RiskAuditEntry[] = [];
  for (const v of violations) {
    const list = reasons.get(v.traderId) ?? [];
    list.push(v.message);
    reasons.set(v.traderId, list);
    events.push({
      at,
      type: 'risk.violated',
      severity: 'critical',
      traderId: v.traderId,
      managerId: managerOf?.(v.traderId) ?? null,
      actor: 'risk',
      message: `${v.message}: trader ${v.traderId} paused (violation #${v.id})`,
      data: { violationId: v.id, policy: v.policy, observed: v.observed, limit: v.limit, userId: v.userId },
    });
    audit.push({
      actor: { userId: null, label: 'risk', ip: '' },
      action: 'risk.pause',
      target: { type: 'trader', id: v.traderId },
      outcome: 'ok',
      message: `risk policy ${v.policy} paused ${v.traderId}: ${v.message}`,
      before: null,
      after: { violationId: v.id, policy: v.policy, observed: v.observed, limit: v.limit, pause: 'risk' },
    });
  }
  const sends = [...reasons].map(([traderId, list]) => ({
    traderId,
    event: { type: 'trader.pause', by: 'risk', reason: list.join('; '), scope: 'risk', at } as const,
  }));
  return { sends, events, audit };
}

/**
 * The resume, event and audit entry for a release: the trader is resumed (scope `trader`)
 * only when none of its violations is still open. `actor` is the releasing user's id and address.
 */
export function releaseCommands(
  released: ReleasedViolation,
  at: number,
  managerOf?: (traderId: string) => string | undefined,
  actor: { readonly userId: string | null; readonly ip: string } = { userId: null, ip: '' },
): RiskCommands<RiskResumeCommand> {
  const v = released.violation;
  const by = v.releasedBy ?? 'unknown';
  const resumes = released.stillOpen.length === 0;
  const rest = released.stillOpen.map((o) => `#${o.id} ${o.policy}`).join(', ');
  const outcome = resumes ? 'resumed' : `stays paused (still open: ${rest})`;
  return {
    sends: resumes ? [{ traderId: v.traderId, event: { type: 'trader.resume', by, scope: 'trader', at } as const }] : [],
    events: [
      {
        at,
        type: 'risk.released',
        severity: 'info',
        traderId: v.traderId,
        managerId: managerOf?.(v.traderId) ?? null,
        actor: by,
        message: `${by} released violation #${v.id} (${v.policy}) of ${v.traderId}: ${v.releaseReason ?? ''}; ${outcome}`,
        data: { violationId: v.id, policy: v.policy, reason: v.releaseReason, resumed: resumes },
      },
    ],
    audit: [
      {
        actor: { userId: actor.userId, label: by, ip: actor.ip },
        action: 'risk.release',
        target: { type: 'trader', id: v.traderId },
        outcome: 'ok',
        message: `${by} released risk violation #${v.id} (${v.policy}) of ${v.traderId}: ${v.releaseReason ?? ''}`,
        before: { violationId: v.id, status: 'open' },
        after: { violationId: v.id, status: 'released', resumed: resumes },
      },
    ],
  };
}
