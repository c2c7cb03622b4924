/**
 * Generated bad input (fast-check) against every form and every API route that takes input:
 * a missing required field, a value of the wrong type, an oversize value, injection strings and
 * garbage in constrained fields, unknown keys, broken JSON and malformed ids in the path. Each
 * must get a 4xx with a message (never a 2xx, a redirect or a 5xx), and nothing may change:
 * bots, accounts, sessions' sign-in attempts, tokens, keys, violations, policies, the audit log.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../../runtime/accounts/index.ts';
import { ROUTES, type RouteRule } from '../../../web/index.ts';
import { TEST_PASSWORD, enrolTotp, ensureRoleUser } from '../../support/accounts.ts';
import { ORIGIN, setup, type SignedInClient } from './support.ts';

/** What a field accepts. */
type Field =
  | { readonly kind: 'text'; readonly max: number; readonly required: boolean }
  | { readonly kind: 'enum'; readonly values: readonly string[]; readonly required: boolean }
  | { readonly kind: 'id'; readonly max: number; readonly required: boolean }
  | { readonly kind: 'number'; readonly required: boolean }
  | { readonly kind: 'email'; readonly max: number; readonly required: boolean }
  | { readonly kind: 'json-object'; readonly max: number; readonly required: boolean }
  /** A checkbox in a form (`on`), a boolean in JSON. */
  | { readonly kind: 'boolean'; readonly required: boolean };

const text = (max: number, required = false): Field => ({ kind: 'text', max, required });
const choice = (values: readonly string[], required = false): Field => ({ kind: 'enum', values, required });
const ident = (required = true): Field => ({ kind: 'id', max: 100, required });
const num = (required = false): Field => ({ kind: 'number', required });
const bool = (required = false): Field => ({ kind: 'boolean', required });

/** How the input travels. */
type Via = 'form' | 'json' | 'query';

/** One route that takes input, a valid request for it, and who sends it. */
interface InputCase {
  readonly key: string;
  readonly via: Via;
  /** Path parameters and their valid values (substituted into the route's path). */
  readonly params?: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, Field>>;
  /** A valid body or query (the mutations start from it). */
  readonly valid: Readonly<Record<string, string | number | null>>;
  readonly as?: Role | 'anonymous' | 'pending';
  /** Unknown keys are refused (the API's strict schemas; console forms ignore them). */
  readonly strict?: boolean;
}

const REASON = text(500);
const REQUIRED_REASON = text(500, true);
const LIMITS = { dailyStopLossPct: num(), totalStopLossPct: num(), maxLeverage: num() };

const CASES: readonly InputCase[] = [
  // Sign-in.
  { key: 'POST /sign-in', via: 'form', as: 'anonymous', fields: { email: { kind: 'email', max: 254, required: true }, password: text(256, true), next: text(500) }, valid: { email: 'viewer@test.example', password: 'x' } },
  { key: 'POST /sign-in/2fa', via: 'form', as: 'pending', fields: { code: { kind: 'id', max: 20, required: true }, next: text(500) }, valid: { code: '123456' } },
  // Bots, groups, the platform.
  ...(['pause', 'resume', 'restart'] as const).map((c): InputCase => ({ key: `POST /bots/:id/${c}`, via: 'form', params: { id: 't-0001' }, fields: { view: choice(['row', 'summary']), reason: REASON }, valid: {} })),
  { key: 'POST /bots/:id/reconcile', via: 'form', params: { id: 't-0001' }, fields: { decision: choice(['accept', 'recheck'], true), view: choice(['row', 'summary']), reason: REASON }, valid: { decision: 'recheck' } },
  {
    key: 'POST /bots/:id/strategy',
    via: 'form',
    params: { id: 't-0001' },
    fields: { ref: { kind: 'id', max: 300, required: true }, params: { kind: 'json-object', max: 100_000, required: false }, reason: REASON },
    valid: { ref: 'momentum@1' },
  },
  {
    key: 'POST /bots',
    via: 'form',
    fields: {
      name: text(64, true),
      userId: ident(),
      managerId: ident(),
      ref: { kind: 'id', max: 300, required: true },
      params: { kind: 'json-object', max: 100_000, required: false },
      account: ident(),
      initialCapital: num(true),
      leverage: num(true),
      startPaused: bool(),
    },
    valid: { name: 'fresh-bot', userId: 'u-42', managerId: 'm-alpha', ref: 'momentum@1', account: 'paper', initialCapital: '1000', leverage: '2' },
  },
  { key: 'GET /bots/new/keys', via: 'query', fields: { userId: ident(false) }, valid: {} },
  ...(['pause', 'resume'] as const).map((c): InputCase => ({ key: `POST /managers/:id/${c}`, via: 'form', params: { id: 'm-alpha' }, fields: { reason: REASON }, valid: {} })),
  { key: 'POST /platform/pause-all', via: 'form', fields: { reason: REQUIRED_REASON }, valid: { reason: 'drill' } },
  { key: 'POST /platform/resume-all', via: 'form', fields: { reason: REASON }, valid: {} },
  // One's own account.
  ...(['/account/2fa/verify', '/account/2fa/disable', '/account/2fa/recovery-codes'] as const).map(
    (p): InputCase => ({ key: `POST ${p}`, via: 'form', fields: { code: { kind: 'id', max: 20, required: true } }, valid: { code: '123456' } }),
  ),
  { key: 'POST /account/password', via: 'form', fields: { current: text(256, true), next: text(256, true), confirm: text(256, true) }, valid: { current: 'a', next: 'b', confirm: 'b' } },
  { key: 'POST /account/tokens', via: 'form', fields: { name: text(100, true), scope: choice(['read', 'write'], true), expiresInDays: num() }, valid: { name: 'ci', scope: 'read' } },
  { key: 'POST /account/tokens/:id/revoke', via: 'form', params: { id: 'tok_00' }, fields: {}, valid: {} },
  {
    key: 'POST /account/exchange-keys',
    via: 'form',
    fields: { exchange: choice(['binanceusdm', 'bybit', 'okx', 'bitget'], true), label: text(100, true), apiKey: { kind: 'id', max: 256, required: true }, secret: text(8192, true), passphrase: text(128) },
    valid: { exchange: 'binanceusdm', label: 'ci', apiKey: 'ABCDEFGHIJKLMNOP1234', secret: 'secret-secret-secret-0009' },
  },
  { key: 'POST /account/exchange-keys/:id/check', via: 'form', params: { id: 'xk-0001' }, fields: {}, valid: {} },
  { key: 'POST /account/exchange-keys/:id/delete', via: 'form', params: { id: 'xk-0001' }, fields: { reason: REASON }, valid: {} },
  // Users.
  { key: 'POST /users/:id/suspend', via: 'form', params: { id: 'u-42' }, fields: { reason: REQUIRED_REASON }, valid: { reason: 'x' } },
  { key: 'POST /users/:id/unsuspend', via: 'form', params: { id: 'u-42' }, fields: { reason: REASON }, valid: {} },
  { key: 'POST /users/:id/force-logout', via: 'form', params: { id: 'u-42' }, fields: { reason: REASON, next: text(500), view: choice(['summary']) }, valid: {} },
  // Security and risk.
  ...(['revoke', 'disable', 'enable'] as const).map((a): InputCase => ({ key: `POST /security/keys/:id/${a}`, via: 'form', params: { id: 'xk-0001' }, fields: { reason: REQUIRED_REASON }, valid: { reason: 'x' } })),
  { key: 'POST /security/violations/:id/release', via: 'form', params: { id: '1' }, fields: { reason: REQUIRED_REASON }, valid: { reason: 'x' } },
  {
    key: 'POST /risk/policies',
    via: 'form',
    fields: { scope: choice(['platform', 'user', 'trader'], true), scopeId: ident(), ...LIMITS },
    valid: { scope: 'platform', scopeId: 'platform', dailyStopLossPct: '10', totalStopLossPct: '30', maxLeverage: '10' },
  },
  { key: 'POST /risk/policies/clear', via: 'form', fields: { scope: choice(['user', 'trader'], true), scopeId: ident() }, valid: { scope: 'user', scopeId: 'u-51' } },
  // Console filters.
  { key: 'GET /bots', via: 'query', fields: { manager: text(200), status: choice(['starting', 'running', 'paused', 'error', 'stopped']), q: text(200), page: num() }, valid: {} },
  { key: 'GET /events/recent', via: 'query', fields: { limit: num() }, valid: {} },
  {
    key: 'GET /users',
    via: 'query',
    fields: {
      q: text(100),
      role: choice(['admin', 'operator', 'manager', 'user', 'viewer']),
      status: choice(['active', 'suspended']),
      running: choice(['yes', 'no']),
      sort: choice(['joined', 'email', 'pnl', 'mdd', 'lastSignIn', 'bots']),
      order: choice(['asc', 'desc']),
      page: num(),
    },
    valid: {},
  },
  { key: 'GET /users/:id', via: 'query', params: { id: 'u-42' }, fields: {}, valid: {} },
  { key: 'GET /security/keys', via: 'query', fields: { userId: ident(false), status: choice(['valid', 'invalid', 'revoked', 'disabled', 'unchecked']), exchange: choice(['binanceusdm', 'bybit', 'okx', 'bitget', 'paper']) }, valid: {} },
  { key: 'GET /security/violations', via: 'query', fields: { status: choice(['open', 'released', 'all']), userId: ident(false) }, valid: {} },
  { key: 'GET /security/sign-ins', via: 'query', fields: { hours: num() }, valid: {} },
  {
    key: 'GET /security/audit',
    via: 'query',
    fields: { actor: ident(false), action: { kind: 'id', max: 100, required: false }, targetType: { kind: 'id', max: 40, required: false }, since: num(), until: num(), beforeId: num() },
    valid: {},
  },
  // The JSON API.
  { key: 'GET /api/v1/bots', via: 'query', strict: true, fields: { status: choice(['starting', 'running', 'paused', 'error', 'stopped']), manager: ident(false), user: ident(false), q: text(100), limit: num(), offset: num() }, valid: {} },
  { key: 'GET /api/v1/bots/:id', via: 'query', strict: true, params: { id: 't-0001' }, fields: {}, valid: {} },
  {
    key: 'POST /api/v1/bots',
    via: 'json',
    strict: true,
    fields: {
      name: text(64, true),
      userId: ident(),
      managerId: ident(),
      strategy: { kind: 'id', max: 300, required: true },
      params: { kind: 'json-object', max: 100_000, required: false },
      venue: choice(['paper', 'binanceusdm', 'bybit', 'okx', 'bitget'], true),
      // Null is a valid keyId (paper): text excludes it from the bad values.
      keyId: text(100),
      initialCapital: text(24, true),
      leverage: num(true),
      startPaused: bool(),
    },
    valid: { name: 'fresh-bot', userId: 'u-42', managerId: 'm-alpha', strategy: 'momentum@1', venue: 'paper', initialCapital: '1000', leverage: 2 },
  },
  ...(['pause', 'resume', 'restart'] as const).map((c): InputCase => ({ key: `POST /api/v1/bots/:id/${c}`, via: 'json', strict: true, params: { id: 't-0001' }, fields: { reason: REASON }, valid: {} })),
  { key: 'POST /api/v1/bots/:id/reconcile', via: 'json', strict: true, params: { id: 't-0001' }, fields: { decision: choice(['accept', 'recheck'], true), reason: REASON }, valid: { decision: 'recheck' } },
  { key: 'POST /api/v1/platform/pause-all', via: 'json', strict: true, fields: { reason: REQUIRED_REASON }, valid: { reason: 'drill' } },
  { key: 'POST /api/v1/platform/resume-all', via: 'json', strict: true, fields: { reason: REASON }, valid: {} },
  {
    key: 'GET /api/v1/users',
    via: 'query',
    strict: true,
    fields: {
      q: text(100),
      role: choice(['admin', 'operator', 'manager', 'user', 'viewer']),
      status: choice(['active', 'suspended']),
      hasRunningBots: choice(['true', 'false']),
      sort: choice(['joined', 'email', 'pnl', 'mdd', 'lastSignIn', 'bots']),
      order: choice(['asc', 'desc']),
      limit: num(),
      offset: num(),
    },
    valid: {},
  },
  { key: 'GET /api/v1/users/:id', via: 'query', strict: true, params: { id: 'u-42' }, fields: {}, valid: {} },
  { key: 'POST /api/v1/users/:id/suspend', via: 'json', strict: true, params: { id: 'u-42' }, fields: { reason: REQUIRED_REASON }, valid: { reason: 'x' } },
  { key: 'POST /api/v1/users/:id/unsuspend', via: 'json', strict: true, params: { id: 'u-42' }, fields: { reason: REASON }, valid: {} },
  { key: 'POST /api/v1/users/:id/force-logout', via: 'json', strict: true, params: { id: 'u-42' }, fields: { reason: REASON }, valid: {} },
  { key: 'GET /api/v1/keys', via: 'query', strict: true, fields: { userId: ident(false), status: choice(['valid', 'invalid', 'revoked', 'disabled', 'unchecked']), exchange: choice(['binanceusdm', 'bybit', 'okx', 'bitget', 'paper']) }, valid: {} },
  { key: 'GET /api/v1/keys/history', via: 'query', strict: true, fields: { keyId: ident(false), userId: ident(false), limit: num() }, valid: {} },
  ...(['revoke', 'disable', 'enable'] as const).map((a): InputCase => ({ key: `POST /api/v1/keys/:id/${a}`, via: 'json', strict: true, params: { id: 'xk-0001' }, fields: { reason: REQUIRED_REASON }, valid: { reason: 'x' } })),
  { key: 'GET /api/v1/exchange-keys', via: 'query', strict: true, fields: {}, valid: {} },
  {
    key: 'POST /api/v1/exchange-keys',
    via: 'json',
    strict: true,
    fields: {
      exchange: choice(['binanceusdm', 'bybit', 'okx', 'bitget'], true),
      label: text(100, true),
      apiKey: { kind: 'id', max: 256, required: true },
      secret: text(8192, true),
      passphrase: text(128),
      userId: ident(false),
    },
    valid: { exchange: 'binanceusdm', label: 'ci', apiKey: 'ABCDEFGHIJKLMNOP1234', secret: 'secret-secret-secret-0009' },
  },
  { key: 'POST /api/v1/exchange-keys/:id/check', via: 'json', strict: true, params: { id: 'xk-0001' }, fields: {}, valid: {} },
  { key: 'DELETE /api/v1/exchange-keys/:id', via: 'json', strict: true, params: { id: 'xk-0001' }, fields: {}, valid: {} },
  { key: 'GET /api/v1/violations', via: 'query', strict: true, fields: { status: choice(['open', 'released']), traderId: ident(false), userId: ident(false), limit: num() }, valid: {} },
  { key: 'POST /api/v1/violations/:id/release', via: 'json', strict: true, params: { id: '1' }, fields: { reason: REQUIRED_REASON }, valid: { reason: 'x' } },
  {
    key: 'PUT /api/v1/policies/:scope/:scopeId',
    via: 'json',
    strict: true,
    params: { scope: 'user', scopeId: 'u-42' },
    fields: { dailyStopLossPct: num(true), totalStopLossPct: num(true), maxLeverage: num(true) },
    valid: { dailyStopLossPct: 5, totalStopLossPct: null, maxLeverage: 3 },
  },
  { key: 'DELETE /api/v1/policies/:scope/:scopeId', via: 'json', strict: true, params: { scope: 'user', scopeId: 'u-51' }, fields: {}, valid: {} },
  { key: 'GET /api/v1/sign-ins', via: 'query', strict: true, fields: { hours: num() }, valid: {} },
  {
    key: 'GET /api/v1/audit',
    via: 'query',
    strict: true,
    fields: { actor: ident(false), action: { kind: 'id', max: 100, required: false }, actionPrefix: { kind: 'id', max: 100, required: false }, since: num(), until: num(), beforeId: num(), limit: num() },
    valid: {},
  },
];

/** Routes that take no input at all (nothing to get wrong but the session). */
const NO_INPUT = new Set(['POST /sign-out', 'POST /account/sessions/revoke-others']);

/** Strings an attacker tries; none is a valid id, number, enum value, email or JSON object. */
const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(10)',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}',
  '${process.exit(1)}',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\r\nSet-Cookie: x=1',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '0x1F',
  '__proto__',
  'constructor',
  '😀'.repeat(5),
];

const ID = /^[A-Za-z0-9_.:@-]+$/;

/** A value that is bad for a field (in a form or query: text only). */
function badValue(field: Field, via: Via): fc.Arbitrary<unknown> {
  const garbage = fc.oneof(fc.constantFrom(...INJECTIONS), fc.string({ minLength: 1, maxLength: 40 }));
  const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 2 }));
  const oversize = (max: number) => fc.tuple(fc.constantFrom(...INJECTIONS, 'x'), fc.integer({ min: 1, max: 2000 })).map(([s, extra]) => s + 'y'.repeat(max + extra));
  const json = via === 'json';
  switch (field.kind) {
    case 'text':
      return json ? fc.oneof(oversize(field.max), wrongType.filter((v) => v !== null || field.required)) : oversize(field.max);
    case 'email':
      return fc.oneof(oversize(field.max), garbage.filter((s) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s.trim()) && s.trim() !== ''));
    case 'enum':
      return fc.oneof(garbage.filter((s) => !field.values.includes(s.trim()) && s.trim() !== ''), ...(json ? [wrongType] : []));
    case 'id':
      return fc.oneof(garbage.filter((s) => !ID.test(s.trim()) && s.trim() !== ''), oversize(field.max), ...(json ? [wrongType] : []));
    case 'number':
      return json
        ? fc.oneof(fc.constantFrom('5', 'ten', '', '1e2'), fc.constantFrom(-1, 0, 1e9, -1e-9), fc.constant([1]), fc.constant({ n: 1 }), fc.boolean())
        : garbage.filter((s) => !/^\d+(\.\d+)?$/.test(s.trim()) && s.trim() !== '');
    case 'json-object':
      return fc.oneof(oversize(field.max), garbage.filter((s) => !s.trim().startsWith('{') && s.trim() !== ''));
    case 'boolean':
      return json
        ? fc.oneof(fc.constantFrom('true', 'false', 'on', ''), fc.integer(), fc.constant([true]), fc.constant({ on: true }))
        : garbage.filter((s) => s.trim() !== 'on' && s.trim() !== '');
  }
}

/** A request with one thing wrong in it. */
interface BadRequest {
  readonly what: string;
  readonly params: Record<string, string>;
  readonly body: Record<string, unknown> | string;
}

function badRequests(c: InputCase): fc.Arbitrary<BadRequest> {
  const base = { params: { ...(c.params ?? {}) }, body: { ...c.valid } as Record<string, unknown> };
  const options: fc.Arbitrary<BadRequest>[] = [];
  const names = Object.keys(c.fields);
  const required = names.filter((n) => c.fields[n]!.required);
  if (required.length) options.push(fc.constantFrom(...required).map((n) => ({ ...base, what: `missing ${n}`, body: Object.fromEntries(Object.entries(base.body).filter(([k]) => k !== n)) })));
  if (names.length) {
    options.push(
      fc.constantFrom(...names).chain((n) => badValue(c.fields[n]!, c.via).map((v) => ({ ...base, what: `bad ${n}: ${JSON.stringify(v)?.slice(0, 60)}`, body: { ...base.body, [n]: v } }))),
    );
  }
  if (c.strict) {
    options.push(
      fc
        .tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !names.includes(k) && !k.includes('=') && !k.includes('&') && k.trim() === k), fc.string())
        .map(([k, v]) => ({ ...base, what: `unknown key ${k}`, body: { ...base.body, [k]: v } })),
    );
  }
  if (c.via === 'json') {
    options.push(
      fc
        .oneof(fc.constantFrom('{', '{"reason":', '[1,2]', '42', 'null', '"text"', "{'a':1}", '{"a":1}}'), fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !isJsonObject(s) && s.trim() !== ''))
        .map((body) => ({ ...base, what: `body ${JSON.stringify(body)}`, body })),
    );
  }
  for (const p of Object.keys(c.params ?? {})) {
    options.push(
      fc
        .oneof(fc.constantFrom(...INJECTIONS), fc.string({ minLength: 101, maxLength: 300 }), fc.constantFrom('0', '99999999999999999999', 'u-nobody', 't-9999', 'xk-9999'))
        .filter((v) => v !== c.params![p] && v.trim() !== '' && v !== '.' && v !== '..')
        .map((v) => ({ ...base, what: `path ${p}=${JSON.stringify(v).slice(0, 60)}`, params: { ...base.params, [p]: v } })),
    );
  }
  return fc.oneof(...options);
}

function isJsonObject(s: string): boolean {
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Everything a request could change, as one comparable string. */
async function snapshot(s: ReturnType<typeof setup>): Promise<string> {
  const { t, api, admin } = s;
  const users = await t.accounts.store.users.list();
  return JSON.stringify({
    bots: api.listBots(),
    platform: api.platformStatus(),
    commands: api.calls.filter((c) => !['health', 'botDetail', 'strategies', 'recentEvents'].includes(c.method)).length,
    users: users.map((u) => [u.id, u.status, u.passwordHash, u.totpEnabled, u.failedAttempts]),
    tokens: await Promise.all(users.map((u) => t.accounts.store.apiTokens.listForUser(u.id))),
    attempts: (await t.accounts.store.attempts.recent({ limit: 100_000 })).length,
    audit: await t.accounts.store.audit.list({ limit: 100_000 }),
    keys: await admin.keys.list(),
    violations: admin.riskStore.violations,
    policies: await admin.risk.policies(),
  });
}

const key = (r: RouteRule) => `${r.method} ${r.path}`;

describe('the bad-input table', () => {
  it('covers every route that takes input: every POST, PUT and DELETE, and every API route', () => {
    const inputRoutes = ROUTES.filter((r) => (r.method !== 'GET' || r.path.startsWith('/api/v1/')) && !NO_INPUT.has(key(r))).map(key);
    const covered = new Set(CASES.map((c) => c.key));
    const notCovered = inputRoutes.filter((k) => !covered.has(k) && k !== 'GET /api/v1/openapi.json' && k !== 'GET /api/v1/me' && k !== 'GET /api/v1/policies');
    expect(notCovered).toEqual([]);
    for (const c of CASES) expect(ROUTES.map(key), c.key).toContain(c.key);
  });
});

describe.each(CASES.map((c) => ({ c, name: c.key })))('$name', ({ c }) => {
  it('answers generated bad input with a 4xx and changes nothing', async () => {
    const s = setup();
    await s.admin.ready;
    const method = c.key.split(' ')[0]!;
    const template = c.key.slice(method.length + 1);
    let client: SignedInClient | null = null;
    const headers: Record<string, string> = {};
    if (c.as === 'pending') {
      const u = await ensureRoleUser(s.t.accounts, 'viewer');
      await enrolTotp(s.t, u.id);
      const r = await s.t.accounts.signIn(u.email, TEST_PASSWORD, { ip: '127.0.0.1', userAgent: 'vitest' });
      if (!r.ok || !r.needsSecondFactor) throw new Error('expected a pending second factor');
      headers.Cookie = `fleet_session=${r.issued.token}`;
      headers['X-CSRF-Token'] = r.issued.session.csrfToken;
    } else if (c.as !== 'anonymous') {
      client = s.as(c.as ?? 'admin');
      await client.session();
    }
    await ensureRoleUser(s.t.accounts, 'viewer');
    const before = await snapshot(s);
    const send = (path: string, init: RequestInit) => (client ? client.request(path, init) : s.raw.request(path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } }));

    await fc.assert(
      fc.asyncProperty(badRequests(c), async (bad) => {
        const path = template.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(bad.params[name] ?? ''));
        let res: Response;
        if (c.via === 'query') {
          const q = new URLSearchParams(Object.entries(bad.body as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)])).toString();
          res = await send(q ? `${path}?${q}` : path, { method });
        } else if (c.via === 'json') {
          const body = typeof bad.body === 'string' ? bad.body : JSON.stringify(bad.body);
          res = await send(path, { method, headers: { 'Content-Type': 'application/json', Origin: ORIGIN }, body });
        } else {
          const form = new URLSearchParams(Object.entries(bad.body as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)])).toString();
          res = await send(path, { method, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN }, body: form });
        }
        const text = await res.text();
        if (res.status < 400 || res.status >= 500 || ![400, 404, 413, 415].includes(res.status)) {
          throw new Error(`${bad.what}: ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
        }
        // A clear message: a JSON error on the API, an error page or form message on the console.
        if (template.startsWith('/api/')) expect(JSON.parse(text)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
        else expect(text.length).toBeGreaterThan(0);
      }),
      { numRuns: 40 },
    );
    expect(await snapshot(s)).toBe(before);
  });
});
