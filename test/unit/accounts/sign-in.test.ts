import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD, createTestAccounts, ensureRoleUser } from '../../support/accounts.ts';

const MIN = 60_000;
const client = (ip = '10.0.0.1') => ({ ip, userAgent: 'vitest' });

describe('sign-in', () => {
  it('signs in with the right password, case-insensitively on the email, and records it', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    const r = await t.accounts.signIn(u.email.toUpperCase(), TEST_PASSWORD, client());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.needsSecondFactor).toBe(false);
    expect((await t.accounts.store.users.get(u.id))!.lastSignInIp).toBe('10.0.0.1');
    expect(await t.accounts.store.attempts.recent({ limit: 1 })).toMatchObject([{ ok: true, reason: 'ok', userId: u.id }]);
  });

  it('refuses a wrong password and an unknown email with the same message', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    const wrong = await t.accounts.signIn(u.email, 'not the password', client());
    const unknown = await t.accounts.signIn('nobody@example.com', TEST_PASSWORD, client());
    expect(wrong).toEqual({ ok: false, refusal: 'invalid', message: 'The email or password is incorrect.' });
    expect(unknown).toEqual(wrong);
  });

  it('locks an account for 15 minutes after 5 failures, even against the right password', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    for (let i = 0; i < 5; i++) expect((await t.accounts.signIn(u.email, 'wrong password!', client())).ok).toBe(false);
    const locked = await t.accounts.signIn(u.email, TEST_PASSWORD, client());
    expect(locked).toMatchObject({ ok: false, refusal: 'locked', message: 'Too many failed sign-ins: try again in 15 minutes.', retryAfterMs: 15 * MIN });
    t.clock.advance(14 * MIN);
    expect(await t.accounts.signIn(u.email, TEST_PASSWORD, client())).toMatchObject({ refusal: 'locked', message: 'Too many failed sign-ins: try again in 1 minute.' });
    t.clock.advance(MIN);
    expect((await t.accounts.signIn(u.email, TEST_PASSWORD, client())).ok).toBe(true);
  });

  it('starts counting again after a success', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    for (let i = 0; i < 4; i++) await t.accounts.signIn(u.email, 'wrong password!', client());
    expect((await t.accounts.signIn(u.email, TEST_PASSWORD, client())).ok).toBe(true);
    for (let i = 0; i < 4; i++) await t.accounts.signIn(u.email, 'wrong password!', client());
    expect((await t.accounts.signIn(u.email, TEST_PASSWORD, client())).ok).toBe(true);
  });

  it('answers an unknown email that failed 5 times as locked too (no account enumeration)', async () => {
    const t = createTestAccounts();
    for (let i = 0; i < 5; i++) await t.accounts.signIn('ghost@example.com', 'wrong password!', client(`10.0.1.${i}`));
    expect(await t.accounts.signIn('ghost@example.com', 'wrong password!', client('10.0.2.1'))).toMatchObject({ refusal: 'locked' });
  });

  it('limits one address to 20 attempts in 10 minutes, without checking the password', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    for (let i = 0; i < 20; i++) await t.accounts.signIn(`someone${i}@example.com`, 'guess', client('10.9.9.9'));
    const limited = await t.accounts.signIn(u.email, TEST_PASSWORD, client('10.9.9.9'));
    expect(limited).toMatchObject({ ok: false, refusal: 'rate_limited', retryAfterMs: 10 * MIN });
    expect((await t.accounts.signIn(u.email, TEST_PASSWORD, client('10.0.0.2'))).ok).toBe(true);
    t.clock.advance(10 * MIN + 1);
    expect((await t.accounts.signIn(u.email, TEST_PASSWORD, client('10.9.9.9'))).ok).toBe(true);
  });

  it('refuses a suspended account only once the password is right', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    await t.accounts.store.users.setStatus(u.id, 'suspended');
    expect(await t.accounts.signIn(u.email, 'wrong password!', client())).toMatchObject({ refusal: 'invalid' });
    expect(await t.accounts.signIn(u.email, TEST_PASSWORD, client())).toMatchObject({ refusal: 'suspended' });
  });

  it('rehashes a password made with an older cost on sign-in', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    const { createPasswordHasher } = await import('../../../runtime/accounts/index.ts');
    const old = await createPasswordHasher({ memoryCost: 512, timeCost: 1, parallelism: 1 }).hash(TEST_PASSWORD);
    await t.accounts.store.users.setPassword(u.id, old, 0);
    expect((await t.accounts.signIn(u.email, TEST_PASSWORD, client())).ok).toBe(true);
    expect((await t.accounts.store.users.get(u.id))!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$/);
  });

  it('changes a password only with the current one, ends the other sessions and audits it', async () => {
    const t = createTestAccounts();
    const u = await ensureRoleUser(t.accounts, 'viewer');
    const a = await t.accounts.signIn(u.email, TEST_PASSWORD, client());
    const b = await t.accounts.signIn(u.email, TEST_PASSWORD, client());
    if (!a.ok || !b.ok) throw new Error('sign-in failed');
    const actor = { userId: u.id, label: u.displayName, ip: '10.0.0.1' };
    expect(await t.accounts.changePassword(actor, u.id, 'wrong', 'a brand new passphrase', a.issued.session.id)).toEqual({ ok: false, error: 'the current password is incorrect' });
    expect(await t.accounts.changePassword(actor, u.id, TEST_PASSWORD, 'short', a.issued.session.id)).toEqual({ ok: false, error: 'the password must be at least 12 characters' });
    expect(await t.accounts.changePassword(actor, u.id, TEST_PASSWORD, 'a brand new passphrase', a.issued.session.id)).toEqual({ ok: true });
    expect(await t.accounts.authenticate(a.issued.token)).not.toBeNull();
    expect(await t.accounts.authenticate(b.issued.token)).toBeNull();
    expect((await t.accounts.signIn(u.email, 'a brand new passphrase', client())).ok).toBe(true);
    expect((await t.accounts.store.audit.list({ limit: 1 }))[0]).toMatchObject({ action: 'account.password_changed', targetId: u.id });
  });
});
