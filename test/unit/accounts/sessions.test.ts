import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../runtime/accounts/index.ts';
import { createTestAccounts, signInAs } from '../../support/accounts.ts';

const MIN = 60_000;

describe('sessions', () => {
  it('stores only the hash of the cookie token, with a CSRF token and both expiries', async () => {
    const t = createTestAccounts();
    const s = await signInAs(t, 'viewer');
    const stored = await t.accounts.store.sessions.get(sha256Hex(s.token));
    expect(stored).not.toBeNull();
    expect(stored!.id).not.toBe(s.token);
    expect(stored!.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stored!.idleExpiresAt).toBe(t.clock.now() + 30 * MIN);
    expect(stored!.absoluteExpiresAt).toBe(t.clock.now() + 12 * 60 * MIN);
    expect(stored!.mfaVerified).toBe(true);
  });

  it('ends a session left idle for 30 minutes', async () => {
    const t = createTestAccounts();
    const s = await signInAs(t, 'viewer');
    t.clock.advance(29 * MIN);
    expect(await t.accounts.authenticate(s.token)).not.toBeNull();
    t.clock.advance(30 * MIN + 1);
    expect(await t.accounts.authenticate(s.token)).toBeNull();
  });

  it('keeps an active session alive until its absolute expiry of 12 hours', async () => {
    const t = createTestAccounts();
    const s = await signInAs(t, 'viewer');
    for (let i = 0; i < 12 * 3 - 1; i++) {
      t.clock.advance(20 * MIN);
      expect(await t.accounts.authenticate(s.token)).not.toBeNull();
    }
    t.clock.advance(20 * MIN);
    expect(await t.accounts.authenticate(s.token)).toBeNull();
  });

  it('takes the expiries from the options', async () => {
    const t = createTestAccounts({ sessionIdleMs: 5 * MIN, sessionAbsoluteMs: 60 * MIN });
    const s = await signInAs(t, 'viewer');
    t.clock.advance(5 * MIN);
    expect(await t.accounts.authenticate(s.token)).toBeNull();
  });

  it('refuses tokens that are malformed or unknown', async () => {
    const t = createTestAccounts();
    expect(await t.accounts.authenticate('short')).toBeNull();
    expect(await t.accounts.authenticate('A'.repeat(43))).toBeNull();
  });

  it('ends a session on sign-out and tells listeners', async () => {
    const t = createTestAccounts();
    const s = await signInAs(t, 'viewer');
    const heard: string[] = [];
    t.accounts.onSessionsRevoked((ids) => heard.push(...ids));
    await t.accounts.signOut(s.token);
    expect(await t.accounts.authenticate(s.token)).toBeNull();
    expect(await t.accounts.isSessionActive(s.sessionId)).toBe(false);
    expect(heard).toEqual([s.sessionId]);
  });

  it('ends every session of a user on Force Logout and audits who did it', async () => {
    const t = createTestAccounts();
    const a = await signInAs(t, 'viewer');
    const b = await signInAs(t, 'viewer');
    const admin = await signInAs(t, 'admin');
    const n = await t.accounts.revokeAllSessions(a.user.id, 'left the company', { actor: { userId: admin.user.id, label: 'Ada Admin', ip: '10.0.0.9' } });
    expect(n).toBe(2);
    expect(await t.accounts.authenticate(a.token)).toBeNull();
    expect(await t.accounts.authenticate(b.token)).toBeNull();
    expect(await t.accounts.authenticate(admin.token)).not.toBeNull();
    const [entry] = await t.accounts.store.audit.list({ limit: 1 });
    expect(entry).toMatchObject({
      action: 'user.force_logout',
      actorUserId: 'u-admin',
      actorLabel: 'Ada Admin',
      ip: '10.0.0.9',
      targetType: 'user',
      targetId: a.user.id,
      outcome: 'ok',
      after: { sessionsEnded: 2 },
    });
  });

  it('ends the sessions of a suspended user at once', async () => {
    const t = createTestAccounts();
    const s = await signInAs(t, 'viewer');
    await t.accounts.store.users.setStatus(s.user.id, 'suspended');
    expect(await t.accounts.authenticate(s.token)).toBeNull();
  });

  it('gives a manager principal their groups', async () => {
    const t = createTestAccounts();
    const s = await signInAs(t, 'manager');
    expect((await t.accounts.authenticate(s.token))!.principal).toMatchObject({ role: 'manager', managerIds: ['m-alpha'] });
  });

  it('deletes sessions a week after they ended, and old sign-in attempts, on the hourly housekeeping', async () => {
    const t = createTestAccounts();
    const s = await signInAs(t, 'viewer');
    await t.accounts.signOut(s.token);
    t.clock.advance(7 * 24 * 60 * MIN + MIN);
    expect(await t.accounts.housekeeping()).toEqual({ sessions: 1, attempts: 0 });
    expect(await t.accounts.store.sessions.get(s.sessionId)).toBeNull();
    t.clock.advance(30 * 24 * 60 * MIN);
    expect((await t.accounts.housekeeping()).attempts).toBe(1);
  });
});
