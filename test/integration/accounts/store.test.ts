/**
 * The accounts store contract, run against the in-memory store and the SQL store on PGlite (and
 * PostgreSQL when one answers), so both behave alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DuplicateEmailError,
  createAccountsStore,
  createMemoryAccountsStore,
  totpCode,
  type AccountsStore,
  type SessionRecord,
} from '../../../runtime/accounts/index.ts';
import { Ids } from '../../../runtime/domain.ts';
import { TEST_PASSWORD, createTestAccounts, enrolTotp } from '../../support/accounts.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';

type Target = { name: 'memory' } | { name: 'pglite' | 'postgres' };
const targets: Target[] = [{ name: 'memory' }, ...dbTargets()];

const T = 1_700_000_000_000;

function session(id: string, userId: string, patch: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    userId,
    createdAt: T,
    lastSeenAt: T,
    idleExpiresAt: T + 1000,
    absoluteExpiresAt: T + 10_000,
    ip: '10.0.0.1',
    userAgent: 'ua',
    csrfToken: `csrf-${id}`,
    mfaVerified: true,
    revokedAt: null,
    revokedReason: null,
    ...patch,
  };
}

describe.each(targets)('the accounts store on $name', (target) => {
  let db: FreshDatabase | null = null;
  let store: AccountsStore;

  beforeAll(async () => {
    if (target.name === 'memory') {
      store = createMemoryAccountsStore();
    } else {
      db = await freshDatabase(target);
      store = createAccountsStore(db.sql);
      for (const id of ['m-alpha', 'm-beta']) {
        await db.store.managers.upsert({ id: Ids.manager(id), name: id, capital: '0', maxRestarts: 5, restartWindowMs: 1000, createdAt: T });
      }
    }
    await store.users.create({ id: 'u-1', email: 'ada@example.com', displayName: 'Ada', role: 'manager', passwordHash: 'h1', createdAt: T });
    await store.users.create({ id: 'u-2', email: 'bob@example.com', displayName: 'Bob', role: 'viewer', passwordHash: null, createdAt: T + 1 });
  }, 60_000);

  afterAll(async () => {
    await db?.cleanup();
  });

  it('creates accounts, finds them by email in any case, and refuses a duplicate email', async () => {
    const a = await store.users.getByEmail('ADA@example.com');
    expect(a).toMatchObject({ id: 'u-1', role: 'manager', status: 'active', passwordHash: 'h1', totpEnabled: false, failedAttempts: 0, passwordChangedAt: T });
    expect((await store.users.get('u-2'))!.passwordChangedAt).toBeNull();
    await expect(
      store.users.create({ id: 'u-3', email: 'Ada@Example.com', displayName: 'Other', role: 'user', passwordHash: null, createdAt: T }),
    ).rejects.toBeInstanceOf(DuplicateEmailError);
    expect((await store.users.list()).map((u) => u.id)).toEqual(['u-1', 'u-2']);
  });

  it('counts failures, locks at the limit and starts again, and clears on success', async () => {
    const policy = { maxFailures: 3, lockMs: 500 };
    expect(await store.users.recordFailure('u-2', T, policy)).toEqual({ failedAttempts: 1, lockedUntil: null });
    expect(await store.users.recordFailure('u-2', T, policy)).toEqual({ failedAttempts: 2, lockedUntil: null });
    expect(await store.users.recordFailure('u-2', T + 5, policy)).toEqual({ failedAttempts: 0, lockedUntil: T + 505 });
    await store.users.recordSuccess('u-2', T + 600, '10.0.0.7');
    expect(await store.users.get('u-2')).toMatchObject({ failedAttempts: 0, lockedUntil: null, lastSignInAt: T + 600, lastSignInIp: '10.0.0.7' });
  });

  it('keeps a pending TOTP secret until enabled, and accepts each step once', async () => {
    expect(await store.users.enableTotp('u-2', 10)).toBe(false);
    expect(await store.users.setPendingTotp('u-2', 'sealed-1')).toBe(true);
    expect(await store.users.enableTotp('u-2', 10)).toBe(true);
    expect(await store.users.setPendingTotp('u-2', 'sealed-2')).toBe(false);
    expect(await store.users.get('u-2')).toMatchObject({ totpSecret: 'sealed-1', totpEnabled: true, totpLastStep: 10 });
    expect(await store.users.useTotpStep('u-2', 10)).toBe(false);
    expect(await store.users.useTotpStep('u-2', 11)).toBe(true);
    expect(await store.users.useTotpStep('u-2', 11)).toBe(false);
    await store.users.disableTotp('u-2');
    expect(await store.users.get('u-2')).toMatchObject({ totpSecret: null, totpEnabled: false, totpLastStep: null });
  });

  it('sets passwords, roles and status', async () => {
    await store.users.setPassword('u-2', 'h2', T + 9);
    await store.users.setRole('u-2', 'operator');
    await store.users.setStatus('u-2', 'suspended');
    expect(await store.users.get('u-2')).toMatchObject({ passwordHash: 'h2', passwordChangedAt: T + 9, role: 'operator', status: 'suspended' });
    await store.users.setStatus('u-2', 'active');
  });

  it('uses each recovery code once', async () => {
    await store.recoveryCodes.replace('u-1', ['a', 'b'], T);
    expect(await store.recoveryCodes.remaining('u-1')).toBe(2);
    expect(await store.recoveryCodes.use('u-1', 'a', T)).toBe(true);
    expect(await store.recoveryCodes.use('u-1', 'a', T)).toBe(false);
    expect(await store.recoveryCodes.use('u-2', 'b', T)).toBe(false);
    expect(await store.recoveryCodes.remaining('u-1')).toBe(1);
    await store.recoveryCodes.replace('u-1', ['c'], T);
    expect(await store.recoveryCodes.use('u-1', 'b', T)).toBe(false);
    await store.recoveryCodes.deleteAll('u-1');
    expect(await store.recoveryCodes.remaining('u-1')).toBe(0);
  });

  it("stores a manager's groups", async () => {
    await store.memberships.setGroups('u-1', ['m-beta', 'm-alpha', 'm-alpha']);
    expect(await store.memberships.groupsOf('u-1')).toEqual(['m-alpha', 'm-beta']);
    expect(await store.memberships.membersOf('m-beta')).toEqual(['u-1']);
    await store.memberships.setGroups('u-1', ['m-alpha']);
    expect(await store.memberships.membersOf('m-beta')).toEqual([]);
  });

  it('stores, touches, lists and revokes sessions', async () => {
    await store.sessions.insert(session('s1', 'u-1'));
    await store.sessions.insert(session('s2', 'u-1', { createdAt: T + 1 }));
    await store.sessions.insert(session('s3', 'u-1', { createdAt: T + 2, idleExpiresAt: T + 5 }));
    await store.sessions.insert(session('s4', 'u-2'));
    await store.sessions.touch('s1', T + 100, T + 2000);
    expect(await store.sessions.get('s1')).toMatchObject({ lastSeenAt: T + 100, idleExpiresAt: T + 2000, csrfToken: 'csrf-s1', mfaVerified: true });
    expect((await store.sessions.listActiveForUser('u-1', T + 10)).map((s) => s.id)).toEqual(['s2', 's1']);
    expect(await store.sessions.revoke('s2', T + 20, 'signed out')).toBe(true);
    expect(await store.sessions.revoke('s2', T + 21, 'again')).toBe(false);
    expect(await store.sessions.get('s2')).toMatchObject({ revokedAt: T + 20, revokedReason: 'signed out' });
    expect((await store.sessions.revokeAllForUser('u-1', T + 30, 'force', 's1')).sort()).toEqual(['s3']);
    expect((await store.sessions.revokeAllForUser('u-1', T + 31, 'force')).sort()).toEqual(['s1']);
    expect((await store.sessions.listActiveForUser('u-2', T + 10)).map((s) => s.id)).toEqual(['s4']);
    expect(await store.sessions.purge(T + 25)).toBe(2); // s2 (revoked before) and s3 (idle-expired)
    expect(await store.sessions.get('s2')).toBeNull();
    expect(await store.sessions.get('s1')).not.toBeNull();
  });

  it('records sign-in attempts and counts them per address and per email', async () => {
    await store.attempts.record({ email: 'x@example.com', userId: null, ip: '1.1.1.1', at: T, ok: false, reason: 'unknown_email' });
    await store.attempts.record({ email: 'x@example.com', userId: null, ip: '1.1.1.1', at: T + 10, ok: false, reason: 'unknown_email' });
    await store.attempts.record({ email: 'ada@example.com', userId: 'u-1', ip: '1.1.1.1', at: T + 20, ok: true, reason: 'ok' });
    expect(await store.attempts.countByIp('1.1.1.1', T + 5)).toBe(2);
    expect(await store.attempts.countByIp('2.2.2.2', 0)).toBe(0);
    expect(await store.attempts.countFailuresByEmail('x@example.com', T)).toBe(2);
    expect(await store.attempts.countFailuresByEmail('ada@example.com', T)).toBe(0);
    expect(await store.attempts.recent({ limit: 2 })).toEqual([
      { email: 'ada@example.com', userId: 'u-1', ip: '1.1.1.1', at: T + 20, ok: true, reason: 'ok' },
      { email: 'x@example.com', userId: null, ip: '1.1.1.1', at: T + 10, ok: false, reason: 'unknown_email' },
    ]);
    expect(await store.attempts.recent({ limit: 5, userId: 'u-1' })).toHaveLength(1);
    expect(await store.attempts.purge(T + 10)).toBe(1);
    expect(await store.attempts.countByIp('1.1.1.1', 0)).toBe(2);
  });

  it('appends audit entries with their before and after, newest first, filtered', async () => {
    const base = { actorUserId: 'u-1', actorLabel: 'Ada', ip: '10.0.0.1', targetType: 'trader', outcome: 'ok' as const, message: 'm' };
    const a = await store.audit.append({ ...base, at: T, action: 'bot.pause', targetId: 't-1', before: { status: 'running' }, after: { status: 'paused', pause: { by: 'Ada' } } });
    const b = await store.audit.append({ ...base, at: T + 1, action: 'bot.resume', targetId: 't-2', before: null, after: null, outcome: 'refused' });
    expect(b).toBeGreaterThan(a);
    const all = await store.audit.list({ limit: 10 });
    expect(all.map((e) => e.action)).toEqual(['bot.resume', 'bot.pause']);
    expect(all[1]).toMatchObject({ id: a, at: T, before: { status: 'running' }, after: { status: 'paused', pause: { by: 'Ada' } } });
    expect(all[0]).toMatchObject({ outcome: 'refused', before: null, after: null });
    expect((await store.audit.list({ limit: 10, targetId: 't-1' })).map((e) => e.id)).toEqual([a]);
    expect((await store.audit.list({ limit: 10, beforeId: b })).map((e) => e.id)).toEqual([a]);
    expect(await store.audit.list({ limit: 10, actorUserId: 'nobody' })).toEqual([]);
  });

  it('stores API tokens by hash, touches and revokes them', async () => {
    await store.apiTokens.insert({ id: 'tok1', userId: 'u-1', name: 'ci', tokenHash: 'hash1', scope: 'read', createdAt: T, lastUsedAt: null, expiresAt: null, revokedAt: null });
    expect(await store.apiTokens.findByHash('hash1')).toMatchObject({ id: 'tok1', scope: 'read' });
    await store.apiTokens.touch('tok1', T + 5);
    expect((await store.apiTokens.findByHash('hash1'))!.lastUsedAt).toBe(T + 5);
    expect(await store.apiTokens.revoke('tok1', T + 6)).toBe(true);
    expect(await store.apiTokens.revoke('tok1', T + 7)).toBe(false);
    expect((await store.apiTokens.listForUser('u-1')).map((t) => t.revokedAt)).toEqual([T + 6]);
    expect(await store.apiTokens.findByHash('nope')).toBeNull();
  });

  it('runs the whole sign-in with a second factor over this store', async () => {
    const t = createTestAccounts({ store });
    const u = await t.accounts.createUser({ email: `op-${target.name}@example.com`, displayName: 'Op', role: 'operator', password: TEST_PASSWORD });
    const { secret } = await enrolTotp(t, u.id);
    t.clock.advance(30_000);
    const r = await t.accounts.signIn(u.email, TEST_PASSWORD, { ip: '10.0.0.1', userAgent: 'x' });
    if (!r.ok) throw new Error(r.message);
    const done = await t.accounts.verifySecondFactor(r.issued.session, totpCode(secret, t.clock.now()), { ip: '10.0.0.1', userAgent: 'x' });
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect((await t.accounts.authenticate(done.issued.token))?.principal.role).toBe('operator');
  });
});
