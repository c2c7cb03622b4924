import { describe, expect, it } from 'vitest';
import { totpCode } from '../../../runtime/accounts/index.ts';
import { TEST_PASSWORD, createTestAccounts, enrolTotp, ensureRoleUser } from '../../support/accounts.ts';

const client = { ip: '10.0.0.1', userAgent: 'vitest' };

async function pendingSession(t: ReturnType<typeof createTestAccounts>, email: string) {
  const r = await t.accounts.signIn(email, TEST_PASSWORD, client);
  if (!r.ok) throw new Error(r.message);
  expect(r.needsSecondFactor).toBe(true);
  return r.issued;
}

describe('two-factor authentication', () => {
  it('enrols with a pending secret sealed at rest, enabled only by a matching code, and audits it', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'operator');
    const begun = await t.accounts.beginTotpEnrolment(u.id);
    if (!begun.ok) throw new Error(begun.error);
    const stored = await t.accounts.store.users.get(u.id);
    expect(stored!.totpEnabled).toBe(false);
    expect(stored!.totpSecret).toMatch(/^v1\.k[0-9a-f]{8}\./);
    expect(stored!.totpSecret).not.toContain(begun.value.secret);
    // Reloading the page keeps the same secret (an app that already scanned it still works).
    const again = await t.accounts.beginTotpEnrolment(u.id);
    expect(again.ok && again.value.secret).toBe(begun.value.secret);

    const actor = { userId: u.id, label: u.displayName, ip: '10.0.0.1' };
    expect(await t.accounts.confirmTotpEnrolment(actor, u.id, '000000')).toMatchObject({ ok: false });
    const done = await t.accounts.confirmTotpEnrolment(actor, u.id, totpCode(begun.value.secret, t.clock.now()));
    expect(done.ok).toBe(true);
    expect(done.ok && done.value.recoveryCodes).toHaveLength(10);
    expect((await t.accounts.store.users.get(u.id))!.totpEnabled).toBe(true);
    expect(await t.accounts.recoveryCodesLeft(u.id)).toBe(10);
    expect((await t.accounts.store.audit.list({ limit: 1 }))[0]).toMatchObject({
      action: 'account.2fa_enabled',
      actorUserId: u.id,
      ip: '10.0.0.1',
      before: { totpEnabled: false },
      after: { totpEnabled: true, recoveryCodes: 10 },
    });
    expect((await t.accounts.beginTotpEnrolment(u.id)).ok).toBe(false);
  });

  it('asks for the second factor after the password, and completes with a TOTP code in a new session', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'operator');
    const { secret } = await enrolTotp(t, u.id);
    t.clock.advance(30_000);
    const pending = await pendingSession(t, u.email);
    expect(pending.session.mfaVerified).toBe(false);
    const auth = await t.accounts.authenticate(pending.token);
    expect(auth?.session.mfaVerified).toBe(false);
    const done = await t.accounts.verifySecondFactor(pending.session, totpCode(secret, t.clock.now()), client);
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect(done.issued.token).not.toBe(pending.token);
    expect(done.issued.session.mfaVerified).toBe(true);
    expect(await t.accounts.authenticate(pending.token)).toBeNull();
  });

  it('refuses the same code twice (replay), even within its 30 seconds', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'operator');
    const { secret } = await enrolTotp(t, u.id);
    t.clock.advance(30_000);
    const code = totpCode(secret, t.clock.now());
    const first = await t.accounts.verifySecondFactor((await pendingSession(t, u.email)).session, code, client);
    expect(first.ok).toBe(true);
    const replay = await t.accounts.verifySecondFactor((await pendingSession(t, u.email)).session, code, client);
    expect(replay).toMatchObject({ ok: false, refusal: 'invalid', message: 'That code is not valid (or was already used): wait for the next one.' });
    // The enrolment's own code is spent too.
    t.clock.advance(30_000);
    expect((await t.accounts.verifySecondFactor((await pendingSession(t, u.email)).session, totpCode(secret, t.clock.now()), client)).ok).toBe(true);
  });

  it('accepts each recovery code once, and audits its use', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'operator');
    const { recoveryCodes } = await enrolTotp(t, u.id);
    const code = recoveryCodes[3]!;
    const ok = await t.accounts.verifySecondFactor((await pendingSession(t, u.email)).session, code.toUpperCase(), client);
    expect(ok).toMatchObject({ ok: true, usedRecoveryCode: true, recoveryCodesLeft: 9 });
    const again = await t.accounts.verifySecondFactor((await pendingSession(t, u.email)).session, code, client);
    expect(again).toMatchObject({ ok: false, message: 'That recovery code is not valid or was already used.' });
    expect((await t.accounts.store.audit.list({ limit: 5, action: 'account.recovery_code_used' }))).toHaveLength(1);
  });

  it('counts wrong codes towards the lockout and ends the pending session when it locks', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'operator');
    const { secret } = await enrolTotp(t, u.id);
    const pending = await pendingSession(t, u.email);
    for (let i = 0; i < 4; i++) expect(await t.accounts.verifySecondFactor(pending.session, '000000', client)).toMatchObject({ refusal: 'invalid' });
    expect(await t.accounts.verifySecondFactor(pending.session, '000001', client)).toMatchObject({ refusal: 'locked' });
    t.clock.advance(30_000);
    expect(await t.accounts.verifySecondFactor(pending.session, totpCode(secret, t.clock.now()), client)).toMatchObject({ refusal: 'expired' });
  });

  it('gives a pending session 5 minutes for its second factor', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'operator');
    const { secret } = await enrolTotp(t, u.id);
    const pending = await pendingSession(t, u.email);
    t.clock.advance(5 * 60_000);
    expect(await t.accounts.verifySecondFactor(pending.session, totpCode(secret, t.clock.now()), client)).toMatchObject({ refusal: 'expired' });
  });

  it('disables 2FA only with a fresh code, refuses it for roles that require 2FA, and audits both', async () => {
    const t = createTestAccounts({ require2faRoles: ['admin'] });
    const v = await ensureRoleUser(t.accounts, 'viewer');
    const { secret } = await enrolTotp(t, v.id);
    const actor = { userId: v.id, label: v.displayName, ip: '10.0.0.1' };
    t.clock.advance(30_000);
    expect(await t.accounts.disableTotp(actor, v.id, '000000')).toMatchObject({ ok: false });
    expect(await t.accounts.disableTotp(actor, v.id, totpCode(secret, t.clock.now()))).toEqual({ ok: true });
    expect((await t.accounts.store.users.get(v.id))!.totpEnabled).toBe(false);
    expect(await t.accounts.recoveryCodesLeft(v.id)).toBe(0);
    expect((await t.accounts.store.audit.list({ limit: 1 }))[0]).toMatchObject({ action: 'account.2fa_disabled', outcome: 'ok', after: { totpEnabled: false } });

    const a = await ensureRoleUser(t.accounts, 'admin');
    const admin = await enrolTotp(t, a.id);
    t.clock.advance(30_000);
    const refused = await t.accounts.disableTotp({ userId: a.id, label: 'Ada', ip: '' }, a.id, totpCode(admin.secret, t.clock.now()));
    expect(refused).toEqual({ ok: false, error: 'two-factor authentication is required for the admin role and cannot be disabled' });
    expect((await t.accounts.store.audit.list({ limit: 1 }))[0]).toMatchObject({ action: 'account.2fa_disabled', outcome: 'refused' });
  });

  it('requires enrolment for the configured roles only', async () => {
    const t = createTestAccounts({ require2faRoles: ['admin', 'operator'] });
    expect(t.accounts.mustEnrol2fa(await ensureRoleUser(t.accounts, 'admin'))).toBe(true);
    expect(t.accounts.mustEnrol2fa(await ensureRoleUser(t.accounts, 'manager'))).toBe(false);
    const op = await ensureRoleUser(t.accounts, 'operator');
    await enrolTotp(t, op.id);
    expect(t.accounts.mustEnrol2fa((await t.accounts.store.users.get(op.id))!)).toBe(false);
  });

  it('replaces the recovery codes with a fresh code, invalidating the old ones', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'operator');
    const { secret, recoveryCodes } = await enrolTotp(t, u.id);
    t.clock.advance(30_000);
    const r = await t.accounts.regenerateRecoveryCodes({ userId: u.id, label: 'x', ip: '' }, u.id, totpCode(secret, t.clock.now()));
    expect(r.ok).toBe(true);
    const old = await t.accounts.verifySecondFactor((await pendingSession(t, u.email)).session, recoveryCodes[0]!, client);
    expect(old.ok).toBe(false);
    const fresh = await t.accounts.verifySecondFactor((await pendingSession(t, u.email)).session, r.ok ? r.value.recoveryCodes[0]! : '', client);
    expect(fresh.ok).toBe(true);
  });
});
