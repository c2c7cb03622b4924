/**
 * The Users, Security and Risk pages and API tokens over the fake api and the real admin layer
 * (in-memory parts): what each page lists, and what each command changes and audits.
 */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../runtime/accounts/index.ts';
import { USER_SUSPENDED_REASON } from '../../../runtime/api.ts';
import { TEST_PASSWORD, enrolTotp, ensureRoleUser, signInAs } from '../../support/accounts.ts';
import { HX, postForm, setup } from './support.ts';

const rowIds = (html: string) => [...html.matchAll(/data-user-id="([^"]+)"/g)].map((m) => m[1]);

describe('the users list', () => {
  it('lists every account with its total P&L, current drawdown, bots and last sign-in', async () => {
    const { as } = setup();
    await as('user').session();
    const res = await as('operator').request('/users');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="users-table"');
    const ada = html.slice(html.indexOf('id="user-u-17"'), html.indexOf('</tr>', html.indexOf('id="user-u-17"')));
    // t-0001: PV 10,234.56 on 10,000; t-0004 has no PV yet.
    expect(ada).toContain('<span class="pos">234.56</span>');
    expect(ada).toContain('3.10 %');
    expect(ada).toContain('<span class="pos">2</span> / 2');
    const grace = html.slice(html.indexOf('id="user-u-42"'), html.indexOf('</tr>', html.indexOf('id="user-u-42"')));
    expect(grace).toContain('<span class="neg">-500.00</span>');
    expect(grace).toContain('8.20 %');
    expect(grace).toContain('1 paused');
  });

  it('sorts by P&L (unknown last), filters on running bots, role and text', async () => {
    const { as } = setup();
    await as('user').session();
    const op = as('operator');
    const byPnl = rowIds(await (await op.request('/users?sort=pnl&order=desc')).text());
    expect(byPnl.slice(0, 2)).toEqual(['u-17', 'u-42']);
    expect(rowIds(await (await op.request('/users?sort=pnl&order=asc')).text()).slice(0, 2)).toEqual(['u-42', 'u-17']);
    expect(rowIds(await (await op.request('/users?sort=mdd&order=desc')).text()).slice(0, 2)).toEqual(['u-42', 'u-17']);
    expect(rowIds(await (await op.request('/users?running=yes')).text())).toEqual(['u-17']);
    expect(rowIds(await (await op.request('/users?running=no&role=user')).text()).sort()).toEqual(['u-42', 'u-51']);
    expect(rowIds(await (await op.request('/users?q=GRACE')).text())).toEqual(['u-42']);
  });

  it('answers a bad filter with 400 and a sentence', async () => {
    const { as } = setup();
    const res = await as('operator').request('/users?sort=nonsense&page=-1');
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('sort must be one of joined, email, pnl, mdd, lastSignIn, bots');
    expect(html).toContain('page must be a whole number');
  });

  it('shows Users, Risk and Security in the navigation of administrators and operators only', async () => {
    const { as } = setup();
    for (const role of ['viewer', 'user', 'manager'] as const) {
      const html = await (await as(role).request('/bots')).text();
      for (const label of ['>Users<', '>Risk<', '>Security<']) expect(html, role).not.toContain(label);
    }
    const html = await (await as('admin').request('/bots')).text();
    for (const label of ['>Users<', '>Risk<', '>Security<']) expect(html).toContain(label);
  });
});

describe('a user’s detail', () => {
  it('shows keys and their status, bots and strategies, positions with liquidation risk, errors, violations and sessions', async () => {
    const { as } = setup();
    await as('user').session();
    const html = await (await as('operator').request('/users/u-17')).text();
    expect(html).toContain('id="user-summary"');
    expect(html).toContain('Ada main');
    expect(html).toContain('…1234');
    expect(html).toContain('data-key-status="valid"');
    expect(html).toContain('alpha-btc');
    expect(html).toContain('momentum@2 ×2');
    expect(html).toContain('BTCUSDT');
    expect(html).toContain('no liquidation price');
    expect(html).toContain('insufficient margin');
    expect(html).toContain('id="suspend-form"');
    expect(html).toContain('Active sessions');
    const grace = await (await as('operator').request('/users/u-42')).text();
    expect(grace).toContain('daily loss 12.4 % reached the limit 10 %');
    expect(grace).toContain('venue answered 401: invalid API key');
    expect(grace).toContain('1 open');
  });

  it('answers an unknown user with 404 and a malformed id with 400', async () => {
    const { as } = setup();
    expect((await as('operator').request('/users/u-nobody')).status).toBe(404);
    expect((await as('operator').request(`/users/${encodeURIComponent("x' OR 1=1 --")}`)).status).toBe(400);
  });
});

describe('suspending a user', () => {
  it('blocks sign-in, ends their sessions, pauses their bots, and reinstating undoes it, audited', async () => {
    const { as, api, raw, t } = setup();
    const ada = await as('user').session();
    const op = as('operator');
    const res = await postForm(op, '/users/u-17/suspend', { reason: 'chargeback under review' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-status="suspended"');
    expect(html).toContain('Ada suspended: 1 session ended, 2 bots paused');
    expect(api.getBot('t-0001')).toMatchObject({ status: 'paused', pause: { reason: USER_SUSPENDED_REASON, scope: 'trader', by: 'Otto Operator' } });
    expect(api.getBot('t-0004')?.status).toBe('paused');
    expect(api.getBot('t-0002')?.status).toBe('paused'); // another user's bot is untouched (it was paused by risk)
    expect(api.getBot('t-0002')?.pause?.scope).toBe('risk');
    // Her session is over and she cannot sign in again.
    const after = await raw.request('/bots', { headers: { Cookie: ada.cookie } });
    expect(after.status).toBe(302);
    await expect(signInAs(t, 'user')).rejects.toThrow(/suspended/);
    const [entry] = await t.accounts.store.audit.list({ limit: 1, action: 'user.suspend' });
    expect(entry).toMatchObject({
      actorUserId: 'u-operator',
      targetId: 'u-17',
      outcome: 'ok',
      before: { status: 'active' },
      after: { status: 'suspended', reason: 'chargeback under review', sessionsEnded: 1, botsPaused: ['t-0001', 't-0004'] },
    });

    const back = await postForm(op, '/users/u-17/unsuspend', { reason: 'resolved' });
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('data-status="active"');
    expect(api.getBot('t-0001')?.status).toBe('running');
    expect(api.getBot('t-0002')?.pause?.scope).toBe('risk');
    expect((await signInAs(t, 'user')).cookie).toMatch(/^fleet_session=/);
    expect((await t.accounts.store.audit.list({ limit: 1, action: 'user.unsuspend' }))[0]).toMatchObject({ before: { status: 'suspended' }, after: { status: 'active' } });
  });

  it('requires a reason, refuses oneself, an admin (for an operator), a second suspension and an unknown user', async () => {
    const { as, t } = setup();
    await as('user').session();
    await ensureRoleUser(t.accounts, 'admin');
    const op = as('operator');
    const noReason = await postForm(op, '/users/u-17/suspend', { reason: '   ' });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toContain('Not suspended: a reason is required.');
    expect((await postForm(op, '/users/u-operator/suspend', { reason: 'x' })).status).toBe(403);
    const admin = await postForm(op, '/users/u-admin/suspend', { reason: 'x' });
    expect(admin.status).toBe(403);
    expect(await admin.text()).toContain('only an administrator may suspend an admin account');
    expect((await postForm(op, '/users/u-17/suspend', { reason: 'first' })).status).toBe(200);
    expect((await postForm(op, '/users/u-17/suspend', { reason: 'again' })).status).toBe(409);
    expect((await postForm(op, '/users/u-nobody/suspend', { reason: 'x' })).status).toBe(404);
    expect((await t.accounts.store.users.get('u-admin'))?.status).toBe('active');
  });

  it('lets an administrator Force Logout from the user page', async () => {
    const { as, raw } = setup();
    const ada = await as('user').session();
    const res = await postForm(as('admin'), '/users/u-17/force-logout', { view: 'summary' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Ada: 1 session ended');
    expect((await raw.request('/bots', { headers: { Cookie: ada.cookie } })).status).toBe(302);
  });
});

describe('exchange keys', () => {
  it('is where /security leads, the area the navigation calls Security', async () => {
    const { as } = setup();
    const res = await as('operator').request('/security');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/security/keys');
  });

  it('lists each key with its owner, status and reason, and its history', async () => {
    const { as } = setup();
    await as('user').session();
    const html = await (await as('operator').request('/security/keys')).text();
    expect(html).toContain('id="keys-table"');
    for (const label of ['Ada main', 'Grace okx', 'Linus bybit']) expect(html).toContain(label);
    expect(html).toContain('venue answered 401: invalid API key');
    expect(html).toContain('data-key-status="unchecked"');
    expect(html).toContain('id="key-history"');
    expect(html).toMatch(/>created</);
    expect(html).not.toContain('secret-secret');
    const filtered = await (await as('operator').request('/security/keys?status=invalid')).text();
    expect(filtered).toContain('Grace okx');
    expect(filtered).not.toContain('Linus bybit');
  });

  it('revokes, disables and enables a key with a reason, audited with before and after', async () => {
    const { as, admin, t } = setup();
    const op = as('operator');
    const disabled = await postForm(op, '/security/keys/xk-0003/disable', { reason: 'user asked' });
    expect(disabled.status).toBe(200);
    expect(await disabled.text()).toContain('data-key-status="disabled"');
    const enabled = await postForm(op, '/security/keys/xk-0003/enable', { reason: 'back in use' });
    expect(await enabled.text()).toContain('data-key-status="unchecked"');
    const revoked = await postForm(op, '/security/keys/xk-0003/revoke', { reason: 'leaked in a log' });
    const html = await revoked.text();
    expect(html).toContain('data-key-status="revoked"');
    expect(html).toContain('leaked in a log');
    expect((await admin.keys.get('xk-0003'))?.status).toBe('revoked');
    const again = await postForm(op, '/security/keys/xk-0003/revoke', { reason: 'again' });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('is revoked: it cannot be revoked');
    expect((await postForm(op, '/security/keys/xk-0001/revoke', {})).status).toBe(400);
    expect((await postForm(op, '/security/keys/xk-9999/revoke', { reason: 'x' })).status).toBe(404);
    const revokes = await t.accounts.store.audit.list({ limit: 10, targetType: 'exchange_key', action: 'exchange_key.revoke' });
    expect(revokes.map((e) => e.outcome)).toEqual(['refused', 'ok']);
    expect(revokes[1]).toMatchObject({
      actorUserId: 'u-operator',
      targetId: 'xk-0003',
      before: { status: 'unchecked' },
      after: { status: 'revoked', statusReason: 'leaked in a log' },
    });
    expect(admin.keys.events.map((e) => e.action)).toContain('revoked');
  });
});

describe('risk violations', () => {
  it('lists the violation with the automatic pause it caused, and releases it (audited), resuming the bot', async () => {
    const { as, api, t } = setup();
    const op = as('operator');
    const html = await (await op.request('/security/violations')).text();
    expect(html).toContain('id="violation-1"');
    expect(html).toContain('daily loss 12.4 % reached the limit 10 %');
    expect(html).toContain('risk (risk): daily stop-loss hit (-5.0 %)');
    expect(html).toContain('data-action="release"');
    const res = await postForm(op, '/security/violations/1/release', { reason: 'loss accepted by the desk' });
    expect(res.status).toBe(200);
    const row = await res.text();
    expect(row).toContain('data-status="released"');
    expect(row).toContain('violation #1 released; the bot resumed');
    expect(api.getBot('t-0002')?.status).toBe('running');
    expect((await t.accounts.store.audit.list({ limit: 1, action: 'risk.release' }))[0]).toMatchObject({
      actorUserId: 'u-operator',
      actorLabel: 'Otto Operator',
      targetId: 't-0002',
      before: { violationId: 1, status: 'open' },
      after: { violationId: 1, status: 'released', resumed: true },
    });
    expect((await postForm(op, '/security/violations/1/release', { reason: 'again' })).status).toBe(409);
    expect((await postForm(op, '/security/violations/77/release', { reason: 'x' })).status).toBe(404);
    expect((await postForm(op, '/security/violations/abc/release', { reason: 'x' })).status).toBe(400);
  });

  it('keeps the bot of a suspended user paused when its violation is released', async () => {
    const { as, api } = setup();
    const op = as('operator');
    expect((await postForm(op, '/users/u-42/suspend', { reason: 'fraud check' })).status).toBe(200);
    const res = await postForm(op, '/security/violations/1/release', { reason: 'loss accepted' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('its user grace@test.example is suspended');
    expect(api.getBot('t-0002')?.status).toBe('paused');
  });
});

describe('sign-in security', () => {
  it('shows failures by address, an address with 5 failures in an hour, a new address for an account, and 2FA history', async () => {
    const { as, t } = setup();
    const viewer = await ensureRoleUser(t.accounts, 'viewer');
    for (let i = 0; i < 6; i++) await t.accounts.signIn('viewer@test.example', 'wrong password!!', { ip: '203.0.113.9', userAgent: 'x' });
    // The lockout after 5 failures would refuse the next sign-ins: let it expire.
    t.clock.advance(16 * 60_000);
    const op = as('operator');
    await op.session();
    await t.accounts.signIn(viewer.email, TEST_PASSWORD, { ip: '10.0.0.1', userAgent: 'x' });
    t.clock.advance(60_000);
    await t.accounts.signIn(viewer.email, TEST_PASSWORD, { ip: '198.51.100.7', userAgent: 'x' });
    await enrolTotp(t, 'u-operator');
    const html = await (await op.request('/security/sign-ins')).text();
    expect(html).toContain('6 failures within an hour');
    expect(html).toContain('203.0.113.9');
    expect(html).toContain('new address for the account');
    expect(html).toContain('198.51.100.7');
    expect(html).toContain('known: 10.0.0.1');
    expect(html).toContain('2fa_enabled');
    expect((await op.request('/security/sign-ins?hours=0')).status).toBe(400);
  });
});

describe('the audit log page', () => {
  it('filters by action and pages backwards', async () => {
    const { as, t } = setup();
    const op = as('operator');
    await op.session();
    for (let i = 0; i < 105; i++) {
      await t.accounts.audit.record({ actor: { userId: 'u-operator', label: 'Otto Operator', ip: '127.0.0.1' }, action: 'bot.pause', target: { type: 'trader', id: `t-${i}` }, message: `pause ${i}` });
    }
    await t.accounts.audit.record({ actor: { userId: 'u-operator', label: 'Otto Operator', ip: '127.0.0.1' }, action: 'user.suspend', target: { type: 'user', id: 'u-42' }, message: 'one' });
    const only = await (await op.request('/security/audit?action=user.suspend')).text();
    expect([...only.matchAll(/data-action="([^"]+)"/g)].map((m) => m[1])).toEqual(['user.suspend']);
    const first = await (await op.request('/security/audit?action=bot.pause')).text();
    expect(first.match(/data-audit-id=/g)).toHaveLength(100);
    const older = /href="\/security\/audit\?([^"]+)" id="audit-older"/.exec(first)?.[1]?.replaceAll('&amp;', '&');
    expect(older).toContain('beforeId=');
    const second = await (await op.request(`/security/audit?${older}`)).text();
    expect(second.match(/data-audit-id=/g)).toHaveLength(5);
    expect(second).not.toContain('id="audit-older"');
    expect((await op.request('/security/audit?since=yesterday')).status).toBe(400);
    const none = await (await op.request('/security/audit?until=2000-01-01T00:00')).text();
    expect(none).toContain('No audit entries match.');
  });
});

describe('risk policies', () => {
  it('shows the platform defaults and the overrides, and saves new defaults (audited before and after)', async () => {
    const { as, admin, t } = setup();
    const op = as('operator');
    const page = await (await op.request('/risk')).text();
    expect(page).toContain('id="platform-policy"');
    expect(page).toContain('id="user-policies"');
    expect(page).toContain('u-51');
    const res = await postForm(op, '/risk/policies', { scope: 'platform', scopeId: 'platform', dailyStopLossPct: '8', totalStopLossPct: '25', maxLeverage: '5' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('risk policy of the platform saved');
    expect((await admin.risk.policies()).find((p) => p.scope === 'platform')).toMatchObject({ dailyStopLossPct: 8, totalStopLossPct: 25, maxLeverage: 5, updatedBy: 'Otto Operator' });
    expect((await t.accounts.store.audit.list({ limit: 1, action: 'risk.policy_set' }))[0]).toMatchObject({
      before: { dailyStopLossPct: 10, totalStopLossPct: 30, maxLeverage: 10 },
      after: { dailyStopLossPct: 8, totalStopLossPct: 25, maxLeverage: 5 },
    });
  });

  it('refuses limits out of range, blank platform limits and unknown targets, storing nothing', async () => {
    const { as, admin } = setup();
    const op = as('operator');
    await admin.ready;
    const before = await admin.risk.policies();
    const bad = await postForm(op, '/risk/policies', { scope: 'platform', scopeId: 'platform', dailyStopLossPct: '150', totalStopLossPct: '25', maxLeverage: '5' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('dailyStopLossPct must be at most 100');
    expect((await postForm(op, '/risk/policies', { scope: 'platform', scopeId: 'platform', dailyStopLossPct: '', totalStopLossPct: '25', maxLeverage: '5' })).status).toBe(400);
    expect((await postForm(op, '/risk/policies', { scope: 'user', scopeId: 'u-42', dailyStopLossPct: '1e3' })).status).toBe(400);
    expect((await postForm(op, '/risk/policies', { scope: 'user', scopeId: 'u-nobody', dailyStopLossPct: '5' })).status).toBe(404);
    expect(await admin.risk.policies()).toEqual(before);
  });

  it('sets and removes a bot’s own limits', async () => {
    const { as, admin } = setup();
    const op = as('operator');
    expect((await postForm(op, '/risk/policies', { scope: 'trader', scopeId: 't-0001', maxLeverage: '2' })).status).toBe(200);
    expect(await admin.risk.policyFor({ id: 't-0001', userId: 'u-17' })).toMatchObject({ maxLeverage: 2, sources: { maxLeverage: 'trader', dailyStopLossPct: 'platform' } });
    expect((await postForm(op, '/risk/policies/clear', { scope: 'trader', scopeId: 't-0001' })).status).toBe(200);
    expect((await admin.risk.policyFor({ id: 't-0001', userId: 'u-17' })).sources.maxLeverage).toBe('platform');
    expect((await postForm(op, '/risk/policies/clear', { scope: 'trader', scopeId: 't-0001' })).status).toBe(404);
  });

  it('shows a viewer-free page: managers, users and viewers may not open it', async () => {
    const { as } = setup();
    for (const role of ['viewer', 'user', 'manager'] as const) expect((await as(role).request('/risk')).status).toBe(403);
  });
});

describe('API tokens on the account page', () => {
  it('creates a token shown once (only its hash stored), lists it, and revokes it', async () => {
    const { as, raw, t } = setup();
    const op = as('operator');
    const created = await postForm(op, '/account/tokens', { name: 'grafana', scope: 'read', expiresInDays: '30' }, { htmx: false });
    expect(created.status).toBe(200);
    const html = await created.text();
    const token = /id="new-token">(fleet_[A-Za-z0-9_-]{43})</.exec(html)?.[1];
    expect(token).toBeDefined();
    const [record] = await t.accounts.store.apiTokens.listForUser('u-operator');
    expect(record).toMatchObject({ name: 'grafana', scope: 'read', tokenHash: sha256Hex(token!) });
    expect(JSON.stringify(record)).not.toContain(token);
    const account = await (await op.request('/account')).text();
    expect(account).toContain('grafana');
    expect(account).not.toContain(token);
    expect((await raw.request('/api/v1/bots', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    const revoked = await postForm(op, `/account/tokens/${record!.id}/revoke`, {}, { htmx: false });
    expect(revoked.status).toBe(200);
    expect(await revoked.text()).toContain('is revoked');
    expect((await raw.request('/api/v1/bots', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await t.accounts.store.audit.list({ limit: 5, targetType: 'api_token' })).map((e) => e.action)).toEqual(['account.api_token_revoked', 'account.api_token_created']);
  });

  it('refuses a token without a name, with a bad scope or expiry, and another user’s token', async () => {
    const { as, t } = setup();
    const viewer = as('viewer');
    expect((await postForm(viewer, '/account/tokens', { name: '', scope: 'read' }, { htmx: false })).status).toBe(400);
    expect((await postForm(viewer, '/account/tokens', { name: 'x', scope: 'admin' }, { htmx: false })).status).toBe(400);
    expect((await postForm(viewer, '/account/tokens', { name: 'x', scope: 'read', expiresInDays: '9999' }, { htmx: false })).status).toBe(400);
    const op = await ensureRoleUser(t.accounts, 'operator');
    const theirs = await t.accounts.createApiToken(op.id, 'ops', 'write');
    expect((await postForm(viewer, `/account/tokens/${theirs.record.id}/revoke`, {}, { htmx: false })).status).toBe(404);
    expect((await t.accounts.store.apiTokens.listForUser(op.id))[0]?.revokedAt).toBeNull();
    expect(await t.accounts.store.apiTokens.listForUser('u-viewer')).toEqual([]);
  });
});

describe('injection strings in free text', () => {
  it('stores a reason as text and renders it escaped everywhere', async () => {
    const { as, t } = setup();
    const op = as('operator');
    const reason = `<script>alert(1)</script>'; DROP TABLE users; --`;
    expect((await postForm(op, '/users/u-42/suspend', { reason })).status).toBe(200);
    expect((await t.accounts.store.audit.list({ limit: 1, action: 'user.suspend' }))[0]?.after).toMatchObject({ reason });
    for (const path of ['/security/audit', '/users/u-42']) {
      const html = await (await op.request(path)).text();
      expect(html, path).not.toContain('<script>alert(1)</script>');
    }
    expect(await (await op.request('/security/audit')).text()).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect((await t.accounts.store.users.list()).length).toBeGreaterThan(0);
  });
});

describe('htmx fragments', () => {
  it('answers a suspension from the user page with the refreshed page and status bar, not a whole document', async () => {
    const { as } = setup();
    await as('user').session();
    const res = await as('operator').request('/users/u-17/suspend', {
      method: 'POST',
      headers: { ...HX, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost' },
      body: 'reason=test',
    });
    const html = await res.text();
    expect(html.startsWith('<div class="page" id="user-page">')).toBe(true);
    expect(html).toContain('data-status="suspended"');
    expect(html).toContain('<hx-partial hx-target="#status-bar"');
    expect(html).not.toContain('<html');
  });
});
