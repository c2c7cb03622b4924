/**
 * The administration layer over a real runtime node (demo fleet, real actors, the SQL stores):
 * a suspension pauses every bot of the user whatever else holds it and reinstating lifts only
 * its own pause; a leverage violation raised by the node is listed and released through the
 * platform; keys, policies, sign-in attempts and the audit log go through the SQL repositories.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../runtime/clock.ts';
import { createAdminApi, type AdminApi, type AdminCaller } from '../../runtime/admin.ts';
import { dbTargets } from '../support/db.ts';
import { harness, type Harness } from '../support/runtime.ts';

const op: AdminCaller = { userId: 'u-operator', label: 'Olivia Operator', role: 'operator', ip: '192.0.2.10' };
const BOB = ['t-0003', 't-0004'];

describe.each(dbTargets())('administration on a real node ($name)', (target) => {
  let h: Harness;
  let admin: AdminApi;
  const view = (id: string) => h.node.traders().get(id)!;

  beforeAll(async () => {
    h = await harness(target.name);
    await h.start();
    await h.minute(1);
    const node = h.node;
    admin = createAdminApi({
      clock: systemClock,
      platform: node.api,
      accounts: node.accounts,
      store: node.store,
      keyStore: node.keyStore,
      risk: node.risk,
      positions: (id) => node.account(id)!.fetchPositions(),
      metricsCacheMs: 0,
    });
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('lists the demo users with total P&L = Σ (PV − initial capital) of their traders', async () => {
    const page = await admin.listUsers({ role: 'user', sort: 'email', order: 'asc' });
    expect(page.rows.map((r) => r.id)).toEqual(['u-alice', 'u-bob', 'u-carol', 'u-dave']);
    const bots = h.node.api.listBots().filter((b) => b.userId === 'u-bob');
    const expected = bots.reduce((s, b) => s + Number(b.portfolioValue) - 10_000, 0);
    const bob = page.rows.find((r) => r.id === 'u-bob')!;
    expect(Number(bob.totalPnl)).toBeCloseTo(expected, 2);
    expect(bob.bots).toEqual({ total: 2, running: 2, paused: 0, error: 0 });
    const detail = (await admin.userDetail('u-bob'))!;
    expect(detail.exchangeAccounts.map((a) => a.accountId)).toEqual(['paper:t-0003', 'paper:t-0004']);
    expect(detail.risk.policies.map((p) => p.policy.maxLeverage)).toEqual([10, 10]);
  });

  it('pauses every bot of a suspended user, even one its group holds, and reinstating lifts only that pause', async () => {
    expect((await h.node.api.pauseManager('m-alpha', { by: 'desk', reason: 'news' })).ok).toBe(true);
    const r = await admin.suspendUser('u-bob', op, 'chargeback');
    expect(r).toMatchObject({ ok: true, value: { bots: { changed: BOB } } });
    for (const id of BOB) expect(view(id).pauses).toMatchObject({ trader: { reason: 'user suspended', by: 'Olivia Operator' }, manager: { reason: 'news' } });
    // The group resumes: Bob's bots stay paused by the suspension, the others run.
    expect((await h.node.api.resumeManager('m-alpha', { by: 'desk' })).ok).toBe(true);
    expect(view('t-0001').status).toBe('running');
    for (const id of BOB) expect(view(id).status).toBe('paused');
    const last = view('t-0003').lastCycleAt;
    await h.minute(1);
    expect(view('t-0003').lastCycleAt).toBe(last);
    expect(view('t-0001').lastCycleAt).toBe(h.node.lastCandleAt());

    // Reinstated while the group is paused again: the group's pause still holds them.
    await h.node.api.pauseManager('m-alpha', { by: 'desk', reason: 'second' });
    expect(await admin.unsuspendUser('u-bob', op, 'cleared')).toMatchObject({ ok: true, value: { bots: { changed: BOB } } });
    for (const id of BOB) {
      expect(view(id).status).toBe('paused');
      expect(view(id).pauses.trader).toBeUndefined();
      expect(view(id).pauses.manager?.reason).toBe('second');
    }
    await h.node.api.resumeManager('m-alpha', { by: 'desk' });
    for (const id of BOB) expect(view(id).status).toBe('running');
    const audit = await h.node.accounts.store.audit.list({ limit: 10, targetType: 'user', targetId: 'u-bob' });
    expect(audit.map((e) => e.action)).toEqual(['user.unsuspend', 'user.resume_bots', 'user.suspend', 'user.pause_bots']);
    expect(audit[2]).toMatchObject({ ip: '192.0.2.10', before: { status: 'active' }, after: { status: 'suspended' } });
  });

  it('lists the violations a policy change raises and releases one, resuming the bot', async () => {
    expect(await admin.setPolicy({ scope: 'platform', scopeId: 'platform', dailyStopLossPct: 10, totalStopLossPct: 30, maxLeverage: 1 }, op)).toMatchObject({ ok: true });
    await h.minute(1);
    const open = await admin.listViolations({ status: 'open' });
    // The demo traders with leverage above 1.
    expect(open.map((v) => v.traderId).sort()).toEqual(['t-0001', 't-0003', 't-0004', 't-0005', 't-0008']);
    expect(open.find((v) => v.traderId === 't-0001')).toMatchObject({ policy: 'maxLeverage', traderStatus: 'paused', pause: { scope: 'risk', by: 'risk' } });
    expect(view('t-0001').status).toBe('paused');

    expect(await admin.setPolicy({ scope: 'platform', scopeId: 'platform', dailyStopLossPct: 10, totalStopLossPct: 30, maxLeverage: 10 }, op)).toMatchObject({ ok: true });
    const id = open.find((v) => v.traderId === 't-0001')!.id;
    const r = await admin.releaseViolation(id, op, 'cap raised back');
    expect(r).toMatchObject({ ok: true, value: { resumed: true, note: null } });
    expect(view('t-0001').status).toBe('running');
    const page = await admin.auditLog({ actionPrefix: 'risk.', limit: 50 });
    expect(page.entries[0]).toMatchObject({ action: 'risk.release', ip: '192.0.2.10', targetId: 't-0001', after: { resumed: true } });
    expect(page.entries.filter((e) => e.action === 'risk.pause')).toHaveLength(5);
    expect(page.entries.filter((e) => e.action === 'risk.policy_set')).toHaveLength(2);
    const first = page.entries.at(-1)!;
    const window = await admin.auditLog({ actionPrefix: 'risk.', since: first.at, until: first.at, limit: 50 });
    expect(window.entries.every((e) => e.at === first.at)).toBe(true);
    expect((await admin.auditLog({ since: Date.now() + 86_400_000 })).entries).toEqual([]);
  });

  it('revokes and disables exchange keys through the sealed key store, with history', async () => {
    const key = await h.node.keyStore.add({ userId: 'u-carol', exchange: 'bybit', label: 'Carol bybit', apiKey: 'CAROLKEY000000000000ABCD', secret: 'carol-secret-000000000001' }, 'Carol Park');
    expect(await admin.disableKey(key.id, op, 'user on holiday')).toMatchObject({ ok: true, value: { status: 'disabled' } });
    expect(await admin.revokeKey(key.id, op, 'leaked')).toMatchObject({ ok: true, value: { status: 'revoked', statusReason: 'leaked' } });
    expect(await admin.enableKey(key.id, op, 'oops')).toMatchObject({ ok: false, code: 'conflict' });
    expect((await admin.listKeys({ userId: 'u-carol' }))[0]).toMatchObject({ userEmail: 'carol@example.com', status: 'revoked' });
    expect((await admin.keyHistory({ keyId: key.id })).map((e) => e.action)).toEqual(['revoked', 'disabled', 'created']);
  });

  it('finds an address with many failed sign-ins in the stored attempts', async () => {
    for (let i = 0; i < 5; i++) await h.node.accounts.signIn('dave@example.com', 'not the password at all', { ip: '203.0.113.50', userAgent: 'x' });
    const view = await admin.signInSecurity({ hours: 1 });
    expect(view.suspicious).toContainEqual(expect.objectContaining({ kind: 'many_failures', ip: '203.0.113.50', failures: 5, emails: ['dave@example.com'] }));
    expect(view.byIp[0]).toMatchObject({ ip: '203.0.113.50', failures: 5 });
  });
});
