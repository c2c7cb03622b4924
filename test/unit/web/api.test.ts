/**
 * The JSON API under /api/v1: bearer tokens (hashed at rest, revocable, read-only scope) and
 * sessions with their CSRF header, zod validation with 400 issues, 401/403/404/409 as JSON,
 * answers that match the documented schemas, and the OpenAPI document.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { sha256Hex } from '../../../runtime/accounts/index.ts';
import { ROUTES } from '../../../web/index.ts';
import { ApiSchemas as S, OPERATIONS, routePath } from '../../../web/api/index.ts';
import { ensureRoleUser } from '../../support/accounts.ts';
import { ORIGIN, setup } from './support.ts';

type Setup = ReturnType<typeof setup>;

/** A bearer token of a role's user. */
async function tokenOf(s: Setup, role: 'admin' | 'operator' | 'manager' | 'user' | 'viewer', scope: 'read' | 'write' = 'write') {
  const u = await ensureRoleUser(s.t.accounts, role);
  return s.t.accounts.createApiToken(u.id, `${role}-${scope}`, scope);
}

function call(s: Setup, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return s.raw.request(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

/** The error of a JSON error answer. */
async function errorOf(res: Response): Promise<{ code: string; message: string; issues: { path: string; message: string }[] }> {
  return ((await res.json()) as { error: { code: string; message: string; issues: { path: string; message: string }[] } }).error;
}

/** Parses an answer with its documented schema (fails the test when they disagree). */
async function conforms<T extends z.ZodType>(res: Response, schema: T): Promise<z.output<T>> {
  const json: unknown = await res.json();
  const r = schema.safeParse(json);
  if (!r.success) throw new Error(`answer does not match its documented schema: ${JSON.stringify(r.error.issues.slice(0, 3))}`);
  return r.data;
}

describe('API tokens', () => {
  it('stores only the hash, authenticates a bearer token, and refuses it once revoked', async () => {
    const s = setup();
    const { token, record } = await tokenOf(s, 'operator');
    expect(record.tokenHash).toBe(sha256Hex(token));
    const stored = await s.t.accounts.store.apiTokens.findByHash(sha256Hex(token));
    expect(JSON.stringify(stored)).not.toContain(token);
    const me = await call(s, token, 'GET', '/api/v1/me');
    expect(await conforms(me, S.MeAnswer)).toMatchObject({ id: 'u-operator', role: 'operator', via: 'token', readOnly: false });
    await s.t.accounts.store.apiTokens.revoke(record.id, s.t.clock.now());
    const after = await call(s, token, 'GET', '/api/v1/bots');
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: { code: 'unauthenticated', message: 'Sign in or send a bearer token.' } });
  });

  it('lets a read token of any role read and never change anything', async () => {
    const s = setup();
    for (const role of ['admin', 'operator'] as const) {
      const { token } = await tokenOf(s, role, 'read');
      expect((await call(s, token, 'GET', '/api/v1/users')).status).toBe(200);
      const res = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', {});
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
      expect((await call(s, token, 'POST', '/api/v1/users/u-42/suspend', { reason: 'x' })).status).toBe(403);
    }
    expect(s.api.calls.filter((c) => c.method === 'pauseBot')).toEqual([]);
    expect((await s.t.accounts.store.users.get('u-42'))?.status).toBe('active');
  });

  it('gives a viewer token read access to bots and no POST at all', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'viewer');
    const bots = await call(s, token, 'GET', '/api/v1/bots');
    expect((await conforms(bots, S.BotsAnswer)).total).toBe(4);
    for (const path of ['/api/v1/bots/t-0001/pause', '/api/v1/platform/pause-all', '/api/v1/keys/xk-0001/revoke']) {
      expect((await call(s, token, 'POST', path, { reason: 'x' })).status, path).toBe(403);
    }
    expect((await call(s, token, 'GET', '/api/v1/users')).status).toBe(403);
  });

  it('scopes a user token to the user’s own bots', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'user');
    const bots = await conforms(await call(s, token, 'GET', '/api/v1/bots'), S.BotsAnswer);
    expect(bots.bots.map((b) => b.id)).toEqual(['t-0001', 't-0004']);
    expect((await call(s, token, 'GET', '/api/v1/bots/t-0003')).status).toBe(404);
    expect((await call(s, token, 'POST', '/api/v1/bots/t-0003/pause', {})).status).toBe(403);
    expect((await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', { reason: 'mine' })).status).toBe(200);
    expect(s.api.getBot('t-0001')?.status).toBe('paused');
  });
});

describe('sessions on the API', () => {
  it('needs the session’s X-CSRF-Token header to change anything', async () => {
    const s = setup();
    const session = await s.as('operator').session();
    const post = (headers: Record<string, string>) =>
      s.raw.request('/api/v1/bots/t-0001/pause', { method: 'POST', headers: { Cookie: session.cookie, 'Content-Type': 'application/json', Origin: ORIGIN, ...headers }, body: '{}' });
    const without = await post({});
    expect(without.status).toBe(403);
    expect(await without.json()).toMatchObject({ error: { code: 'csrf' } });
    expect(s.api.getBot('t-0001')?.status).toBe('running');
    expect((await post({ 'X-CSRF-Token': session.csrf })).status).toBe(200);
  });
});

describe('validation', () => {
  it('answers wrong types, unknown fields, oversize text and missing fields with 400 and the issues', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const wrongType = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', { reason: 42 });
    expect(wrongType.status).toBe(400);
    expect(await conforms(wrongType, S.ErrorBody)).toEqual({
      error: { code: 'invalid_request', message: 'Invalid body: reason: reason must be text.', issues: [{ path: 'reason', message: 'reason must be text' }] },
    });
    const unknown = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', { reason: 'x', by: 'someone else' });
    expect(unknown.status).toBe(400);
    expect((await errorOf(unknown)).issues[0]?.message).toMatch(/Unrecognized key.*by/);
    const long = await call(s, token, 'POST', '/api/v1/users/u-42/suspend', { reason: 'x'.repeat(501) });
    expect(long.status).toBe(400);
    expect((await errorOf(long)).message).toBe('Invalid body: reason: reason is longer than 500 characters.');
    const missing = await call(s, token, 'POST', '/api/v1/platform/pause-all', {});
    expect(missing.status).toBe(400);
    expect((await errorOf(missing)).issues).toEqual([{ path: 'reason', message: 'reason is required and must be text' }]);
    const badQuery = await call(s, token, 'GET', '/api/v1/users?limit=0&sort=up&extra=1');
    expect(badQuery.status).toBe(400);
    expect((await errorOf(badQuery)).issues.map((i: { path: string }) => i.path).sort()).toEqual(['', 'limit', 'sort']);
    expect(s.api.calls.filter((c) => ['pauseBot', 'pauseAll'].includes(c.method))).toEqual([]);
    expect((await s.t.accounts.store.users.get('u-42'))?.status).toBe('active');
  });

  it('answers broken JSON, a non-object body, a form body and a malformed id with 4xx JSON', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const broken = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', '{"reason":');
    expect(broken.status).toBe(400);
    expect((await errorOf(broken)).code).toBe('invalid_json');
    expect((await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', '[1,2]')).status).toBe(400);
    const form = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', undefined, { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(200); // an empty body is no reason at all
    const formBody = await s.raw.request('/api/v1/bots/t-0002/resume', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'reason=x',
    });
    expect(formBody.status).toBe(415);
    expect((await errorOf(formBody)).code).toBe('unsupported_media_type');
    const text = await s.raw.request('/api/v1/bots/t-0002/resume', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    expect((await errorOf(text)).code).toBe('unsupported_media_type');
    const injected = await call(s, token, 'GET', `/api/v1/users/${encodeURIComponent("u-1' OR '1'='1")}`);
    expect(injected.status).toBe(400);
    expect((await errorOf(injected)).issues[0]?.path).toBe('id');
    expect((await call(s, token, 'POST', '/api/v1/violations/1e3/release', { reason: 'x' })).status).toBe(400);
    const nowhere = await call(s, token, 'GET', '/api/v1/nowhere');
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('answers a body over the limit with 413 JSON', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const res = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', JSON.stringify({ reason: 'x'.repeat(300 * 1024) }));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
  });
});

describe('operations', () => {
  it('pauses, resumes and restarts a bot, refusing what the state does not allow with 409', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const paused = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', { reason: 'news' });
    expect(await conforms(paused, S.CommandAnswer)).toEqual({ ok: true, message: 'alpha-btc paused' });
    expect(s.api.getBot('t-0001')?.pause).toMatchObject({ by: 'Otto Operator', reason: 'news' });
    const again = await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', {});
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ error: { code: 'refused', message: 'alpha-btc is already paused' } });
    expect((await call(s, token, 'POST', '/api/v1/bots/t-0001/resume')).status).toBe(200);
    expect((await call(s, token, 'POST', '/api/v1/bots/t-0003/restart', {})).status).toBe(200);
    expect((await call(s, token, 'POST', '/api/v1/bots/t-9999/pause', {})).status).toBe(404);
  });

  it('pauses and resumes all trading', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    expect((await call(s, token, 'POST', '/api/v1/platform/pause-all', { reason: 'exchange incident' })).status).toBe(200);
    expect(s.api.platformStatus().tradingPaused).toBe(true);
    expect((await call(s, token, 'POST', '/api/v1/platform/pause-all', { reason: 'again' })).status).toBe(409);
    expect((await call(s, token, 'POST', '/api/v1/platform/resume-all', {})).status).toBe(200);
  });

  it('lists, filters and sorts users, and shows one', async () => {
    const s = setup();
    await s.as('user').session();
    const { token } = await tokenOf(s, 'operator');
    const page = await conforms(await call(s, token, 'GET', '/api/v1/users?sort=pnl&order=desc&role=user'), S.UsersAnswer);
    expect(page.users.map((u) => [u.id, u.totalPnl, u.mdd])).toEqual([
      ['u-17', '234.56', 0.031],
      ['u-42', '-500.00', 0.082],
      ['u-51', null, null],
    ]);
    const running = await conforms(await call(s, token, 'GET', '/api/v1/users?hasRunningBots=true'), S.UsersAnswer);
    expect(running.users.map((u) => u.id)).toEqual(['u-17']);
    const detail = await conforms(await call(s, token, 'GET', '/api/v1/users/u-42'), S.UserDetailAnswer);
    expect(detail.keys.map((k) => k.status)).toEqual(['invalid']);
    expect(detail.risk.openViolations).toHaveLength(1);
    expect(JSON.stringify(detail)).not.toMatch(/csrf|tokenHash|passwordHash|secret-secret/i);
    expect((await call(s, token, 'GET', '/api/v1/users/u-nobody')).status).toBe(404);
  });

  it('suspends and reinstates a user, and refuses what the caller may not do', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const res = await call(s, token, 'POST', '/api/v1/users/u-42/suspend', { reason: 'chargeback' });
    expect(await conforms(res, S.CommandAnswer)).toMatchObject({ ok: true, result: { sessionsEnded: 0, bots: { changed: ['t-0002'] } } });
    expect((await call(s, token, 'POST', '/api/v1/users/u-42/suspend', { reason: 'again' })).status).toBe(409);
    expect((await call(s, token, 'POST', '/api/v1/users/u-operator/suspend', { reason: 'me' })).status).toBe(403);
    expect((await call(s, token, 'POST', '/api/v1/users/u-42/unsuspend')).status).toBe(200);
    expect((await call(s, token, 'POST', '/api/v1/users/u-42/force-logout', {})).status).toBe(403);
    const admin = await tokenOf(s, 'admin');
    expect(await (await call(s, admin.token, 'POST', '/api/v1/users/u-42/force-logout', {})).json()).toMatchObject({ ok: true, result: { sessionsEnded: 0 } });
  });

  it('lists keys and their history, and revokes, disables and enables one', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const keys = await conforms(await call(s, token, 'GET', '/api/v1/keys?status=invalid'), S.KeysAnswer);
    expect(keys.keys.map((k) => [k.id, k.statusReason])).toEqual([['xk-0002', 'venue answered 401: invalid API key']]);
    expect((await call(s, token, 'POST', '/api/v1/keys/xk-0001/disable', { reason: 'rotation' })).status).toBe(200);
    expect((await call(s, token, 'POST', '/api/v1/keys/xk-0001/enable', { reason: 'rotated' })).status).toBe(200);
    expect((await call(s, token, 'POST', '/api/v1/keys/xk-0001/revoke', { reason: 'leaked' })).status).toBe(200);
    expect((await call(s, token, 'POST', '/api/v1/keys/xk-0001/revoke', { reason: 'leaked' })).status).toBe(409);
    expect((await call(s, token, 'POST', '/api/v1/keys/xk-0404/revoke', { reason: 'x' })).status).toBe(404);
    const history = await conforms(await call(s, token, 'GET', '/api/v1/keys/history?keyId=xk-0001'), S.KeyHistoryAnswer);
    expect(history.events.map((e) => e.action)).toEqual(['revoked', 'changed', 'disabled', 'validated', 'created']);
  });

  it('lists violations and releases one', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const open = await conforms(await call(s, token, 'GET', '/api/v1/violations?status=open'), S.ViolationsAnswer);
    expect(open.violations.map((v) => [v.id, v.traderName, v.pause?.scope])).toEqual([[1, 'alpha-eth', 'risk']]);
    const released = await call(s, token, 'POST', '/api/v1/violations/1/release', { reason: 'accepted' });
    expect(await released.json()).toMatchObject({ ok: true, result: { resumed: true, violation: { status: 'released', releasedBy: 'Otto Operator' } } });
    expect((await call(s, token, 'POST', '/api/v1/violations/1/release', { reason: 'again' })).status).toBe(409);
    expect((await call(s, token, 'POST', '/api/v1/violations/42/release', { reason: 'x' })).status).toBe(404);
  });

  it('reads, sets and removes risk policies', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    const before = await conforms(await call(s, token, 'GET', '/api/v1/policies'), S.PoliciesAnswer);
    expect(before.platform).toMatchObject({ dailyStopLossPct: 10, totalStopLossPct: 30, maxLeverage: 10 });
    expect((await call(s, token, 'PUT', '/api/v1/policies/user/u-42', { dailyStopLossPct: 4, totalStopLossPct: null, maxLeverage: 2 })).status).toBe(200);
    const bad = await call(s, token, 'PUT', '/api/v1/policies/platform/platform', { dailyStopLossPct: null, totalStopLossPct: 20, maxLeverage: 5 });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toBe('the platform policy must set every limit');
    expect((await call(s, token, 'PUT', '/api/v1/policies/platform/u-42', { dailyStopLossPct: 1, totalStopLossPct: 2, maxLeverage: 3 })).status).toBe(400);
    expect((await call(s, token, 'PUT', '/api/v1/policies/user/u-42', { dailyStopLossPct: '4' })).status).toBe(400);
    expect((await call(s, token, 'DELETE', '/api/v1/policies/user/u-42')).status).toBe(200);
    expect((await call(s, token, 'DELETE', '/api/v1/policies/user/u-42')).status).toBe(404);
    expect((await call(s, token, 'DELETE', '/api/v1/policies/platform/platform')).status).toBe(409);
    const after = await conforms(await call(s, token, 'GET', '/api/v1/policies'), S.PoliciesAnswer);
    expect(after.users.map((p) => p.scopeId)).toEqual(['u-51']);
  });

  it('reads sign-in security and the audit log, filtered and paged', async () => {
    const s = setup();
    const { token } = await tokenOf(s, 'operator');
    await call(s, token, 'POST', '/api/v1/bots/t-0001/pause', {});
    for (let i = 0; i < 3; i++) await s.t.accounts.audit.record({ actor: { userId: null, label: 'risk', ip: '' }, action: 'risk.pause', target: { type: 'trader', id: 't-0002' } });
    const signIns = await conforms(await call(s, token, 'GET', '/api/v1/sign-ins?hours=24'), S.SignInsAnswer);
    expect(signIns.failures).toEqual([]);
    const page = await conforms(await call(s, token, 'GET', '/api/v1/audit?actionPrefix=risk.&limit=2'), S.AuditAnswer);
    expect(page.entries.map((e) => e.action)).toEqual(['risk.pause', 'risk.pause']);
    expect(page.nextBeforeId).not.toBeNull();
    const rest = await conforms(await call(s, token, 'GET', `/api/v1/audit?actionPrefix=risk.&limit=2&beforeId=${page.nextBeforeId}`), S.AuditAnswer);
    expect(rest.entries).toHaveLength(1);
    expect(rest.nextBeforeId).toBeNull();
    const since = await conforms(await call(s, token, 'GET', '/api/v1/audit?since=2030-01-01T00:00Z'), S.AuditAnswer);
    expect(since.entries).toEqual([]);
    expect((await call(s, token, 'GET', '/api/v1/audit?since=tomorrow')).status).toBe(400);
  });
});

describe('the OpenAPI document', () => {
  it('is public, OpenAPI 3.1, and documents exactly the API routes of the route table', async () => {
    const s = setup();
    const res = await s.raw.request('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${routePath(p)}`));
    const routed = ROUTES.filter((r) => r.path.startsWith('/api/v1/')).map((r) => `${r.method} ${r.path}`);
    expect(documented.sort()).toEqual(routed.sort());
    expect(OPERATIONS).toHaveLength(routed.length);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'Bot', 'User', 'ExchangeKey', 'RiskViolation', 'RiskPolicy', 'AuditEntry']));
    // Every $ref resolves.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    for (const r of refs) expect(doc.components.schemas, r).toHaveProperty(r);
  });

  it('documents the same limits the routes enforce', async () => {
    const s = setup();
    const doc = (await (await s.raw.request('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: { properties: Record<string, { maxLength?: number }>; required?: string[] } } } }; parameters?: { name: string; in: string }[] }>>;
    };
    const suspend = doc.paths['/users/{id}/suspend']!['post']!;
    expect(suspend.requestBody!.content['application/json'].schema.properties['reason']!.maxLength).toBe(500);
    expect(suspend.requestBody!.content['application/json'].schema.required).toEqual(['reason']);
    expect(suspend.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })]);
    const users = doc.paths['/users']!['get']!;
    expect(users.parameters!.map((p) => p.name)).toEqual(['q', 'role', 'status', 'hasRunningBots', 'sort', 'order', 'limit', 'offset']);
  });
});
