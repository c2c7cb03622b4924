/**
 * The table-driven access test: every route of the route table, for every role and for an
 * anonymous visitor, inside and outside the role's scope. Expectations are written out here,
 * independently of the grants in runtime/accounts/permissions.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '../../../runtime/accounts/index.ts';
import { ROLES } from '../../../runtime/accounts/index.ts';
import { ROUTES, createRouteMatcher, type RouteRule } from '../../../web/index.ts';
import { ORIGIN, setup } from './support.ts';

/** What a request ended in. */
type Outcome = 'allowed' | 'sign-in' | 'denied' | 'hidden';
type Who = Role | 'anonymous';
const WHO: readonly Who[] = ['anonymous', ...ROLES];

/** One concrete request for a route, and the outcome for each caller. */
interface Case {
  readonly label: string;
  readonly path: string;
  readonly form?: Record<string, string>;
  /** A JSON body (API routes) instead of a form. */
  readonly json?: unknown;
  readonly expect: Readonly<Record<Who, Outcome>>;
}

const outcomes = (f: (w: Who) => Outcome) => Object.fromEntries(WHO.map((w) => [w, f(w)])) as Record<Who, Outcome>;
/** Public: everyone gets through. */
const open = () => outcomes(() => 'allowed');
/** Any signed-in role; anonymous goes to sign-in. */
const signedIn = () => outcomes((w) => (w === 'anonymous' ? 'sign-in' : 'allowed'));
/** Only these roles; the others are denied; anonymous goes to sign-in. */
const only = (roles: readonly Role[], otherwise: Partial<Record<Role, Outcome>> = {}) =>
  outcomes((w) => (w === 'anonymous' ? 'sign-in' : roles.includes(w) ? 'allowed' : (otherwise[w] ?? 'denied')));
/** Users, security, audit and risk: administrators and operators only. */
const ADMINS = () => only(['admin', 'operator']);

// Fixtures of the fake api: t-0001 (m-alpha, owner u-17), t-0003 (m-beta, owner u-51).
// The manager's group is m-alpha; the user is u-17.
const IN = 't-0001';
const OUT = 't-0003';

const CASES: Readonly<Record<string, readonly Case[]>> = {
  'GET /health': [{ label: 'probe', path: '/health', expect: open() }],
  'GET /static/*': [{ label: 'asset', path: '/static/app.css', expect: open() }],
  'GET /sign-in': [{ label: 'form', path: '/sign-in', expect: open() }],
  // Public, and for everyone a redirect to the sign-in page (which sends a session on to `next`).
  'GET /login': [{ label: 'alias', path: '/login', expect: outcomes(() => 'sign-in') }],
  'POST /sign-in': [{ label: 'good credentials', path: '/sign-in', form: { email: 'viewer@test.example', password: 'correct horse battery staple' }, expect: open() }],
  'GET /sign-in/2fa': [{ label: 'without a pending sign-in', path: '/sign-in/2fa', expect: signedIn() }],
  'POST /sign-in/2fa': [{ label: 'without a pending sign-in', path: '/sign-in/2fa', form: { code: '123456' }, expect: signedIn() }],
  'POST /sign-out': [{ label: 'sign out', path: '/sign-out', expect: outcomes(() => 'sign-in') }],

  'GET /': [{ label: 'home', path: '/', expect: signedIn() }],
  'GET /bots': [{ label: 'list', path: '/bots', expect: signedIn() }],
  'GET /bots/new': [{ label: 'form', path: '/bots/new', expect: only(['admin', 'operator', 'manager']) }],
  'GET /bots/new/keys': [
    { label: "the caller's own keys", path: '/bots/new/keys', expect: only(['admin', 'operator', 'manager']) },
    { label: 'keys of a user outside a manager’s scope', path: '/bots/new/keys?userId=u-viewer', expect: only(['admin', 'operator'], { manager: 'hidden' }) },
  ],
  'GET /bots/new/strategy-fields': [{ label: 'fields', path: '/bots/new/strategy-fields?ref=momentum%401', expect: only(['admin', 'operator', 'manager']) }],
  'POST /bots': [
    {
      label: 'a paper bot for a user outside a manager’s scope',
      path: '/bots',
      form: { name: 'new-one', userId: 'u-viewer', managerId: 'm-alpha', ref: 'momentum@1', account: 'paper', initialCapital: '1000', leverage: '2' },
      expect: only(['admin', 'operator']),
    },
    {
      label: 'in a group outside a manager’s scope',
      path: '/bots',
      form: { name: 'new-two', userId: 'u-viewer', managerId: 'm-beta', ref: 'momentum@1', account: 'paper', initialCapital: '1000', leverage: '2' },
      expect: only(['admin', 'operator']),
    },
  ],
  'GET /bots/:id': [
    { label: 'in scope', path: `/bots/${IN}`, expect: signedIn() },
    { label: 'out of scope', path: `/bots/${OUT}`, expect: only(['admin', 'operator', 'viewer'], { manager: 'hidden', user: 'hidden' }) },
  ],
  'GET /bots/:id/assign-fields': [
    { label: 'in scope', path: `/bots/${IN}/assign-fields`, expect: only(['admin', 'operator', 'manager']) },
    { label: 'out of scope', path: `/bots/${OUT}/assign-fields`, expect: only(['admin', 'operator'], { manager: 'hidden' }) },
  ],
  'POST /bots/:id/pause': [
    { label: 'in scope', path: `/bots/${IN}/pause`, expect: only(['admin', 'operator', 'manager', 'user']) },
    { label: 'out of scope', path: `/bots/${OUT}/pause`, expect: only(['admin', 'operator']) },
  ],
  'POST /bots/:id/resume': [
    { label: 'in scope', path: `/bots/${IN}/resume`, expect: only(['admin', 'operator', 'manager', 'user']) },
    { label: 'out of scope', path: `/bots/${OUT}/resume`, expect: only(['admin', 'operator']) },
  ],
  'POST /bots/:id/restart': [
    { label: 'in scope', path: `/bots/${IN}/restart`, expect: only(['admin', 'operator', 'manager']) },
    { label: 'out of scope', path: `/bots/${OUT}/restart`, expect: only(['admin', 'operator']) },
  ],
  'POST /bots/:id/reconcile': [
    { label: 'in scope', path: `/bots/${IN}/reconcile`, form: { decision: 'recheck' }, expect: only(['admin', 'operator', 'manager', 'user']) },
    { label: 'out of scope', path: `/bots/${OUT}/reconcile`, form: { decision: 'recheck' }, expect: only(['admin', 'operator']) },
  ],
  'POST /bots/:id/strategy': [
    { label: 'in scope', path: `/bots/${IN}/strategy`, form: { ref: 'momentum@1' }, expect: only(['admin', 'operator', 'manager']) },
    { label: 'out of scope', path: `/bots/${OUT}/strategy`, form: { ref: 'momentum@1' }, expect: only(['admin', 'operator']) },
  ],
  'POST /managers/:id/pause': [
    { label: 'own group', path: '/managers/m-alpha/pause', expect: only(['admin', 'operator', 'manager']) },
    { label: 'other group', path: '/managers/m-beta/pause', expect: only(['admin', 'operator']) },
  ],
  'POST /managers/:id/resume': [
    { label: 'own group', path: '/managers/m-alpha/resume', expect: only(['admin', 'operator', 'manager']) },
    { label: 'other group', path: '/managers/m-beta/resume', expect: only(['admin', 'operator']) },
  ],
  'POST /platform/pause-all': [{ label: 'pause all', path: '/platform/pause-all', form: { reason: 'drill' }, expect: only(['admin', 'operator']) }],
  'POST /platform/resume-all': [{ label: 'resume all', path: '/platform/resume-all', expect: only(['admin', 'operator']) }],
  'GET /strategies': [{ label: 'list', path: '/strategies', expect: signedIn() }],
  'GET /events/recent': [{ label: 'list', path: '/events/recent', expect: signedIn() }],
  'GET /timeline': [{ label: 'alias', path: '/timeline', expect: signedIn() }],
  'GET /events': [
    { label: 'status stream', path: '/events?view=status', expect: signedIn() },
    { label: 'stream of a bot in scope', path: `/events?view=bot&id=${IN}`, expect: signedIn() },
    { label: 'stream of a bot out of scope', path: `/events?view=bot&id=${OUT}`, expect: only(['admin', 'operator', 'viewer'], { manager: 'hidden', user: 'hidden' }) },
  ],
  'GET /status': [{ label: 'health page', path: '/status', expect: only(['admin', 'operator', 'manager', 'viewer']) }],
  'GET /account': [{ label: 'page', path: '/account', expect: signedIn() }],
  'GET /account/2fa': [{ label: 'enrolment', path: '/account/2fa', expect: signedIn() }],
  'POST /account/2fa/verify': [{ label: 'wrong code', path: '/account/2fa/verify', form: { code: '000000' }, expect: signedIn() }],
  'POST /account/2fa/disable': [{ label: 'not enabled', path: '/account/2fa/disable', form: { code: '000000' }, expect: signedIn() }],
  'POST /account/2fa/recovery-codes': [{ label: 'not enabled', path: '/account/2fa/recovery-codes', form: { code: '000000' }, expect: signedIn() }],
  'POST /account/password': [
    { label: 'wrong current', path: '/account/password', form: { current: 'not it at all', next: 'another long passphrase', confirm: 'another long passphrase' }, expect: signedIn() },
  ],
  'POST /account/sessions/revoke-others': [{ label: 'revoke', path: '/account/sessions/revoke-others', expect: signedIn() }],
  'POST /account/tokens': [{ label: 'create', path: '/account/tokens', form: { name: 'ci', scope: 'read' }, expect: signedIn() }],
  'POST /account/tokens/:id/revoke': [
    { label: 'a token that is not yours', path: '/account/tokens/tok_00/revoke', expect: outcomes((w) => (w === 'anonymous' ? 'sign-in' : 'hidden')) },
  ],
  'GET /account/exchange-keys': [{ label: 'own keys', path: '/account/exchange-keys', expect: only(['admin', 'operator', 'manager', 'user']) }],
  'POST /account/exchange-keys': [
    {
      label: 'add a key',
      path: '/account/exchange-keys',
      form: { exchange: 'binanceusdm', label: 'ci', apiKey: 'ABCDEFGHIJKLMNOP1234', secret: 'secret-secret-secret-0009' },
      expect: only(['admin', 'operator', 'manager', 'user']),
    },
  ],
  'POST /account/exchange-keys/:id/check': [
    { label: "the user's key", path: '/account/exchange-keys/xk-0001/check', expect: only(['admin', 'operator', 'user']) },
    { label: "another user's key", path: '/account/exchange-keys/xk-0003/check', expect: only(['admin', 'operator']) },
  ],
  'POST /account/exchange-keys/:id/delete': [
    { label: "the user's key", path: '/account/exchange-keys/xk-0001/delete', expect: only(['admin', 'operator', 'user']) },
    { label: "another user's key", path: '/account/exchange-keys/xk-0003/delete', expect: only(['admin', 'operator']) },
  ],

  'GET /users': [{ label: 'list', path: '/users?sort=pnl', expect: ADMINS() }],
  'GET /users/:id': [{ label: 'detail', path: '/users/u-42', expect: ADMINS() }],
  'POST /users/:id/suspend': [{ label: 'a user', path: '/users/u-42/suspend', form: { reason: 'drill' }, expect: ADMINS() }],
  'POST /users/:id/unsuspend': [{ label: 'a user', path: '/users/u-42/unsuspend', expect: ADMINS() }],
  'POST /users/:id/force-logout': [{ label: 'another user', path: '/users/u-viewer/force-logout', expect: only(['admin']) }],

  'GET /security': [{ label: 'area', path: '/security', expect: ADMINS() }],
  'GET /security/keys': [{ label: 'keys', path: '/security/keys', expect: ADMINS() }],
  'POST /security/keys/:id/revoke': [{ label: 'a key', path: '/security/keys/xk-0003/revoke', form: { reason: 'drill' }, expect: ADMINS() }],
  'POST /security/keys/:id/disable': [{ label: 'a key', path: '/security/keys/xk-0003/disable', form: { reason: 'drill' }, expect: ADMINS() }],
  'POST /security/keys/:id/enable': [{ label: 'a key', path: '/security/keys/xk-0003/enable', form: { reason: 'drill' }, expect: ADMINS() }],
  'GET /security/violations': [{ label: 'violations', path: '/security/violations', expect: ADMINS() }],
  'POST /security/violations/:id/release': [{ label: 'an open one', path: '/security/violations/1/release', form: { reason: 'drill' }, expect: ADMINS() }],
  'GET /security/sign-ins': [{ label: 'sign-ins', path: '/security/sign-ins', expect: ADMINS() }],
  'GET /security/audit': [{ label: 'audit', path: '/security/audit', expect: ADMINS() }],

  'GET /risk': [{ label: 'policies', path: '/risk', expect: ADMINS() }],
  'POST /risk/policies': [
    {
      label: 'platform defaults',
      path: '/risk/policies',
      form: { scope: 'platform', scopeId: 'platform', dailyStopLossPct: '10', totalStopLossPct: '30', maxLeverage: '10' },
      expect: ADMINS(),
    },
  ],
  'POST /risk/policies/clear': [{ label: "a user's limits", path: '/risk/policies/clear', form: { scope: 'user', scopeId: 'u-51' }, expect: ADMINS() }],

  'GET /api/v1/openapi.json': [{ label: 'document', path: '/api/v1/openapi.json', expect: open() }],
  'GET /api/v1/me': [{ label: 'me', path: '/api/v1/me', expect: signedIn() }],
  'GET /api/v1/bots': [{ label: 'list', path: '/api/v1/bots', expect: signedIn() }],
  'POST /api/v1/bots': [
    {
      label: 'a paper bot for a user outside a manager’s scope',
      path: '/api/v1/bots',
      json: { name: 'api-bot', userId: 'u-viewer', managerId: 'm-alpha', strategy: 'momentum@1', venue: 'paper', initialCapital: '1000', leverage: 2 },
      expect: only(['admin', 'operator']),
    },
  ],
  'GET /api/v1/bots/:id': [
    { label: 'in scope', path: `/api/v1/bots/${IN}`, expect: signedIn() },
    { label: 'out of scope', path: `/api/v1/bots/${OUT}`, expect: only(['admin', 'operator', 'viewer'], { manager: 'hidden', user: 'hidden' }) },
  ],
  'POST /api/v1/bots/:id/pause': [
    { label: 'in scope', path: `/api/v1/bots/${IN}/pause`, json: {}, expect: only(['admin', 'operator', 'manager', 'user']) },
    { label: 'out of scope', path: `/api/v1/bots/${OUT}/pause`, json: {}, expect: only(['admin', 'operator']) },
  ],
  'POST /api/v1/bots/:id/resume': [
    { label: 'in scope', path: `/api/v1/bots/${IN}/resume`, json: {}, expect: only(['admin', 'operator', 'manager', 'user']) },
    { label: 'out of scope', path: `/api/v1/bots/${OUT}/resume`, json: {}, expect: only(['admin', 'operator']) },
  ],
  'POST /api/v1/bots/:id/restart': [
    { label: 'in scope', path: `/api/v1/bots/${IN}/restart`, json: {}, expect: only(['admin', 'operator', 'manager']) },
    { label: 'out of scope', path: `/api/v1/bots/${OUT}/restart`, json: {}, expect: only(['admin', 'operator']) },
  ],
  'POST /api/v1/bots/:id/reconcile': [
    { label: 'in scope', path: `/api/v1/bots/${IN}/reconcile`, json: { decision: 'recheck' }, expect: only(['admin', 'operator', 'manager', 'user']) },
    { label: 'out of scope', path: `/api/v1/bots/${OUT}/reconcile`, json: { decision: 'recheck' }, expect: only(['admin', 'operator']) },
  ],
  'POST /api/v1/platform/pause-all': [{ label: 'pause all', path: '/api/v1/platform/pause-all', json: { reason: 'drill' }, expect: only(['admin', 'operator']) }],
  'POST /api/v1/platform/resume-all': [{ label: 'resume all', path: '/api/v1/platform/resume-all', json: {}, expect: only(['admin', 'operator']) }],
  'GET /api/v1/users': [{ label: 'list', path: '/api/v1/users', expect: ADMINS() }],
  'GET /api/v1/users/:id': [{ label: 'detail', path: '/api/v1/users/u-42', expect: ADMINS() }],
  'POST /api/v1/users/:id/suspend': [{ label: 'a user', path: '/api/v1/users/u-42/suspend', json: { reason: 'drill' }, expect: ADMINS() }],
  'POST /api/v1/users/:id/unsuspend': [{ label: 'a user', path: '/api/v1/users/u-42/unsuspend', json: {}, expect: ADMINS() }],
  'POST /api/v1/users/:id/force-logout': [{ label: 'a user', path: '/api/v1/users/u-viewer/force-logout', json: {}, expect: only(['admin']) }],
  'GET /api/v1/keys': [{ label: 'list', path: '/api/v1/keys', expect: ADMINS() }],
  'GET /api/v1/keys/history': [{ label: 'history', path: '/api/v1/keys/history', expect: ADMINS() }],
  'POST /api/v1/keys/:id/revoke': [{ label: 'a key', path: '/api/v1/keys/xk-0003/revoke', json: { reason: 'drill' }, expect: ADMINS() }],
  'POST /api/v1/keys/:id/disable': [{ label: 'a key', path: '/api/v1/keys/xk-0003/disable', json: { reason: 'drill' }, expect: ADMINS() }],
  'POST /api/v1/keys/:id/enable': [{ label: 'a key', path: '/api/v1/keys/xk-0003/enable', json: { reason: 'drill' }, expect: ADMINS() }],
  'GET /api/v1/exchange-keys': [{ label: 'own keys', path: '/api/v1/exchange-keys', expect: only(['admin', 'operator', 'manager', 'user']) }],
  'POST /api/v1/exchange-keys': [
    {
      label: 'add a key',
      path: '/api/v1/exchange-keys',
      json: { exchange: 'bybit', label: 'ci', apiKey: 'ABCDEFGHIJKLMNOP1234', secret: 'secret-secret-secret-0009' },
      expect: only(['admin', 'operator', 'manager', 'user']),
    },
  ],
  'POST /api/v1/exchange-keys/:id/check': [
    { label: "the user's key", path: '/api/v1/exchange-keys/xk-0001/check', json: {}, expect: only(['admin', 'operator', 'user']) },
    { label: "another user's key", path: '/api/v1/exchange-keys/xk-0003/check', json: {}, expect: only(['admin', 'operator']) },
  ],
  'DELETE /api/v1/exchange-keys/:id': [
    { label: "the user's key", path: '/api/v1/exchange-keys/xk-0001', expect: only(['admin', 'operator', 'user']) },
    { label: "another user's key", path: '/api/v1/exchange-keys/xk-0003', expect: only(['admin', 'operator']) },
  ],
  'GET /api/v1/violations': [{ label: 'list', path: '/api/v1/violations', expect: ADMINS() }],
  'POST /api/v1/violations/:id/release': [{ label: 'an open one', path: '/api/v1/violations/1/release', json: { reason: 'drill' }, expect: ADMINS() }],
  'GET /api/v1/policies': [{ label: 'list', path: '/api/v1/policies', expect: ADMINS() }],
  'PUT /api/v1/policies/:scope/:scopeId': [
    { label: "a user's limits", path: '/api/v1/policies/user/u-42', json: { dailyStopLossPct: 5, totalStopLossPct: null, maxLeverage: null }, expect: ADMINS() },
  ],
  'DELETE /api/v1/policies/:scope/:scopeId': [{ label: "a user's limits", path: '/api/v1/policies/user/u-51', expect: ADMINS() }],
  'GET /api/v1/sign-ins': [{ label: 'sign-ins', path: '/api/v1/sign-ins', expect: ADMINS() }],
  'GET /api/v1/audit': [{ label: 'audit', path: '/api/v1/audit', expect: ADMINS() }],
};

const key = (r: RouteRule) => `${r.method} ${r.path}`;

/** Classifies a response by what the guard or the handler decided. */
async function classify(res: Response, path: string): Promise<Outcome> {
  const location = res.headers.get('location') ?? '';
  if (res.status === 302 || res.status === 303) return location.startsWith('/sign-in') && !location.startsWith('/sign-in/2fa') ? 'sign-in' : 'allowed';
  if (res.status === 401 && path.startsWith('/api/')) return 'sign-in';
  if (res.status === 403) return 'denied';
  if (res.status === 404) return 'hidden';
  if (res.status >= 500) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return 'allowed';
}

async function run(who: Who, route: RouteRule, c: Case): Promise<{ outcome: Outcome; status: number }> {
  const { raw, as } = setup();
  // The user force-logged-out and the sign-in target must exist.
  await as('viewer').session();
  const headers: Record<string, string> = {};
  if (who !== 'anonymous') {
    const s = await as(who).session();
    headers.Cookie = s.cookie;
    headers['X-CSRF-Token'] = s.csrf;
  }
  const init: RequestInit =
    route.method === 'GET'
      ? { headers }
      : c.json !== undefined
        ? { method: route.method, headers: { ...headers, 'Content-Type': 'application/json', Origin: ORIGIN }, body: JSON.stringify(c.json) }
        : route.method === 'DELETE'
          ? { method: route.method, headers: { ...headers, Origin: ORIGIN } }
          : {
              method: route.method,
              headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
              body: new URLSearchParams(c.form ?? {}).toString(),
            };
  const res = await raw.request(c.path, init);
  const outcome = await classify(res, c.path);
  await res.body?.cancel();
  return { outcome, status: res.status };
}

describe('the route table', () => {
  it('has a test case for every route, and no case for a route it lacks', () => {
    expect(ROUTES.map(key).sort()).toEqual(Object.keys(CASES).sort());
  });

  it('covers every route the app registers (nothing is reachable without an entry)', () => {
    const { raw } = setup();
    const matcher = createRouteMatcher();
    const missing: string[] = [];
    for (const r of raw.routes) {
      if (r.method === 'ALL') continue;
      // Expand `:name{a|b}` into its alternatives and fill other parameters.
      const alternatives = /:\w+\{([^}]+)\}/.exec(r.path)?.[1]?.split('|') ?? [null];
      for (const alt of alternatives) {
        const sample = r.path.replace(/:\w+\{[^}]+\}/, alt ?? '').replace(/:\w+/g, 'x').replace(/\*/g, 'x.css');
        if (!matcher.match(r.method, sample)) missing.push(`${r.method} ${r.path} (${sample})`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe.each(ROUTES.map((r) => ({ route: r, name: key(r) })))('$name', ({ route, name }) => {
  const cases = CASES[name] ?? [];
  it.each(cases.flatMap((c) => WHO.map((who) => ({ c, who, want: c.expect[who], label: c.label }))))(
    '$label: $who is $want',
    async ({ c, who, want }) => {
      const got = await run(who, route, c);
      expect({ who, path: c.path, outcome: got.outcome }, `status ${got.status}`).toEqual({ who, path: c.path, outcome: want });
    },
  );
});
