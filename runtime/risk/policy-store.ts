/**
 * The risk policies' repository over porsager's `postgres` (PostgreSQL and PGlite alike):
 * policy rows, violations (one open per trader and policy, enforced by a unique index) and
 * the loss baselines.
 */
import { z } from 'zod';
import type { DecimalString } from '../domain.ts';
import type { Sql } from '../store/db.ts';
import type { PolicyLimits, PolicyScope, RiskPolicyName } from './policies.ts';

/** A stored policy row. */
export interface PolicyRecord extends PolicyLimits {
  readonly scope: PolicyScope;
  readonly scopeId: string;
  readonly dailyStopLossPct: number | null;
  readonly totalStopLossPct: number | null;
  readonly maxLeverage: number | null;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** A violation's lifecycle. */
export type ViolationStatus = 'open' | 'released';

/** A stored violation. */
export interface ViolationRecord {
  readonly id: number;
  readonly at: number;
  readonly traderId: string;
  readonly userId: string;
  readonly policy: RiskPolicyName;
  readonly observed: DecimalString;
  readonly limit: DecimalString;
  readonly message: string;
  readonly status: ViolationStatus;
  readonly releasedAt: number | null;
  readonly releasedBy: string | null;
  readonly releaseReason: string | null;
}

/** A violation about to be stored. */
export type NewViolation = Omit<ViolationRecord, 'id' | 'status' | 'releasedAt' | 'releasedBy' | 'releaseReason'>;

/** The PV a loss is measured from. */
export interface BaselineRecord {
  readonly traderId: string;
  readonly policy: 'dailyStopLoss' | 'totalStopLoss';
  /** The UTC day's 00:00 (epoch ms) for the daily stop-loss; null for the total. */
  readonly period: number | null;
  readonly pv: DecimalString;
  readonly source: 'firstSample' | 'release';
  readonly at: number;
}

/** Filters of `listViolations`. */
export interface ViolationQuery {
  readonly status?: ViolationStatus;
  readonly traderId?: string;
  readonly limit?: number;
}

/** The repository the policy engine works through. */
export interface RiskPolicyStore {
  listPolicies(): Promise<PolicyRecord[]>;
  getPolicy(scope: PolicyScope, scopeId: string): Promise<PolicyRecord | null>;
  upsertPolicy(p: PolicyRecord): Promise<PolicyRecord>;
  /** Removes a user or trader row (its limits inherit again); false when there was none. */
  deletePolicy(scope: Exclude<PolicyScope, 'platform'>, scopeId: string): Promise<boolean>;
  /** Stores a violation unless one is open for the same trader and policy (then null). */
  insertViolation(v: NewViolation): Promise<ViolationRecord | null>;
  getViolation(id: number): Promise<ViolationRecord | null>;
  /** Newest first. */
  listViolations(q?: ViolationQuery): Promise<ViolationRecord[]>;
  /** Releases an open violation; null when it is not open (unknown or already released). */
  releaseViolation(id: number, at: number, by: string, reason: string): Promise<ViolationRecord | null>;
  listBaselines(): Promise<BaselineRecord[]>;
  saveBaselines(rows: readonly BaselineRecord[]): Promise<void>;
  /** The first trader PV stored in `metrics` per trader with `from ≤ at < to`. */
  firstTraderPvs(from: number, to: number): Promise<Map<string, DecimalString>>;
  /** A trader's latest PV stored in `metrics`, or null. */
  latestTraderPv(traderId: string): Promise<{ pv: DecimalString; at: number } | null>;
}

const ms = z.number().int();
const dec = z.string().regex(/^-?\d+(\.\d+)?$/, 'not a decimal string');
const pct = z
  .string()
  .nullable()
  .transform((s) => (s === null ? null : Number(s)));

const PolicyRow = z.object({
  scope: z.enum(['platform', 'user', 'trader']),
  scope_id: z.string(),
  daily_stop_loss_pct: pct,
  total_stop_loss_pct: pct,
  max_leverage: pct,
  updated_at: ms,
  updated_by: z.string(),
});

const ViolationRow = z.object({
  id: ms,
  at: ms,
  trader_id: z.string(),
  user_id: z.string(),
  policy: z.enum(['dailyStopLoss', 'totalStopLoss', 'maxLeverage']),
  observed: dec,
  limit_value: dec,
  message: z.string(),
  status: z.enum(['open', 'released']),
  released_at: ms.nullable(),
  released_by: z.string().nullable(),
  release_reason: z.string().nullable(),
});

const BaselineRow = z.object({
  trader_id: z.string(),
  policy: z.enum(['dailyStopLoss', 'totalStopLoss']),
  period: ms.nullable(),
  pv: dec,
  source: z.enum(['firstSample', 'release']),
  at: ms,
});

function parse<S extends z.ZodType>(schema: S, rows: readonly unknown[], table: string): z.infer<S>[] {
  return rows.map((r) => {
    const res = schema.safeParse(r);
    if (!res.success) throw new Error(`invalid ${table} row from the database: ${z.prettifyError(res.error)}`);
    return res.data;
  });
}

function toPolicy(r: z.infer<typeof PolicyRow>): PolicyRecord {
  return {
    scope: r.scope,
    scopeId: r.scope_id,
    dailyStopLossPct: r.daily_stop_loss_pct,
    totalStopLossPct: r.total_stop_loss_pct,
    maxLeverage: r.max_leverage,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

function toViolation(r: z.infer<typeof ViolationRow>): ViolationRecord {
  return {
    id: r.id,
    at: r.at,
    traderId: r.trader_id,
    userId: r.user_id,
    policy: r.policy,
    observed: r.observed,
    limit: r.limit_value,
    message: r.message,
    status: r.status,
    releasedAt: r.released_at,
    releasedBy: r.released_by,
    releaseReason: r.release_reason,
  };
}

/** A number as a NUMERIC parameter (text keeps it exact), or NULL. */
function num(n: number | null | undefined): string | null {
  return n === null || n === undefined ? null : String(n);
}

/** Builds the risk policies' repository over `sql`. */
export function createRiskPolicyStore(sql: Sql): RiskPolicyStore {
  return {
    async listPolicies() {
      return parse(PolicyRow, await sql`SELECT * FROM risk_policies ORDER BY scope, scope_id`, 'risk_policies').map(toPolicy);
    },
    async getPolicy(scope, scopeId) {
      const raw = await sql`SELECT * FROM risk_policies WHERE scope = ${scope} AND scope_id = ${scopeId}`;
      const [r] = parse(PolicyRow, raw, 'risk_policies');
      return r ? toPolicy(r) : null;
    },
    async upsertPolicy(p) {
      const raw = await sql`
        INSERT INTO risk_policies (scope, scope_id, daily_stop_loss_pct, total_stop_loss_pct, max_leverage, updated_at, updated_by)
        VALUES (${p.scope}, ${p.scopeId}, ${num(p.dailyStopLossPct)}, ${num(p.totalStopLossPct)}, ${num(p.maxLeverage)},
          ${p.updatedAt}, ${p.updatedBy})
        ON CONFLICT (scope, scope_id) DO UPDATE SET daily_stop_loss_pct = EXCLUDED.daily_stop_loss_pct,
          total_stop_loss_pct = EXCLUDED.total_stop_loss_pct, max_leverage = EXCLUDED.max_leverage,
          updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
        RETURNING *`;
      return toPolicy(parse(PolicyRow, raw, 'risk_policies')[0]!);
    },
    async deletePolicy(scope, scopeId) {
      const res = await sql`DELETE FROM risk_policies WHERE scope = ${scope} AND scope_id = ${scopeId}`;
      return res.count > 0;
    },
    async insertViolation(v) {
      const raw = await sql`
        INSERT INTO risk_violations (at, trader_id, user_id, policy, observed, limit_value, message)
        VALUES (${v.at}, ${v.traderId}, ${v.userId}, ${v.policy}, ${v.observed}, ${v.limit}, ${v.message})
        ON CONFLICT (trader_id, policy) WHERE status = 'open' DO NOTHING
        RETURNING *`;
      const [r] = parse(ViolationRow, raw, 'risk_violations');
      return r ? toViolation(r) : null;
    },
    async getViolation(id) {
      const [r] = parse(ViolationRow, await sql`SELECT * FROM risk_violations WHERE id = ${id}`, 'risk_violations');
      return r ? toViolation(r) : null;
    },
    async listViolations(q = {}) {
      const raw = await sql`
        SELECT * FROM risk_violations
        WHERE TRUE
          ${q.status !== undefined ? sql`AND status = ${q.status}` : sql``}
          ${q.traderId !== undefined ? sql`AND trader_id = ${q.traderId}` : sql``}
        ORDER BY id DESC
        LIMIT ${q.limit ?? 500}`;
      return parse(ViolationRow, raw, 'risk_violations').map(toViolation);
    },
    async releaseViolation(id, at, by, reason) {
      const raw = await sql`
        UPDATE risk_violations SET status = 'released', released_at = ${at}, released_by = ${by}, release_reason = ${reason}
        WHERE id = ${id} AND status = 'open'
        RETURNING *`;
      const [r] = parse(ViolationRow, raw, 'risk_violations');
      return r ? toViolation(r) : null;
    },
    async listBaselines() {
      return parse(BaselineRow, await sql`SELECT * FROM risk_baselines ORDER BY trader_id, policy`, 'risk_baselines').map(
        (r): BaselineRecord => ({ traderId: r.trader_id, policy: r.policy, period: r.period, pv: r.pv, source: r.source, at: r.at }),
      );
    },
    async saveBaselines(rows) {
      if (rows.length === 0) return;
      const byKey = new Map<string, BaselineRecord>();
      for (const r of rows) byKey.set(`${r.traderId}\u0000${r.policy}`, r);
      const data = [...byKey.values()].map((r) => ({
        trader_id: r.traderId,
        policy: r.policy,
        period: r.period,
        pv: r.pv,
        source: r.source,
        at: r.at,
      }));
      // 6 columns per row: stay far under the 65,535 bind parameters of one statement.
      for (let i = 0; i < data.length; i += 5000) {
        const chunk = data.slice(i, i + 5000);
        await sql`
          INSERT INTO risk_baselines ${sql(chunk, 'trader_id', 'policy', 'period', 'pv', 'source', 'at')}
          ON CONFLICT (trader_id, policy) DO UPDATE SET period = EXCLUDED.period, pv = EXCLUDED.pv,
            source = EXCLUDED.source, at = EXCLUDED.at`;
      }
    },
    async firstTraderPvs(from, to) {
      const raw = await sql<{ scope_id: string; pv: string }[]>`
        SELECT DISTINCT ON (scope_id) scope_id, pv FROM metrics
        WHERE scope = 'trader' AND at >= ${from} AND at < ${to}
        ORDER BY scope_id, at`;
      return new Map(raw.map((r) => [r.scope_id, String(r.pv)]));
    },
    async latestTraderPv(traderId) {
      const [r] = await sql<{ pv: string; at: number }[]>`
        SELECT pv, at FROM metrics WHERE scope = 'trader' AND scope_id = ${traderId} ORDER BY at DESC LIMIT 1`;
      return r ? { pv: String(r.pv), at: Number(r.at) } : null;
    },
  };
}
