/**
 * The administration layer on its own: liquidation risk, suspicious sign-ins, and the rules of
 * its commands (who may suspend whom, what a release does when something else still holds a
 * bot), over the fake api and in-memory parts.
 */
import { describe, expect, it } from 'vitest';
import type { SignInAttempt } from '../../../runtime/accounts/index.ts';
import { failureBursts, liquidationRisk, newAddressSignIns, type AdminCaller } from '../../../runtime/admin.ts';
import { ensureRoleUser, createTestAccounts } from '../../support/accounts.ts';
import { createFakeApi, T0 } from '../../support/fake-api.ts';
import { createTestAdmin } from '../../support/fake-admin.ts';

const op: AdminCaller = { userId: 'u-operator', label: 'Otto Operator', role: 'operator', ip: '10.0.0.5' };
const adminCaller: AdminCaller = { userId: 'u-admin', label: 'Ada Admin', role: 'admin', ip: '10.0.0.6' };

function fixture() {
  const api = createFakeApi();
  const t = createTestAccounts();
  return { api, t, ...createTestAdmin(api, t.accounts, t.clock) };
}

const attempt = (ip: string, at: number, ok = false, email = 'a@x.example', userId: string | null = 'u-a'): SignInAttempt => ({
  email,
  userId,
  ip,
  at,
  ok,
  reason: ok ? 'ok' : 'bad_password',
});

describe('liquidationRisk', () => {
  it('grades the distance from the mark to the liquidation price', () => {
    expect(liquidationRisk('100', null)).toEqual({ distance: null, risk: 'none' });
    expect(liquidationRisk('100', '97')).toMatchObject({ risk: 'high' });
    expect(liquidationRisk('100', '90')).toMatchObject({ risk: 'medium' });
    expect(liquidationRisk('100', '120')).toMatchObject({ risk: 'low' });
    expect(liquidationRisk('100', '120').distance).toBeCloseTo(0.2, 12);
    expect(liquidationRisk('not a number', '1')).toEqual({ distance: null, risk: 'none' });
    expect(liquidationRisk('0', '1')).toEqual({ distance: null, risk: 'none' });
  });
});

describe('suspicious sign-ins', () => {
  it('flags an address with 5 failures inside one hour, not 5 spread over more', () => {
    const spread = [0, 20, 40, 60, 80].map((m) => attempt('198.51.100.1', T0 + m * 60_000));
    expect(failureBursts(spread)).toEqual([]);
    const burst = [0, 10, 20, 30, 40, 50].map((m, i) => attempt('203.0.113.7', T0 + m * 60_000, false, i % 2 ? 'b@x.example' : 'a@x.example'));
    expect(failureBursts([...spread, ...burst])).toEqual([
      { kind: 'many_failures', ip: '203.0.113.7', failures: 6, from: T0, to: T0 + 50 * 60_000, emails: ['a@x.example', 'b@x.example'] },
    ]);
  });

  it('flags a successful sign-in from an address new to the account, but not an account’s first', () => {
    const attempts = [attempt('10.0.0.1', T0, true), attempt('10.0.0.1', T0 + 1000, true), attempt('10.0.0.2', T0 + 2000, true), attempt('10.0.0.9', T0 + 3000, true, 'c@x.example', 'u-c')];
    expect(newAddressSignIns(attempts, T0)).toEqual([{ kind: 'new_ip', ip: '10.0.0.2', userId: 'u-a', email: 'a@x.example', at: T0 + 2000, knownIps: ['10.0.0.1'] }]);
    // Outside the period shown: not listed (but still known for later sign-ins).
    expect(newAddressSignIns(attempts, T0 + 2500)).toEqual([]);
  });
});

describe('users', () => {
  it('pages the list and reports the total', async () => {
    const f = fixture();
    await ensureRoleUser(f.t.accounts, 'viewer');
    const page = await f.admin.listUsers({ sort: 'email', order: 'asc', limit: 2, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.rows.map((r) => r.email)).toEqual(['linus@test.example', 'viewer@test.example']);
  });

  it('keeps a suspension when pausing the bots fails, and says so in the audit log', async () => {
    const f = fixture();
    f.api.throwNext('actor system unavailable');
    const r = await f.admin.suspendUser('u-42', op, 'fraud');
    expect(r).toMatchObject({ ok: true, value: { bots: null } });
    expect(r.ok && r.message).toContain('bots not paused: actor system unavailable');
    expect((await f.t.accounts.store.users.get('u-42'))?.status).toBe('suspended');
    expect((await f.t.accounts.store.audit.list({ limit: 1, action: 'user.suspend' }))[0]?.after).toMatchObject({ botsError: 'actor system unavailable' });
  });

  it('lets an administrator suspend an operator but not an operator another operator, nor anyone themselves', async () => {
    const f = fixture();
    await ensureRoleUser(f.t.accounts, 'operator');
    await f.t.accounts.createUser({ id: 'u-op2', email: 'op2@test.example', displayName: 'Op Two', role: 'operator', password: null });
    expect(await f.admin.suspendUser('u-op2', op, 'x')).toMatchObject({ ok: false, code: 'forbidden' });
    expect((await f.t.accounts.store.audit.list({ limit: 1, action: 'user.suspend' }))[0]).toMatchObject({ outcome: 'refused', actorUserId: 'u-operator' });
    expect(await f.admin.suspendUser('u-operator', op, 'x')).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await f.admin.suspendUser('u-op2', adminCaller, 'x')).toMatchObject({ ok: true });
    expect(await f.admin.unsuspendUser('u-op2', op)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await f.admin.unsuspendUser('u-op2', adminCaller)).toMatchObject({ ok: true });
  });
});

describe('releasing a violation', () => {
  it('leaves the bot paused while another violation of it is open', async () => {
    const f = fixture();
    await f.ready;
    await f.riskStore.insertViolation({ at: T0, traderId: 't-0002', userId: 'u-42', policy: 'maxLeverage', observed: '12', limit: '10', message: 'leverage 12 is above the cap 10' });
    const r = await f.admin.releaseViolation(1, op, 'accepted');
    expect(r).toMatchObject({ ok: true, value: { resumed: false, note: 'still open: #2 maxLeverage' } });
    expect(f.api.getBot('t-0002')?.status).toBe('paused');
    expect(f.store.eventRows[0]).toMatchObject({ type: 'risk.released', traderId: 't-0002', message: expect.stringContaining('stays paused (still open: #2 maxLeverage)') });
    expect((await f.t.accounts.store.audit.list({ limit: 1, action: 'risk.release' }))[0]).toMatchObject({ ip: '10.0.0.5', after: { resumed: false } });
  });

  it('says why the bot stays paused when the platform refuses the resume', async () => {
    const f = fixture();
    await f.api.pauseAll({ by: 'x', reason: 'incident' });
    const r = await f.admin.releaseViolation(1, op, 'accepted');
    expect(r).toMatchObject({ ok: true, value: { resumed: false, note: 'trading is paused platform-wide by x' } });
    expect(f.store.eventRows[0]?.message).toContain('stays paused: trading is paused platform-wide by x');
  });

  it('refuses a blank reason, an unknown violation and a released one', async () => {
    const f = fixture();
    expect(await f.admin.releaseViolation(1, op, '  ')).toMatchObject({ ok: false, code: 'invalid' });
    expect(await f.admin.releaseViolation(9, op, 'x')).toMatchObject({ ok: false, code: 'not_found' });
    expect(await f.admin.releaseViolation(1, op, 'x')).toMatchObject({ ok: true });
    expect(await f.admin.releaseViolation(1, op, 'x')).toMatchObject({ ok: false, code: 'conflict' });
  });
});
