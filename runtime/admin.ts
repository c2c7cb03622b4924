/**
 * The administration layer behind the console's Users, Security and Risk pages and the JSON
 * API: users with their P&L and drawdown, a user's detail, suspension (sign-in blocked, sessions
 * ended, bots paused; reversible) and Force Logout, exchange keys and their history, risk
 * violations and their release, risk policies, sign-in security and the audit log. Every command
 * writes one audit entry with who, from where, and the state before and after.
 *
 * It composes services that already exist (accounts, the key store, the risk policy engine, the
 * platform's commands) and owns no state but a short cache of the users' metrics.
 */
import { Decimal } from 'decimal.js';
import type { AccountRecord, AccountStatus, Accounts, AuditEntry, AuditQuery, Role, SignInAttempt } from './accounts/index.ts';
import { GRANTS } from './accounts/permissions.ts';
import type { BotRow, PlatformApi, UserBotsResult, UserCommandResult } from './api.ts';
import type { Clock } from './clock.ts';
import { errorMessage, type DecimalString, type PauseInfo } from './domain.ts';
import type { ExchangeKeyInfo, KeyEventRecord, KeyStatus, KeyStore } from './keys/index.ts';
import { KeyStoreError, NewKeyInput, describeIssues } from './keys/index.ts';
import type { KeyValidation } from './live.ts';
import type { PolicyRecord, ResolvedPolicy, RiskPolicyEngine, ViolationRecord, ViolationStatus } from './risk/index.ts';
import { releaseCommands } from './risk/index.ts';
import type { EventRecord, MetricRecord, Store, TraderRecord } from './store/types.ts';

/** An open position as the user detail shows it. */
export interface AdminPosition {
  readonly symbol: string;
  readonly side: string;
  readonly amount: DecimalString;
  readonly entryPrice: DecimalString;
  readonly markPrice: DecimalString;
  readonly unrealizedPnl: DecimalString;
  readonly liquidationPrice: DecimalString | null;
}

/** What the administration layer needs; the node passes its own services. */
export interface AdminDeps {
  /** The accounts' wall clock: sign-in attempts and audit entries are stamped with it. */
  readonly clock: Clock;
  readonly platform: PlatformApi;
  readonly accounts: Accounts;
  /** Trader records (initial capital, venue, account), metrics and the timeline. */
  readonly store: Pick<Store, 'traders' | 'metrics' | 'events'>;
  readonly keyStore: KeyStore;
  readonly risk: RiskPolicyEngine;
  /** A trader's manager, for the events of a release (default: from the platform's bot rows). */
  readonly managerOf?: (traderId: string) => string | undefined;
  /** A trader's open positions (default: from `platform.botDetail`). */
  readonly positions?: (traderId: string) => Promise<readonly AdminPosition[]>;
  /** Writes timeline events (default `store.events.appendMany`); the node may pass its emitter. */
  readonly recordEvents?: (rows: readonly EventRecord[]) => Promise<void>;
  /** How long the users' metrics rows are reused (default 5 s; 0 reads them every time). */
  readonly metricsCacheMs?: number;
  /**
   * Checks a key against its venue and stores the verdict (`LiveAccounts.validateKey`): a key is
   * checked as soon as it is added, and on request. Absent: keys are not checked (`skipped`).
   */
  readonly validateKey?: (keyId: string, by: string) => Promise<KeyValidation>;
}

/** Who gives an administration command. */
export interface AdminCaller {
  readonly userId: string;
  readonly label: string;
  readonly role: Role;
  readonly ip: string;
}

/** Why a command was refused: the HTTP layer maps these to 404, 400, 409 and 403. */
export type AdminErrorCode = 'not_found' | 'invalid' | 'conflict' | 'forbidden';

/** A command's outcome: the value and a sentence, or a refusal with a code and a sentence. */
export type AdminResult<T> =
  | { readonly ok: true; readonly value: T; readonly message: string }
  | { readonly ok: false; readonly code: AdminErrorCode; readonly error: string };

/** The orders the users list can be sorted in. */
export const USER_SORTS = ['joined', 'email', 'pnl', 'mdd', 'lastSignIn', 'bots'] as const;
/** A users-list sort key. */
export type UserSort = (typeof USER_SORTS)[number];

/** Filters, order and page of the users list. */
export interface UserQuery {
  /** Matches id, email or name (case-insensitive substring). */
  readonly q?: string;
  readonly role?: Role;
  readonly status?: AccountStatus;
  /** Only users with (true) or without (false) a running or starting bot. */
  readonly hasRunningBots?: boolean;
  readonly sort?: UserSort;
  readonly order?: 'asc' | 'desc';
  readonly limit?: number;
  readonly offset?: number;
}

/** One row of the users list. */
export interface UserRow {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly status: AccountStatus;
  readonly joinedAt: number;
  readonly lastSignInAt: number | null;
  readonly lastSignInIp: string | null;
  readonly twoFactor: boolean;
  readonly lockedUntil: number | null;
  readonly bots: { readonly total: number; readonly running: number; readonly paused: number; readonly error: number };
  /** Σ (latest PV − initial capital) of the user's traders with a PV; null when none has one. */
  readonly totalPnl: DecimalString | null;
  /** The user's current maximum drawdown (fraction) from the `user` metrics rows; null before the first. */
  readonly mdd: number | null;
}

/** A page of the users list. */
export interface UserPage {
  readonly rows: readonly UserRow[];
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
}

/** Liquidation risk of a position: distance of the mark price to the liquidation price. */
export type LiquidationRisk = 'none' | 'low' | 'medium' | 'high';

/** A position with its trader and its liquidation risk. */
export interface UserPosition extends AdminPosition {
  readonly traderId: string;
  readonly traderName: string;
  /** |mark − liquidation| / mark, or null without a liquidation price. */
  readonly distanceToLiquidation: number | null;
  readonly risk: LiquidationRisk;
}

/** A session as an administrator sees it (never its id or CSRF token). */
export interface SessionSummary {
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly ip: string;
  readonly userAgent: string;
}

/** Everything the user detail page shows. */
export interface UserDetail {
  readonly user: UserRow;
  /** The groups of a manager. */
  readonly groups: readonly string[];
  readonly failedAttempts: number;
  /** The venue accounts the user's traders trade on. */
  readonly exchangeAccounts: readonly { readonly traderId: string; readonly traderName: string; readonly venue: string; readonly accountId: string }[];
  readonly keys: readonly ExchangeKeyInfo[];
  readonly bots: readonly BotRow[];
  /** The strategy versions the user's running bots run, with how many bots each. */
  readonly strategies: readonly { readonly ref: string; readonly bots: number }[];
  readonly positions: readonly UserPosition[];
  /** Positions that could not be read, per trader. */
  readonly positionErrors: readonly { readonly traderId: string; readonly error: string }[];
  /** Error and critical events of the user's traders, newest first. */
  readonly errors: readonly EventRecord[];
  readonly risk: {
    readonly mdd: number | null;
    readonly openViolations: readonly ViolationRecord[];
    /** The worst liquidation risk of the user's positions. */
    readonly liquidation: LiquidationRisk;
    readonly policies: readonly { readonly traderId: string; readonly traderName: string; readonly policy: ResolvedPolicy }[];
  };
  readonly sessions: readonly SessionSummary[];
  readonly signIns: readonly SignInAttempt[];
}

/** An exchange key with its owner. */
export interface KeyRow extends ExchangeKeyInfo {
  readonly userEmail: string | null;
  readonly userName: string | null;
}

/** A bot that trades with an exchange key. */
export interface KeyUse {
  readonly traderId: string;
  readonly traderName: string;
}

/** One of a user's own exchange keys, with the bots that use it and when it was last checked. */
export interface OwnKeyRow extends ExchangeKeyInfo {
  readonly bots: readonly KeyUse[];
  /** The latest check that reached the venue (valid or invalid verdict), or null when none is known. */
  readonly lastCheckedAt: number | null;
}

/** A key and the outcome of checking it against its venue. */
export interface CheckedKey {
  readonly key: ExchangeKeyInfo;
  readonly validation: KeyValidation;
}

/**
 * A check's verdict as a person reads it: `Valid`, `Invalid: <venue's reason>`, `Could not reach
 * <venue>: <why>` or `Not checked: <why>`.
 */
export function validationText(venue: string, v: Pick<KeyValidation, 'status' | 'reason'>): string {
  switch (v.status) {
    case 'valid':
      return 'Valid';
    case 'invalid':
      return `Invalid: ${v.reason ?? 'refused by the venue'}`;
    case 'unreachable':
      return `Could not reach ${venue}: ${v.reason ?? 'no answer'}`;
    case 'skipped':
      return `Not checked: ${v.reason ?? 'this key is not checked against a venue'}`;
  }
}

/** Filters of the keys list. */
export interface KeyQuery {
  readonly userId?: string;
  readonly status?: KeyStatus;
  readonly exchange?: string;
}

/** A violation with its trader, its user and the trader's current pause. */
export interface ViolationRow extends ViolationRecord {
  readonly traderName: string | null;
  readonly userName: string | null;
  readonly traderStatus: string | null;
  readonly pause: PauseInfo | null;
}

/** Filters of the violations list. */
export interface ViolationQuery {
  readonly status?: ViolationStatus;
  readonly traderId?: string;
  readonly userId?: string;
  readonly limit?: number;
}

/** What a release did. */
export interface ReleaseOutcome {
  readonly violation: ViolationRecord;
  readonly resumed: boolean;
  /** Why the trader stays paused, when it does. */
  readonly note: string | null;
}

/** The risk policies: platform defaults and the user and trader overrides. */
export interface PoliciesView {
  readonly platform: PolicyRecord;
  readonly users: readonly (PolicyRecord & { readonly name: string | null })[];
  readonly traders: readonly (PolicyRecord & { readonly name: string | null; readonly userId: string | null })[];
}

/** Limits to set; null inherits (not allowed for the platform). */
export interface PolicyInput {
  readonly scope: 'platform' | 'user' | 'trader';
  readonly scopeId: string;
  readonly dailyStopLossPct: number | null;
  readonly totalStopLossPct: number | null;
  readonly maxLeverage: number | null;
}

/** A run of failed sign-ins from one address, or a sign-in from an address new to its account. */
export type SuspiciousSignIn =
  | {
      readonly kind: 'many_failures';
      readonly ip: string;
      /** The most failures inside one hour. */
      readonly failures: number;
      readonly from: number;
      readonly to: number;
      readonly emails: readonly string[];
    }
  | {
      readonly kind: 'new_ip';
      readonly ip: string;
      readonly userId: string;
      readonly email: string;
      readonly at: number;
      readonly knownIps: readonly string[];
    };

/** Sign-in attempts of one address in the period. */
export interface IpActivity {
  readonly ip: string;
  readonly attempts: number;
  readonly failures: number;
  readonly lastAt: number;
  readonly emails: readonly string[];
}

/** The sign-in security view. */
export interface SignInSecurityView {
  readonly since: number;
  readonly now: number;
  /** Failed attempts in the period, newest first (at most 200). */
  readonly failures: readonly SignInAttempt[];
  /** Addresses with at least one failure in the period, most failures first. */
  readonly byIp: readonly IpActivity[];
  readonly suspicious: readonly SuspiciousSignIn[];
  /** 2FA enabled, disabled, recovery codes used or replaced (audit entries, newest first). */
  readonly twoFactor: readonly AuditEntry[];
}

/** Filters and page of the audit log. */
export interface AuditLogQuery {
  readonly actorUserId?: string;
  readonly action?: string;
  readonly actionPrefix?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly since?: number;
  readonly until?: number;
  /** Entries older than this id (the next page). */
  readonly beforeId?: number;
  readonly limit?: number;
}

/** A page of the audit log; `nextBeforeId` fetches the next (older) page. */
export interface AuditLogPage {
  readonly entries: readonly AuditEntry[];
  readonly nextBeforeId: number | null;
}

/** The administration API. */
export interface AdminApi {
  listUsers(q?: UserQuery): Promise<UserPage>;
  userDetail(id: string): Promise<UserDetail | null>;
  /** Blocks sign-in (and API tokens), ends every session and pauses every bot of the user. */
  suspendUser(id: string, caller: AdminCaller, reason: string): Promise<AdminResult<{ sessionsEnded: number; bots: UserBotsResult | null }>>;
  /** Lets the user sign in again and lifts the suspension's pause from their bots (only that pause). */
  unsuspendUser(id: string, caller: AdminCaller, reason?: string): Promise<AdminResult<{ bots: UserBotsResult | null }>>;
  /** Ends every session of the user. */
  forceLogout(id: string, caller: AdminCaller, reason?: string): Promise<AdminResult<{ sessionsEnded: number }>>;

  listKeys(q?: KeyQuery): Promise<KeyRow[]>;
  keyHistory(q?: { readonly keyId?: string; readonly userId?: string; readonly limit?: number }): Promise<KeyEventRecord[]>;
  revokeKey(id: string, caller: AdminCaller, reason: string): Promise<AdminResult<ExchangeKeyInfo>>;
  disableKey(id: string, caller: AdminCaller, reason: string): Promise<AdminResult<ExchangeKeyInfo>>;
  enableKey(id: string, caller: AdminCaller, reason: string): Promise<AdminResult<ExchangeKeyInfo>>;
  /** A user's own keys (never a secret), with the bots using each and when each was last checked. */
  userKeys(userId: string): Promise<OwnKeyRow[]>;
  /**
   * Adds a key (for the caller; for another user only with `keys.manage`) and checks it against
   * its venue at once. A check that fails to run is reported as `unreachable`: the key stays.
   */
  addKey(input: NewKeyInput, caller: AdminCaller): Promise<AdminResult<CheckedKey>>;
  /** Checks a key against its venue now (its owner, or a caller with `keys.manage`). */
  checkKey(id: string, caller: AdminCaller): Promise<AdminResult<CheckedKey>>;
  /** Deletes a key (its owner, or `keys.manage`); refused while a bot trades with it. */
  deleteKey(id: string, caller: AdminCaller, reason?: string): Promise<AdminResult<ExchangeKeyInfo>>;

  listViolations(q?: ViolationQuery): Promise<ViolationRow[]>;
  /** Releases an open violation; resumes its trader when nothing else holds it (audited). */
  releaseViolation(id: number, caller: AdminCaller, reason: string): Promise<AdminResult<ReleaseOutcome>>;

  policies(): Promise<PoliciesView>;
  setPolicy(input: PolicyInput, caller: AdminCaller): Promise<AdminResult<PolicyRecord>>;
  /** Removes a user's or trader's own limits (they inherit again). */
  clearPolicy(scope: 'user' | 'trader', scopeId: string, caller: AdminCaller): Promise<AdminResult<boolean>>;

  signInSecurity(opts?: { readonly hours?: number }): Promise<SignInSecurityView>;
  auditLog(q?: AuditLogQuery): Promise<AuditLogPage>;
}

/** Failures from one address within an hour that make it suspicious. */
export const SUSPICIOUS_FAILURES = 5;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_REASON = 500;
const RUNNING = new Set(['running', 'starting']);
const TWO_FACTOR_ACTIONS = ['account.2fa_enabled', 'account.2fa_disabled', 'account.recovery_code_used', 'account.recovery_codes_regenerated'];

/** The worst of two liquidation risks. */
function worse(a: LiquidationRisk, b: LiquidationRisk): LiquidationRisk {
  const rank: Record<LiquidationRisk, number> = { none: 0, low: 1, medium: 2, high: 3 };
  return rank[a] >= rank[b] ? a : b;
}

/** The liquidation risk of a position: high under 5 % from the mark, medium under 15 %. */
export function liquidationRisk(markPrice: DecimalString, liquidationPrice: DecimalString | null): { distance: number | null; risk: LiquidationRisk } {
  if (liquidationPrice === null) return { distance: null, risk: 'none' };
  let mark: Decimal;
  let liq: Decimal;
  try {
    mark = new Decimal(markPrice);
    liq = new Decimal(liquidationPrice);
  } catch {
    return { distance: null, risk: 'none' };
  }
  if (!mark.isFinite() || !liq.isFinite() || mark.lte(0) || liq.lte(0)) return { distance: null, risk: 'none' };
  const distance = mark.minus(liq).abs().div(mark).toNumber();
  return { distance, risk: distance < 0.05 ? 'high' : distance < 0.15 ? 'medium' : 'low' };
}

/** Every burst of at least `min` failures within an hour, per address (one entry per address). */
export function failureBursts(failures: readonly SignInAttempt[], min = SUSPICIOUS_FAILURES): SuspiciousSignIn[] {
  const byIp = new Map<string, SignInAttempt[]>();
  for (const a of failures) {
    if (a.ok) continue;
    const list = byIp.get(a.ip) ?? [];
    list.push(a);
    byIp.set(a.ip, list);
  }
  const out: SuspiciousSignIn[] = [];
  for (const [ip, list] of byIp) {
    const sorted = [...list].sort((x, y) => x.at - y.at);
    let best: { n: number; from: number; to: number } | null = null;
    let first = 0;
    let from = Infinity;
    let to = -Infinity;
    const emails = new Set<string>();
    for (let i = 0; i < sorted.length; i++) {
      while (sorted[i]!.at - sorted[first]!.at > HOUR) first++;
      const n = i - first + 1;
      if (n >= min) {
        if (!best || n > best.n) best = { n, from: sorted[first]!.at, to: sorted[i]!.at };
        from = Math.min(from, sorted[first]!.at);
        to = Math.max(to, sorted[i]!.at);
        for (let j = first; j <= i; j++) emails.add(sorted[j]!.email);
      }
    }
    if (best) out.push({ kind: 'many_failures', ip, failures: best.n, from, to, emails: [...emails].sort() });
  }
  return out.sort((a, b) => (b.kind === 'many_failures' && a.kind === 'many_failures' ? b.failures - a.failures : 0));
}

/**
 * Successful sign-ins from an address the account had not signed in from before (within the
 * attempts kept). An account's very first sign-in is not flagged: it has nothing to compare with.
 */
export function newAddressSignIns(attempts: readonly SignInAttempt[], since: number): SuspiciousSignIn[] {
  const ok = attempts.filter((a) => a.ok && a.userId !== null).sort((x, y) => x.at - y.at);
  const seen = new Map<string, Set<string>>();
  const out: SuspiciousSignIn[] = [];
  for (const a of ok) {
    const known = seen.get(a.userId!) ?? new Set<string>();
    if (a.at >= since && known.size > 0 && !known.has(a.ip)) {
      out.push({ kind: 'new_ip', ip: a.ip, userId: a.userId!, email: a.email, at: a.at, knownIps: [...known].sort() });
    }
    known.add(a.ip);
    seen.set(a.userId!, known);
  }
  return out.reverse();
}

function reasonProblem(reason: string | undefined, required: boolean): string | null {
  const r = (reason ?? '').trim();
  if (required && !r) return 'a reason is required';
  if (r.length > MAX_REASON) return `the reason is longer than ${MAX_REASON} characters`;
  return null;
}

const refuse = <T>(code: AdminErrorCode, error: string): AdminResult<T> => ({ ok: false, code, error });
const done = <T>(value: T, message: string): AdminResult<T> => ({ ok: true, value, message });

/** Roles an operator may not suspend (an administrator may suspend anyone but themselves). */
const OPERATOR_CANNOT_SUSPEND: ReadonlySet<Role> = new Set(['admin', 'operator']);

/**
 * Creates the administration API over the node's services.
 * @example createAdminApi({ clock: accountsClock, platform: api, accounts, store, keyStore, risk })
 */
/** What a suspension or reinstatement did to the user's bots; a refusal or failure is kept as text (the account change stands). */
async function onUserBots(call: () => Promise<UserCommandResult>): Promise<{ bots: UserBotsResult | null; botsError: string | null }> {
  try {
    const r = await call();
    return r.ok ? { bots: r.bots, botsError: null } : { bots: null, botsError: r.error };
  } catch (err) {
    return { bots: null, botsError: errorMessage(err) };
  }
}

export function createAdminApi(deps: AdminDeps): AdminApi {
  const { accounts, platform, keyStore, risk, store, clock } = deps;
  const cacheMs = deps.metricsCacheMs ?? 5_000;
  const managerOf = deps.managerOf ?? ((id: string) => platform.getBot(id)?.managerId);
  const recordEvents = deps.recordEvents ?? ((rows: readonly EventRecord[]) => store.events.appendMany(rows));
  const positionsOf =
    deps.positions ??
    (async (traderId: string): Promise<readonly AdminPosition[]> => (await platform.botDetail(traderId))?.positions ?? []);

  let userMetrics: { at: number; rows: Map<string, MetricRecord> } | null = null;
  const latestUserMetrics = async (): Promise<Map<string, MetricRecord>> => {
    const now = clock.now();
    if (userMetrics && cacheMs > 0 && now - userMetrics.at < cacheMs) return userMetrics.rows;
    const rows = new Map((await store.metrics.latest('user')).map((r) => [r.scopeId, r]));
    userMetrics = { at: now, rows };
    return rows;
  };

  const audit = async (
    caller: AdminCaller,
    action: string,
    target: { type: string; id: string | null },
    message: string,
    before: unknown,
    after: unknown,
    outcome: 'ok' | 'refused' = 'ok',
  ) => {
    await accounts.audit.record({ actor: { userId: caller.userId, label: caller.label, ip: caller.ip }, action, target, outcome, message, before, after });
  };

  const actorOf = (caller: AdminCaller, reason?: string) => ({ by: caller.label, userId: caller.userId, ip: caller.ip, ...(reason ? { reason } : {}) });

  /** The user rows of some accounts, from the live bots, the trader records and the `user` metrics. */
  const rowsOf = async (users: readonly AccountRecord[]): Promise<UserRow[]> => {
    const [traders, metrics] = await Promise.all([store.traders.list(), latestUserMetrics()]);
    const capital = new Map(traders.map((t) => [t.id as string, t.initialCapital]));
    const botsByUser = new Map<string, BotRow[]>();
    for (const b of platform.listBots()) {
      const list = botsByUser.get(b.userId) ?? [];
      list.push(b);
      botsByUser.set(b.userId, list);
    }
    return users.map((u) => {
      const bots = botsByUser.get(u.id) ?? [];
      let pnl: Decimal | null = null;
      for (const b of bots) {
        const initial = capital.get(b.id);
        if (b.portfolioValue === null || initial === undefined) continue;
        pnl = (pnl ?? new Decimal(0)).plus(new Decimal(b.portfolioValue).minus(initial));
      }
      return {
        id: u.id,
        email: u.email,
        displayName: u.displayName,
        role: u.role,
        status: u.status,
        joinedAt: u.createdAt,
        lastSignInAt: u.lastSignInAt,
        lastSignInIp: u.lastSignInIp,
        twoFactor: u.totpEnabled,
        lockedUntil: u.lockedUntil,
        bots: {
          total: bots.length,
          running: bots.filter((b) => RUNNING.has(b.status)).length,
          paused: bots.filter((b) => b.status === 'paused').length,
          error: bots.filter((b) => b.status === 'error').length,
        },
        totalPnl: pnl === null ? null : pnl.toFixed(2),
        mdd: metrics.get(u.id)?.mdd ?? null,
      };
    });
  };

  const compareUsers = (sort: UserSort, order: 'asc' | 'desc') => {
    const dir = order === 'asc' ? 1 : -1;
    // Unknown figures sort last whichever the direction.
    const nullsLast = (a: number | null, b: number | null) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : dir * (a - b));
    return (a: UserRow, b: UserRow): number => {
      let c: number;
      switch (sort) {
        case 'joined':
          c = dir * (a.joinedAt - b.joinedAt);
          break;
        case 'email':
          c = dir * a.email.localeCompare(b.email);
          break;
        case 'pnl':
          c = nullsLast(a.totalPnl === null ? null : Number(a.totalPnl), b.totalPnl === null ? null : Number(b.totalPnl));
          break;
        case 'mdd':
          c = nullsLast(a.mdd, b.mdd);
          break;
        case 'lastSignIn':
          c = nullsLast(a.lastSignInAt, b.lastSignInAt);
          break;
        case 'bots':
          c = dir * (a.bots.total - b.bots.total);
          break;
      }
      return c || a.id.localeCompare(b.id);
    };
  };

  const userNames = async () => new Map((await accounts.store.users.list()).map((u) => [u.id, u]));

  const keyCommand = async (
    action: 'revoke' | 'disable' | 'enable',
    id: string,
    caller: AdminCaller,
    reason: string,
  ): Promise<AdminResult<ExchangeKeyInfo>> => {
    const problem = reasonProblem(reason, true);
    if (problem) return refuse('invalid', problem);
    const before = await keyStore.get(id);
    if (!before) return refuse('not_found', `no exchange key ${id}`);
    let after: ExchangeKeyInfo;
    try {
      after = await keyStore[action](id, reason.trim(), caller.label);
    } catch (err) {
      if (err instanceof KeyStoreError) {
        const code: AdminErrorCode = err.code === 'not_found' ? 'not_found' : err.code === 'bad_state' ? 'conflict' : 'invalid';
        await audit(caller, `exchange_key.${action}`, { type: 'exchange_key', id }, err.message, { status: before.status }, null, 'refused');
        return refuse(code, err.message);
      }
      throw err;
    }
    const verb = { revoke: 'revoked', disable: 'disabled', enable: 'enabled' }[action];
    await audit(
      caller,
      `exchange_key.${action}`,
      { type: 'exchange_key', id },
      `${caller.label} ${verb} exchange key ${id} (${before.exchange} …${before.hint}) of ${before.userId}: ${reason.trim()}`,
      { status: before.status, statusReason: before.statusReason },
      { status: after.status, statusReason: after.statusReason },
    );
    return done(after, `exchange key …${after.hint} ${verb}`);
  };

  /** When each key was last checked by a command of this layer (the store keeps no such time). */
  const checkedAt = new Map<string, number>();
  const managesKeys = (caller: AdminCaller) => GRANTS[caller.role].has('keys.manage');
  const keyLabel = (k: ExchangeKeyInfo) => `${k.exchange} …${k.hint}`;

  /** Runs the venue check; a throw is `unreachable` with its message (the key is kept). */
  const validate = async (key: ExchangeKeyInfo, by: string): Promise<KeyValidation> => {
    if (key.exchange === 'paper') return { keyId: key.id, status: 'skipped', reason: 'paper keys are not checked against a venue' };
    if (!deps.validateKey) return { keyId: key.id, status: 'skipped', reason: 'this node does not check keys against the venues' };
    let v: KeyValidation;
    try {
      v = await deps.validateKey(key.id, by);
    } catch (err) {
      return { keyId: key.id, status: 'unreachable', reason: errorMessage(err) };
    }
    if (v.status === 'valid' || v.status === 'invalid') checkedAt.set(key.id, clock.now());
    return v;
  };

  /** The key when it exists and the caller may act on it (its owner, or `keys.manage`). */
  const ownKey = async (id: string, caller: AdminCaller, action: string): Promise<{ ok: true; key: ExchangeKeyInfo } | { ok: false; refusal: AdminResult<never> }> => {
    const key = await keyStore.get(id);
    if (!key) return { ok: false, refusal: refuse('not_found', `no exchange key ${id}`) };
    if (key.userId !== caller.userId && !managesKeys(caller)) {
      await audit(caller, `exchange_key.${action}`, { type: 'exchange_key', id }, `${caller.label} may not ${action} exchange key ${id} of another user`, null, null, 'refused');
      return { ok: false, refusal: refuse('forbidden', `exchange key ${id} is not yours`) };
    }
    return { ok: true, key };
  };

  /** Live traders bound to a key (a paper trader's account is never a key). */
  const tradersOn = async (keyIds: ReadonlySet<string>): Promise<TraderRecord[]> =>
    (await store.traders.list()).filter((t) => t.venue !== 'paper' && keyIds.has(t.accountId));

  return {
    async listUsers(q = {}) {
      const limit = Math.max(1, Math.min(500, q.limit ?? 50));
      const offset = Math.max(0, q.offset ?? 0);
      const needle = q.q?.trim().toLowerCase() ?? '';
      const accountsList = (await accounts.store.users.list()).filter(
        (u) =>
          (!needle || u.id.toLowerCase().includes(needle) || u.email.toLowerCase().includes(needle) || u.displayName.toLowerCase().includes(needle)) &&
          (q.role === undefined || u.role === q.role) &&
          (q.status === undefined || u.status === q.status),
      );
      let rows = await rowsOf(accountsList);
      if (q.hasRunningBots !== undefined) rows = rows.filter((r) => (r.bots.running > 0) === q.hasRunningBots);
      rows.sort(compareUsers(q.sort ?? 'joined', q.order ?? (q.sort === 'email' ? 'asc' : 'desc')));
      return { rows: rows.slice(offset, offset + limit), total: rows.length, offset, limit };
    },

    async userDetail(id) {
      const account = await accounts.store.users.get(id);
      if (!account) return null;
      const [row] = await rowsOf([account]);
      const traders = (await store.traders.list()).filter((t) => t.userId === id);
      const bots = platform.listBots().filter((b) => b.userId === id);
      const now = clock.now();
      const [groups, keys, sessions, signIns, violations] = await Promise.all([
        accounts.store.memberships.groupsOf(id),
        keyStore.list({ userId: id }),
        accounts.store.sessions.listActiveForUser(id, now),
        accounts.store.attempts.recent({ limit: 20, userId: id }),
        risk.openViolations(),
      ]);
      const positions: UserPosition[] = [];
      const positionErrors: { traderId: string; error: string }[] = [];
      const errors: EventRecord[] = [];
      const policies: UserDetail['risk']['policies'][number][] = [];
      let liquidation: LiquidationRisk = 'none';
      for (const b of bots) {
        try {
          for (const p of await positionsOf(b.id)) {
            const r = liquidationRisk(p.markPrice, p.liquidationPrice);
            liquidation = worse(liquidation, r.risk);
            positions.push({ ...p, traderId: b.id, traderName: b.name, distanceToLiquidation: r.distance, risk: r.risk });
          }
        } catch (err) {
          positionErrors.push({ traderId: b.id, error: errorMessage(err) });
        }
        for (const e of await store.events.recent({ limit: 100, traderId: b.id })) {
          if (e.severity === 'error' || e.severity === 'critical') errors.push(e);
        }
        policies.push({ traderId: b.id, traderName: b.name, policy: await risk.policyFor({ id: b.id, userId: id }) });
      }
      const strategies = new Map<string, number>();
      for (const b of bots) if (RUNNING.has(b.status)) strategies.set(b.strategy, (strategies.get(b.strategy) ?? 0) + 1);
      return {
        user: row!,
        groups,
        failedAttempts: account.failedAttempts,
        exchangeAccounts: traders.map((t: TraderRecord) => ({ traderId: t.id, traderName: t.name, venue: t.venue, accountId: t.accountId })),
        keys,
        bots,
        strategies: [...strategies].map(([ref, n]) => ({ ref, bots: n })).sort((a, b) => a.ref.localeCompare(b.ref)),
        positions,
        positionErrors,
        errors: errors.sort((a, b) => b.at - a.at || (b.id ?? 0) - (a.id ?? 0)).slice(0, 50),
        risk: { mdd: row!.mdd, openViolations: violations.filter((v) => v.userId === id), liquidation, policies },
        sessions: sessions.map((s) => ({ createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, ip: s.ip, userAgent: s.userAgent })),
        signIns,
      };
    },

    async suspendUser(id, caller, reason) {
      const problem = reasonProblem(reason, true);
      if (problem) return refuse('invalid', problem);
      const user = await accounts.store.users.get(id);
      if (!user) return refuse('not_found', `no user with id ${id}`);
      if (id === caller.userId) return refuse('forbidden', 'you cannot suspend your own account');
      if (caller.role !== 'admin' && OPERATOR_CANNOT_SUSPEND.has(user.role)) {
        await audit(caller, 'user.suspend', { type: 'user', id }, `an ${caller.role} may not suspend an ${user.role}`, { status: user.status }, null, 'refused');
        return refuse('forbidden', `only an administrator may suspend an ${user.role} account`);
      }
      if (user.status === 'suspended') return refuse('conflict', `${user.email} is already suspended`);
      const why = reason.trim();
      // Sign-in and every request of the account are refused from here on, then its sessions end.
      await accounts.store.users.setStatus(id, 'suspended');
      const sessionsEnded = await accounts.revokeAllSessions(id, `account suspended: ${why}`);
      const { bots, botsError } = await onUserBots(() => platform.pauseUser(id, actorOf(caller, why)));
      await audit(
        caller,
        'user.suspend',
        { type: 'user', id },
        `${caller.label} suspended ${user.email}: ${why}`,
        { status: user.status },
        { status: 'suspended', reason: why, sessionsEnded, botsPaused: bots?.changed ?? [], ...(botsError ? { botsError } : {}) },
      );
      const n = bots?.changed.length ?? 0;
      return done(
        { sessionsEnded, bots },
        `${user.displayName} suspended: ${sessionsEnded} session${sessionsEnded === 1 ? '' : 's'} ended, ${n} bot${n === 1 ? '' : 's'} paused${botsError ? ` (bots not paused: ${botsError})` : ''}`,
      );
    },

    async unsuspendUser(id, caller, reason) {
      const problem = reasonProblem(reason, false);
      if (problem) return refuse('invalid', problem);
      const user = await accounts.store.users.get(id);
      if (!user) return refuse('not_found', `no user with id ${id}`);
      if (caller.role !== 'admin' && OPERATOR_CANNOT_SUSPEND.has(user.role)) {
        return refuse('forbidden', `only an administrator may reinstate an ${user.role} account`);
      }
      if (user.status !== 'suspended') return refuse('conflict', `${user.email} is not suspended`);
      const why = reason?.trim() || 'reinstated';
      await accounts.store.users.setStatus(id, 'active');
      const { bots, botsError } = await onUserBots(() => platform.resumeUser(id, actorOf(caller, why)));
      await audit(
        caller,
        'user.unsuspend',
        { type: 'user', id },
        `${caller.label} reinstated ${user.email}: ${why}`,
        { status: 'suspended' },
        { status: 'active', reason: why, botsResumed: bots?.changed ?? [], stillPaused: bots?.skipped ?? [], ...(botsError ? { botsError } : {}) },
      );
      const n = bots?.changed.length ?? 0;
      return done({ bots }, `${user.displayName} reinstated; ${n} bot${n === 1 ? '' : 's'} released from the suspension`);
    },

    async forceLogout(id, caller, reason) {
      const problem = reasonProblem(reason, false);
      if (problem) return refuse('invalid', problem);
      const user = await accounts.store.users.get(id);
      if (!user) return refuse('not_found', `no user with id ${id}`);
      const why = reason?.trim() || 'Force Logout by an administrator';
      const active = (await accounts.store.sessions.listActiveForUser(id, clock.now())).length;
      const n = await accounts.revokeAllSessions(id, why);
      await audit(caller, 'user.force_logout', { type: 'user', id }, `${caller.label} ended ${n} session${n === 1 ? '' : 's'} of ${user.email}: ${why}`, { activeSessions: active }, { activeSessions: 0, sessionsEnded: n });
      return done({ sessionsEnded: n }, `${user.displayName}: ${n} session${n === 1 ? '' : 's'} ended`);
    },

    async listKeys(q = {}) {
      const [keys, users] = await Promise.all([keyStore.list(q.userId !== undefined ? { userId: q.userId } : {}), userNames()]);
      return keys
        .filter((k) => (q.status === undefined || k.status === q.status) && (q.exchange === undefined || k.exchange === q.exchange))
        .map((k) => ({ ...k, userEmail: users.get(k.userId)?.email ?? null, userName: users.get(k.userId)?.displayName ?? null }));
    },

    keyHistory(q = {}) {
      return keyStore.history({
        ...(q.keyId !== undefined ? { keyId: q.keyId } : {}),
        ...(q.userId !== undefined ? { userId: q.userId } : {}),
        limit: Math.max(1, Math.min(1000, q.limit ?? 200)),
      });
    },

    revokeKey: (id, caller, reason) => keyCommand('revoke', id, caller, reason),
    disableKey: (id, caller, reason) => keyCommand('disable', id, caller, reason),
    enableKey: (id, caller, reason) => keyCommand('enable', id, caller, reason),

    async userKeys(userId) {
      const keys = await keyStore.list({ userId });
      if (keys.length === 0) return [];
      const [traders, history] = await Promise.all([tradersOn(new Set(keys.map((k) => k.id))), keyStore.history({ userId, limit: 1000 })]);
      const lastVerdict = new Map<string, number>();
      for (const e of history) {
        if (e.action !== 'validated' && e.action !== 'invalidated') continue;
        lastVerdict.set(e.keyId, Math.max(lastVerdict.get(e.keyId) ?? 0, e.at));
      }
      return keys.map((k) => {
        const times = [lastVerdict.get(k.id), checkedAt.get(k.id)].filter((t): t is number => t !== undefined);
        return {
          ...k,
          bots: traders.filter((t) => t.accountId === k.id).map((t) => ({ traderId: t.id as string, traderName: t.name })),
          lastCheckedAt: times.length ? Math.max(...times) : null,
        };
      });
    },

    async addKey(input, caller) {
      const parsed = NewKeyInput.safeParse(input);
      if (!parsed.success) return refuse('invalid', describeIssues(parsed.error));
      const k = parsed.data;
      if (k.userId !== caller.userId && !managesKeys(caller)) {
        await audit(caller, 'exchange_key.add', { type: 'user', id: k.userId }, `${caller.label} may not add an exchange key for another user`, null, null, 'refused');
        return refuse('forbidden', 'you may add exchange keys only for yourself');
      }
      const owner = await accounts.store.users.get(k.userId);
      if (!owner) return refuse('not_found', `no user with id ${k.userId}`);
      let key: ExchangeKeyInfo;
      try {
        key = await keyStore.add(k, caller.label);
      } catch (err) {
        if (err instanceof KeyStoreError) return refuse(err.code === 'unknown_user' ? 'not_found' : 'invalid', err.message);
        throw err;
      }
      const validation = await validate(key, caller.label);
      const after = (await keyStore.get(key.id)) ?? key;
      const verdict = validationText(key.exchange, validation);
      await audit(
        caller,
        'exchange_key.add',
        { type: 'exchange_key', id: key.id },
        `${caller.label} added exchange key ${key.id} (${keyLabel(key)}, "${key.label}") for ${owner.email}; check: ${verdict}`,
        null,
        { userId: key.userId, exchange: key.exchange, label: key.label, hint: key.hint, status: after.status, statusReason: after.statusReason, check: validation.status },
      );
      return done({ key: after, validation }, `exchange key ${keyLabel(key)} added. ${verdict}`);
    },

    async checkKey(id, caller) {
      const found = await ownKey(id, caller, 'check');
      if (!found.ok) return found.refusal;
      const before = found.key;
      const validation = await validate(before, caller.label);
      const after = (await keyStore.get(id)) ?? before;
      const verdict = validationText(before.exchange, validation);
      await audit(
        caller,
        'exchange_key.check',
        { type: 'exchange_key', id },
        `${caller.label} checked exchange key ${id} (${keyLabel(before)}) of ${before.userId}: ${verdict}`,
        { status: before.status, statusReason: before.statusReason },
        { status: after.status, statusReason: after.statusReason, check: validation.status },
      );
      return done({ key: after, validation }, `exchange key ${keyLabel(before)}: ${verdict}`);
    },

    async deleteKey(id, caller, reason) {
      const problem = reasonProblem(reason, false);
      if (problem) return refuse('invalid', problem);
      const found = await ownKey(id, caller, 'delete');
      if (!found.ok) return found.refusal;
      const key = found.key;
      const bound = await tradersOn(new Set([id]));
      if (bound.length > 0) {
        const names = bound.map((t) => `${t.name} (${t.id})`).join(', ');
        await audit(caller, 'exchange_key.delete', { type: 'exchange_key', id }, `exchange key ${id} is in use by ${names}`, { status: key.status }, null, 'refused');
        return refuse('conflict', `exchange key ${keyLabel(key)} is used by ${bound.length === 1 ? 'the bot' : 'the bots'} ${names}: delete ${bound.length === 1 ? 'it' : 'them'} or move ${bound.length === 1 ? 'it' : 'them'} to another key first`);
      }
      const why = reason?.trim() || undefined;
      try {
        await keyStore.delete(id, caller.label, why);
      } catch (err) {
        if (err instanceof KeyStoreError) return refuse(err.code === 'not_found' ? 'not_found' : 'conflict', err.message);
        throw err;
      }
      checkedAt.delete(id);
      await audit(
        caller,
        'exchange_key.delete',
        { type: 'exchange_key', id },
        `${caller.label} deleted exchange key ${id} (${keyLabel(key)}, "${key.label}") of ${key.userId}${why ? `: ${why}` : ''}`,
        { status: key.status, exchange: key.exchange, label: key.label, hint: key.hint },
        null,
      );
      return done(key, `exchange key ${keyLabel(key)} deleted`);
    },

    async listViolations(q = {}) {
      const limit = Math.max(1, Math.min(1000, q.limit ?? 200));
      const list = await risk.listViolations({
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.traderId !== undefined ? { traderId: q.traderId } : {}),
        limit: q.userId !== undefined ? 5000 : limit,
      });
      const users = await userNames();
      return list
        .filter((v) => q.userId === undefined || v.userId === q.userId)
        .slice(0, limit)
        .map((v) => {
          const bot = platform.getBot(v.traderId);
          return {
            ...v,
            traderName: bot?.name ?? null,
            userName: users.get(v.userId)?.displayName ?? null,
            traderStatus: bot?.status ?? null,
            pause: bot?.pause ?? null,
          };
        });
    },

    async releaseViolation(id, caller, reason) {
      const problem = reasonProblem(reason, true);
      if (problem) return refuse('invalid', problem);
      const why = reason.trim();
      const r = await risk.release(id, caller.label, why);
      if (!r.ok) {
        const code: AdminErrorCode = /^no risk violation/.test(r.error) ? 'not_found' : /already released/.test(r.error) ? 'conflict' : 'invalid';
        return refuse(code, r.error);
      }
      const released = r.value;
      const v = released.violation;
      const c = releaseCommands(released, clock.now(), managerOf, { userId: caller.userId, ip: caller.ip });
      let resumed = false;
      let note: string | null = null;
      if (c.sends.length === 0) {
        note = `still open: ${released.stillOpen.map((o) => `#${o.id} ${o.policy}`).join(', ')}`;
      } else {
        const owner = await accounts.store.users.get(v.userId);
        if (owner?.status === 'suspended') {
          note = `its user ${owner.email} is suspended: the bot stays paused until the user is reinstated`;
        } else {
          // The platform's own Resume: it refuses while the group or the platform is paused.
          const res = await platform.resumeBot(v.traderId, actorOf(caller, `risk violation #${v.id} released: ${why}`));
          resumed = res.ok;
          if (!res.ok) note = res.error;
        }
      }
      // The commands assumed the resume would happen; say what did.
      const events = c.sends.length > 0 && !resumed ? c.events.map((e) => ({ ...e, message: e.message.replace(/; resumed$/, `; stays paused: ${note ?? 'not resumed'}`), data: { ...e.data, resumed: false } })) : c.events;
      try {
        await recordEvents(events);
      } catch (err) {
        note = `${note ? `${note}; ` : ''}timeline event not written: ${errorMessage(err)}`;
      }
      for (const a of c.audit) await accounts.audit.record({ ...a, after: { ...a.after, resumed, ...(note ? { note } : {}) } });
      return done({ violation: v, resumed, note }, `violation #${v.id} released${resumed ? '; the bot resumed' : note ? `; the bot stays paused (${note})` : ''}`);
    },

    async policies() {
      const [rows, users] = await Promise.all([risk.policies(), userNames()]);
      const platformRow = rows.find((p) => p.scope === 'platform');
      if (!platformRow) throw new Error('the platform risk policy row is missing (migration 005 seeds it)');
      const bots = new Map(platform.listBots().map((b) => [b.id, b]));
      return {
        platform: platformRow,
        users: rows.filter((p) => p.scope === 'user').map((p) => ({ ...p, name: users.get(p.scopeId)?.displayName ?? null })),
        traders: rows
          .filter((p) => p.scope === 'trader')
          .map((p) => ({ ...p, name: bots.get(p.scopeId)?.name ?? null, userId: bots.get(p.scopeId)?.userId ?? null })),
      };
    },

    async setPolicy(input, caller) {
      const scopeId = input.scope === 'platform' ? 'platform' : input.scopeId.trim();
      if (input.scope === 'user' && !(await accounts.store.users.get(scopeId))) return refuse('not_found', `no user with id ${scopeId}`);
      if (input.scope === 'trader' && !platform.getBot(scopeId)) return refuse('not_found', `no bot with id ${scopeId}`);
      const before = (await risk.policies()).find((p) => p.scope === input.scope && p.scopeId === scopeId) ?? null;
      const r = await risk.setPolicy(
        input.scope,
        scopeId,
        { dailyStopLossPct: input.dailyStopLossPct, totalStopLossPct: input.totalStopLossPct, maxLeverage: input.maxLeverage },
        caller.label,
      );
      if (!r.ok) return refuse('invalid', r.error);
      const limits = (p: PolicyRecord | null) =>
        p ? { dailyStopLossPct: p.dailyStopLossPct, totalStopLossPct: p.totalStopLossPct, maxLeverage: p.maxLeverage } : null;
      await audit(
        caller,
        'risk.policy_set',
        { type: 'risk_policy', id: `${input.scope}:${scopeId}` },
        `${caller.label} set the ${input.scope === 'platform' ? 'platform default' : `${input.scope} ${scopeId}`} risk policy`,
        limits(before),
        limits(r.value),
      );
      return done(r.value, `risk policy of ${input.scope === 'platform' ? 'the platform' : `${input.scope} ${scopeId}`} saved`);
    },

    async clearPolicy(scope, scopeId, caller) {
      const before = (await risk.policies()).find((p) => p.scope === scope && p.scopeId === scopeId) ?? null;
      if (!before) return refuse('not_found', `${scope} ${scopeId} has no risk policy of its own`);
      const r = await risk.clearPolicy(scope, scopeId);
      if (!r.ok) return refuse('invalid', r.error);
      await audit(
        caller,
        'risk.policy_cleared',
        { type: 'risk_policy', id: `${scope}:${scopeId}` },
        `${caller.label} removed the risk policy of ${scope} ${scopeId} (it inherits again)`,
        { dailyStopLossPct: before.dailyStopLossPct, totalStopLossPct: before.totalStopLossPct, maxLeverage: before.maxLeverage },
        null,
      );
      return done(true, `${scope} ${scopeId} inherits its risk limits again`);
    },

    async signInSecurity(opts = {}) {
      const now = clock.now();
      const hours = Math.max(1, Math.min(24 * 30, opts.hours ?? 24));
      const since = now - hours * HOUR;
      // The whole retention, so an address can be compared with an account's earlier ones.
      const all = await accounts.store.attempts.recent({ limit: 50_000, since: Math.min(since, now - 30 * DAY) });
      const inPeriod = all.filter((a) => a.at >= since);
      const failures = inPeriod.filter((a) => !a.ok);
      const byIp = new Map<string, { attempts: number; failures: number; lastAt: number; emails: Set<string> }>();
      for (const a of inPeriod) {
        const s = byIp.get(a.ip) ?? { attempts: 0, failures: 0, lastAt: 0, emails: new Set<string>() };
        s.attempts++;
        if (!a.ok) s.failures++;
        s.lastAt = Math.max(s.lastAt, a.at);
        s.emails.add(a.email);
        byIp.set(a.ip, s);
      }
      const twoFactor = await accounts.store.audit.list({ limit: 200, actions: TWO_FACTOR_ACTIONS });
      return {
        since,
        now,
        failures: failures.slice(0, 200),
        byIp: [...byIp]
          .filter(([, s]) => s.failures > 0)
          .map(([ip, s]) => ({ ip, attempts: s.attempts, failures: s.failures, lastAt: s.lastAt, emails: [...s.emails].sort() }))
          .sort((a, b) => b.failures - a.failures || b.lastAt - a.lastAt),
        suspicious: [...failureBursts(failures), ...newAddressSignIns(all, since)],
        twoFactor,
      };
    },

    async auditLog(q = {}) {
      const limit = Math.max(1, Math.min(500, q.limit ?? 100));
      const query: AuditQuery = {
        limit: limit + 1,
        ...(q.beforeId !== undefined ? { beforeId: q.beforeId } : {}),
        ...(q.actorUserId !== undefined ? { actorUserId: q.actorUserId } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.actionPrefix !== undefined ? { actionPrefix: q.actionPrefix } : {}),
        ...(q.targetType !== undefined ? { targetType: q.targetType } : {}),
        ...(q.targetId !== undefined ? { targetId: q.targetId } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.until !== undefined ? { until: q.until } : {}),
      };
      const rows = await accounts.store.audit.list(query);
      const entries = rows.slice(0, limit);
      return { entries, nextBeforeId: rows.length > limit ? (entries[entries.length - 1]?.id ?? null) : null };
    },
  };
}
