/**
 * The administration API for console tests: the real `createAdminApi` over in-memory parts (an
 * exchange key store with the real status rules, the real risk policy engine over an in-memory
 * policy store, trader records, metrics and events), seeded to match the fake api's bots.
 */
import type { Accounts } from '../../runtime/accounts/index.ts';
import { createAdminApi, type AdminApi, type AdminDeps } from '../../runtime/admin.ts';
import type { PlatformApi } from '../../runtime/api.ts';
import type { Clock } from '../../runtime/clock.ts';
import { Ids } from '../../runtime/domain.ts';
import {
  KeyStoreError,
  NewKeyInput,
  describeIssues,
  type ExchangeKeyInfo,
  type KeyAction,
  type KeyEventRecord,
  type KeyStatus,
  type KeyStore,
} from '../../runtime/keys/index.ts';
import {
  createRiskPolicyEngine,
  type BaselineRecord,
  type PolicyRecord,
  type RiskPolicyEngine,
  type RiskPolicyStore,
  type ViolationRecord,
} from '../../runtime/risk/index.ts';
import type { KeyValidation } from '../../runtime/live.ts';
import type { EventRecord, MetricRecord, Store, TraderRecord } from '../../runtime/store/types.ts';
import { T0 } from './fake-api.ts';

/** What the fake venue check answers next: a verdict, or an error it throws. */
export type FakeVerdict = { readonly status: 'valid' } | { readonly status: 'invalid' | 'unreachable'; readonly reason: string } | { readonly throws: string };

/** A venue check for tests, with the live check's effect on the key store (valid/invalid are stored). */
export interface FakeValidator {
  readonly validateKey: (keyId: string, by: string) => Promise<KeyValidation>;
  /** Queues the verdicts of the next checks (afterwards: valid). */
  next(...verdicts: FakeVerdict[]): void;
  /** Every check asked for, in order. */
  readonly calls: { readonly keyId: string; readonly by: string }[];
}

/** Creates a fake venue check over a key store. */
export function createFakeValidator(keys: KeyStore): FakeValidator {
  const queue: FakeVerdict[] = [];
  const calls: { keyId: string; by: string }[] = [];
  return {
    calls,
    next(...verdicts) {
      queue.push(...verdicts);
    },
    async validateKey(keyId, by) {
      calls.push({ keyId, by });
      const v = queue.shift() ?? { status: 'valid' };
      if ('throws' in v) throw new Error(v.throws);
      const info = await keys.get(keyId);
      if (!info) return { keyId, status: 'skipped', reason: `exchange key ${keyId} does not exist` };
      if (info.status === 'revoked' || info.status === 'disabled') return { keyId, status: 'skipped', reason: `exchange key ${keyId} is ${info.status}` };
      if (v.status === 'valid') {
        if (info.status !== 'valid') await keys.markValid(keyId, by);
        return { keyId, status: 'valid', reason: null };
      }
      if (v.status === 'invalid') await keys.markInvalid(keyId, v.reason, by);
      return { keyId, status: v.status, reason: v.reason };
    },
  };
}

/** An in-memory key store with the real store's statuses, transitions and history. */
export function createMemoryKeyStore(clock: Clock): KeyStore & { readonly events: KeyEventRecord[] } {
  const keys = new Map<string, ExchangeKeyInfo>();
  const events: KeyEventRecord[] = [];
  let n = 0;
  const log = (keyId: string, userId: string, action: KeyAction, by: string, reason: string | null) => {
    events.push({ id: events.length + 1, keyId, userId, at: clock.now(), action, by, reason });
  };
  const FROM: Record<string, readonly KeyStatus[]> = {
    validated: ['unchecked', 'valid', 'invalid'],
    invalidated: ['unchecked', 'valid', 'invalid'],
    disabled: ['unchecked', 'valid', 'invalid'],
    enabled: ['disabled'],
    revoked: ['unchecked', 'valid', 'invalid', 'disabled'],
  };
  const transition = (id: string, action: keyof typeof FROM, to: KeyStatus, by: string, reason: string | null) => {
    const k = keys.get(id);
    if (!k) throw new KeyStoreError('not_found', `no exchange key ${id}`);
    if (!FROM[action]!.includes(k.status)) throw new KeyStoreError('bad_state', `exchange key ${id} is ${k.status}: it cannot be ${action}`);
    if (!by.trim()) throw new KeyStoreError('invalid_input', 'who is asking must be given');
    const at = clock.now();
    const next: ExchangeKeyInfo = { ...k, status: to, statusReason: reason, updatedAt: at, revokedAt: to === 'revoked' ? at : null };
    keys.set(id, next);
    log(id, k.userId, action === 'enabled' ? 'changed' : (action as KeyAction), by, reason);
    return next;
  };
  return {
    events,
    async add(input, by) {
      const parsed = NewKeyInput.safeParse(input);
      if (!parsed.success) throw new KeyStoreError('invalid_input', describeIssues(parsed.error));
      const k = parsed.data;
      const id = `xk-${String(++n).padStart(4, '0')}`;
      const at = clock.now();
      const info: ExchangeKeyInfo = {
        id,
        userId: k.userId,
        exchange: k.exchange,
        label: k.label,
        hint: k.apiKey.slice(-4),
        hasPassphrase: Boolean(k.passphrase),
        status: 'unchecked',
        statusReason: null,
        sealedWith: 'ktest',
        createdAt: at,
        updatedAt: at,
        revokedAt: null,
      };
      keys.set(id, info);
      log(id, k.userId, 'created', by, null);
      return info;
    },
    async list(filter = {}) {
      return [...keys.values()].filter((k) => filter.userId === undefined || k.userId === filter.userId);
    },
    async get(id) {
      return keys.get(id) ?? null;
    },
    async credentials(id) {
      throw new KeyStoreError('bad_state', `exchange key ${id} cannot be opened in tests`);
    },
    async change(id) {
      throw new KeyStoreError('invalid_input', `exchange key ${id}: change is not supported by the test store`);
    },
    async markValid(id, by, reason) {
      return transition(id, 'validated', 'valid', by, reason ?? null);
    },
    async markInvalid(id, reason, by) {
      return transition(id, 'invalidated', 'invalid', by, reason);
    },
    async disable(id, reason, by) {
      return transition(id, 'disabled', 'disabled', by, reason);
    },
    async enable(id, reason, by) {
      return transition(id, 'enabled', 'unchecked', by, `enabled: ${reason}`);
    },
    async revoke(id, reason, by) {
      return transition(id, 'revoked', 'revoked', by, reason);
    },
    async delete(id, by, reason) {
      const k = keys.get(id);
      if (!k) throw new KeyStoreError('not_found', `no exchange key ${id}`);
      keys.delete(id);
      log(id, k.userId, 'deleted', by, reason ?? null);
    },
    async history(filter = {}) {
      return events
        .filter((e) => (filter.keyId === undefined || e.keyId === filter.keyId) && (filter.userId === undefined || e.userId === filter.userId))
        .slice()
        .reverse()
        .slice(0, filter.limit ?? 500);
    },
    async rotate(newKeyId) {
      return { to: newKeyId, rotated: 0, alreadyCurrent: keys.size, failed: [] };
    },
  };
}

/** An in-memory risk policy store seeded with the platform row of migration 005. */
export function createMemoryRiskStore(): RiskPolicyStore & { readonly violations: ViolationRecord[] } {
  const policies = new Map<string, PolicyRecord>([
    ['platform:platform', { scope: 'platform', scopeId: 'platform', dailyStopLossPct: 10, totalStopLossPct: 30, maxLeverage: 10, updatedAt: 0, updatedBy: 'system' }],
  ]);
  const violations: ViolationRecord[] = [];
  const baselines = new Map<string, BaselineRecord>();
  return {
    violations,
    async listPolicies() {
      return [...policies.values()].sort((a, b) => a.scope.localeCompare(b.scope) || a.scopeId.localeCompare(b.scopeId));
    },
    async getPolicy(scope, scopeId) {
      return policies.get(`${scope}:${scopeId}`) ?? null;
    },
    async upsertPolicy(p) {
      policies.set(`${p.scope}:${p.scopeId}`, { ...p });
      return { ...p };
    },
    async deletePolicy(scope, scopeId) {
      return policies.delete(`${scope}:${scopeId}`);
    },
    async insertViolation(v) {
      if (violations.some((o) => o.traderId === v.traderId && o.policy === v.policy && o.status === 'open')) return null;
      const row: ViolationRecord = { ...v, id: violations.length + 1, status: 'open', releasedAt: null, releasedBy: null, releaseReason: null };
      violations.push(row);
      return { ...row };
    },
    async getViolation(id) {
      const v = violations.find((o) => o.id === id);
      return v ? { ...v } : null;
    },
    async listViolations(q = {}) {
      return violations
        .filter((v) => (q.status === undefined || v.status === q.status) && (q.traderId === undefined || v.traderId === q.traderId))
        .slice()
        .reverse()
        .slice(0, q.limit ?? 500)
        .map((v) => ({ ...v }));
    },
    async releaseViolation(id, at, by, reason) {
      const i = violations.findIndex((o) => o.id === id && o.status === 'open');
      if (i < 0) return null;
      const next: ViolationRecord = { ...violations[i]!, status: 'released', releasedAt: at, releasedBy: by, releaseReason: reason };
      violations[i] = next;
      return { ...next };
    },
    async listBaselines() {
      return [...baselines.values()];
    },
    async saveBaselines(rows) {
      for (const r of rows) baselines.set(`${r.traderId}:${r.policy}`, r);
    },
    async firstTraderPvs() {
      return new Map();
    },
    async latestTraderPv() {
      return null;
    },
  };
}

/** The store parts the admin layer reads, in memory. */
export function createMemoryAdminStore(traders: readonly TraderRecord[]): Pick<Store, 'traders' | 'metrics' | 'events'> & {
  readonly metricRows: MetricRecord[];
  readonly eventRows: EventRecord[];
} {
  const byId = new Map(traders.map((t) => [t.id as string, t]));
  const metricRows: MetricRecord[] = [];
  const eventRows: EventRecord[] = [];
  return {
    metricRows,
    eventRows,
    traders: {
      async upsert(t) {
        byId.set(t.id, t);
      },
      async list() {
        return [...byId.values()];
      },
      async get(id) {
        return byId.get(id) ?? null;
      },
      async assignStrategy() {},
    },
    metrics: {
      async insertMany(rows) {
        metricRows.push(...rows);
      },
      async latest(scope) {
        const latest = new Map<string, MetricRecord>();
        for (const r of metricRows) if (r.scope === scope && (latest.get(r.scopeId)?.at ?? -Infinity) <= r.at) latest.set(r.scopeId, r);
        return [...latest.values()];
      },
      async series(scope, scopeId, since) {
        return metricRows.filter((r) => r.scope === scope && r.scopeId === scopeId && r.at >= since);
      },
    },
    events: {
      async appendMany(rows) {
        let id = eventRows.length;
        for (const r of rows) eventRows.unshift({ ...r, id: ++id });
      },
      async recent(opts) {
        return eventRows.filter((e) => (opts.traderId === undefined || e.traderId === opts.traderId) && (!opts.types || opts.types.includes(e.type))).slice(0, opts.limit);
      },
    },
  };
}

/** The admin API of a test and its in-memory parts. */
export interface TestAdmin {
  readonly admin: AdminApi;
  readonly keys: ReturnType<typeof createMemoryKeyStore>;
  readonly riskStore: ReturnType<typeof createMemoryRiskStore>;
  readonly risk: RiskPolicyEngine;
  readonly store: ReturnType<typeof createMemoryAdminStore>;
  /** The venue check `addKey` and `checkKey` use (queue its verdicts with `next`). */
  readonly validator: FakeValidator;
  /** Resolves when the fixtures are in place (every admin call waits for it). */
  readonly ready: Promise<void>;
}

/** Trader records matching the fake api's bots (initial capital 10,000 each). */
export function fakeTraderRecords(api: PlatformApi): TraderRecord[] {
  return api.listBots().map((b) => ({
    id: Ids.trader(b.id),
    managerId: Ids.manager(b.managerId),
    userId: Ids.user(b.userId),
    name: b.name,
    strategyName: b.strategy.split('@')[0]!,
    strategyVersion: Number(b.strategy.split('@')[1] ?? 1),
    params: {},
    venue: 'paper',
    accountId: `paper:${b.id}`,
    initialCapital: '10000',
    leverage: 2,
    riskLimits: {},
    createdAt: T0 - 86_400_000,
    updatedAt: T0 - 86_400_000,
  }));
}

/**
 * The admin API over the fake api and a test accounts service, with fixtures: accounts for the
 * fake bots' other owners (u-42 Grace, u-51 Linus), three exchange keys, an open daily stop-loss
 * violation of t-0002 (the bot the fake shows paused by risk), a user policy of u-51 and `user`
 * metrics rows. Keys are checked by a fake venue check (`validator`), valid unless told otherwise.
 */
export function createTestAdmin(api: PlatformApi, accounts: Accounts, clock: Clock, over: Partial<AdminDeps> = {}): TestAdmin {
  const keys = createMemoryKeyStore(clock);
  const riskStore = createMemoryRiskStore();
  const risk = createRiskPolicyEngine({ store: riskStore, clock });
  const store = createMemoryAdminStore(fakeTraderRecords(api));
  const validator = createFakeValidator(keys);
  const ready = (async () => {
    for (const [id, email, name] of [
      ['u-42', 'grace@test.example', 'Grace'],
      ['u-51', 'linus@test.example', 'Linus'],
    ] as const) {
      if (!(await accounts.store.users.get(id))) await accounts.store.users.create({ id, email, displayName: name, role: 'user', passwordHash: null, createdAt: T0 - 30 * 86_400_000 });
    }
    // u-17 (Ada) is the 'user' role's test user, created with a password when a test signs in as that role.
    const a = await keys.add({ userId: 'u-17', exchange: 'binanceusdm', label: 'Ada main', apiKey: 'AKIAADA000000000001234', secret: 'secret-secret-secret-0001' }, 'Ada');
    await keys.markValid(a.id, 'system', 'checked against the venue');
    const b = await keys.add({ userId: 'u-42', exchange: 'okx', label: 'Grace okx', apiKey: 'OKXGRACE00000000005678', secret: 'secret-secret-secret-0002', passphrase: 'pass phrase' }, 'Grace');
    await keys.markInvalid(b.id, 'venue answered 401: invalid API key', 'system');
    await keys.add({ userId: 'u-51', exchange: 'bybit', label: 'Linus bybit', apiKey: 'BYBITLINUS000000009012', secret: 'secret-secret-secret-0003' }, 'Linus');
    await riskStore.insertViolation({
      at: T0 - 3_600_000,
      traderId: 't-0002',
      userId: 'u-42',
      policy: 'dailyStopLoss',
      observed: '12.4',
      limit: '10',
      message: 'daily loss 12.4 % reached the limit 10 %',
    });
    await riskStore.upsertPolicy({ scope: 'user', scopeId: 'u-51', dailyStopLossPct: 5, totalStopLossPct: null, maxLeverage: 3, updatedAt: T0 - 86_400_000, updatedBy: 'Otto Operator' });
    await store.events.appendMany([
      { at: T0 - 7_200_000, type: 'order.rejected', severity: 'error', traderId: 't-0001', managerId: 'm-alpha', actor: 'exchange', message: 'BTCUSDT buy 0.5 rejected: insufficient margin' },
      { at: T0 - 120_000, type: 'trader.failed', severity: 'error', traderId: 't-0003', managerId: 'm-beta', actor: 'system', message: 'strategy threw: TypeError' },
      { at: T0 - 60_000, type: 'trader.running', severity: 'info', traderId: 't-0001', managerId: 'm-alpha', actor: 'system', message: 'alpha-btc running' },
    ]);
    await store.metrics.insertMany([
      { scope: 'user', scopeId: 'u-17', at: T0 - 60_000, pv: '10234.56', roe: 0.023, upnl: '0', sharpe: null, mdd: 0.031 },
      { scope: 'user', scopeId: 'u-42', at: T0 - 60_000, pv: '9500', roe: -0.05, upnl: '0', sharpe: null, mdd: 0.082 },
    ]);
  })();
  const real = createAdminApi({ clock, platform: api, accounts, store, keyStore: keys, risk, metricsCacheMs: 0, validateKey: validator.validateKey, ...over });
  const admin = Object.fromEntries(
    Object.entries(real).map(([k, f]) => [
      k,
      async (...args: unknown[]) => {
        await ready;
        return (f as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as AdminApi;
  return { admin, keys, riskStore, risk, store, validator, ready };
}
