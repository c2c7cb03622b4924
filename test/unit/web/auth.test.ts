import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { totpCode } from '../../../runtime/accounts/index.ts';
import { createWebApp, authenticate, createRouteMatcher, guard, resolveDeps, type AppEnv } from '../../../web/index.ts';
import { TEST_PASSWORD, createTestAccounts, enrolTotp, ensureRoleUser, signInAs } from '../../support/accounts.ts';
import { T0, createFakeApi } from '../../support/fake-api.ts';
import { HX, ORIGIN, postForm, readUntil, setup } from './support.ts';

const form = (body: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN, ...headers },
  body: new URLSearchParams(body).toString(),
});

const cookieOf = (res: Response) => /fleet_session=([^;]*)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? null;

describe('without a session', () => {
  it('sends every console page to sign-in, keeping where it was going', async () => {
    const { raw } = setup();
    const res = await raw.request('/bots?status=paused');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/sign-in?next=%2Fbots%3Fstatus%3Dpaused');
    expect((await raw.request('/no/such/page')).headers.get('location')).toBe('/sign-in?next=%2Fno%2Fsuch%2Fpage');
  });

  it('answers an htmx request with 401 and HX-Redirect, so no sign-in page lands inside a row', async () => {
    const { raw } = setup();
    const res = await raw.request('/bots/t-0001/pause', form({}, HX));
    expect(res.status).toBe(401);
    expect(res.headers.get('hx-redirect')).toBe('/sign-in');
  });

  it('answers any /api route with 401 JSON', async () => {
    const { raw } = setup();
    for (const path of ['/api/v1/me', '/api/v1/bots', '/api']) {
      const res = await raw.request(path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(await res.json()).toEqual({ error: { code: 'unauthenticated', message: 'Sign in or send a bearer token.' } });
    }
    expect((await raw.request('/api/v1/me', { headers: { Authorization: 'Bearer fleet_nope' } })).status).toBe(401);
  });

  it('sends /login on to the sign-in page, its next included, and never back to /login after signing in', async () => {
    const { raw, as } = setup();
    await as('viewer').session();
    const res = await raw.request('/login?next=%2Frisk');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/sign-in?next=%2Frisk');
    expect((await raw.request('/login')).headers.get('location')).toBe('/sign-in');
    const signedIn = await raw.request('/sign-in', form({ email: 'viewer@test.example', password: TEST_PASSWORD, next: '/login' }));
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/bots');
  });

  it('shows the sign-in page without navigation or platform data', async () => {
    const { raw } = setup();
    const html = await (await raw.request('/sign-in?next=/strategies')).text();
    expect(html).toContain('id="sign-in-form"');
    expect(html).toContain('name="next" value="/strategies"');
    expect(html).not.toContain('id="status-bar"');
    expect(html).not.toContain('Portfolio value');
    expect(html).not.toContain('Your session has ended');
  });

  it('says why when an open page was sent here because its session ended', async () => {
    const { raw } = setup();
    const html = await (await raw.request('/sign-in?ended=1&next=%2Fbots')).text();
    expect(html).toContain('Your session has ended. Sign in again to go on.');
    expect(html).toContain('name="next" value="/bots"');
    // Any other value is not a reason to show it, and costs nothing else.
    const odd = await raw.request('/sign-in?ended=yes&next=%2Fbots');
    expect(odd.status).toBe(200);
    const oddHtml = await odd.text();
    expect(oddHtml).not.toContain('Your session has ended');
    expect(oddHtml).toContain('name="next" value="/bots"');
  });
});

describe('signing in', () => {
  it('sets an httpOnly, SameSite=Lax session cookie and goes where the visitor was going', async () => {
    const { raw, as } = setup();
    await as('viewer').session();
    const res = await raw.request('/sign-in', form({ email: 'VIEWER@test.example', password: TEST_PASSWORD, next: '/strategies' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/strategies');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^fleet_session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Lax$/);
    const page = await raw.request('/strategies', { headers: { Cookie: `fleet_session=${cookieOf(res)}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('marks the cookie Secure when configured', async () => {
    const t = createTestAccounts();
    await ensureRoleUser(t.accounts, 'viewer');
    const app = createWebApp({ api: createFakeApi(), accounts: t.accounts, startedAt: T0, cookieSecure: true });
    const res = await app.request('/sign-in', form({ email: 'viewer@test.example', password: TEST_PASSWORD }));
    expect(res.headers.get('set-cookie')).toContain('; Secure');
  });

  it('never redirects to another site after sign-in', async () => {
    const { raw, as } = setup();
    await as('viewer').session();
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const res = await raw.request('/sign-in', form({ email: 'viewer@test.example', password: TEST_PASSWORD, next }));
      expect(res.headers.get('location')).toBe('/bots');
    }
  });

  it('refuses a wrong password with 401 and a message that does not say which field was wrong', async () => {
    const { raw, as } = setup();
    await as('viewer').session();
    const res = await raw.request('/sign-in', form({ email: 'viewer@test.example', password: 'wrong password!' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    const html = await res.text();
    expect(html).toContain('The email or password is incorrect.');
    expect(html).toContain('value="viewer@test.example"');
  });

  it('locks the account after 5 failures with 429 and Retry-After', async () => {
    const { raw, as } = setup();
    await as('viewer').session();
    for (let i = 0; i < 5; i++) await raw.request('/sign-in', form({ email: 'viewer@test.example', password: 'wrong password!' }));
    const res = await raw.request('/sign-in', form({ email: 'viewer@test.example', password: TEST_PASSWORD }));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('900');
    expect(await res.text()).toContain('Too many failed sign-ins: try again in 15 minutes.');
  });

  it('limits sign-in attempts per address (behind a trusted proxy, per forwarded address)', async () => {
    const t = createTestAccounts();
    const app = createWebApp({ api: createFakeApi(), accounts: t.accounts, startedAt: T0, trustProxy: true });
    const from = (ip: string) => ({ 'X-Forwarded-For': `${ip}, 10.0.0.1` });
    for (let i = 0; i < 20; i++) await app.request('/sign-in', form({ email: `u${i}@example.com`, password: 'whatever123' }, from('203.0.113.9')));
    const limited = await app.request('/sign-in', form({ email: 'x@example.com', password: 'whatever123' }, from('203.0.113.9')));
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('Too many sign-in attempts from your address');
    expect((await app.request('/sign-in', form({ email: 'x@example.com', password: 'whatever123' }, from('203.0.113.10')))).status).toBe(401);
  });

  it.each([
    [{ password: 'x' }, 400, 'enter your email'],
    [{ email: 'viewer@test.example' }, 400, 'enter your password'],
    [{ email: `${'a'.repeat(250)}@example.com`, password: 'x' }, 400, 'the email is too long'],
    [{ email: 'viewer@test.example', password: 'p'.repeat(300) }, 400, 'the password is longer than 256 characters'],
    [{ email: "' OR '1'='1' --", password: 'x' }, 400, 'enter a valid email address'],
    [{ email: 'admin@test.example\'; DROP TABLE users; --', password: 'x' }, 400, 'enter a valid email address'],
    [{ email: '<script>alert(1)</script>', password: 'x' }, 400, 'enter a valid email address'],
  ])('answers bad sign-in input %j with %i and a clear message', async (body, status, message) => {
    const { raw } = setup();
    const res = await raw.request('/sign-in', form(body as Record<string, string>));
    expect(res.status).toBe(status);
    const html = await res.text();
    expect(html).toContain(message);
    expect(html).not.toContain('<script>alert(1)</script>');
  });

  it('answers a file where the email belongs with 400, a JSON body with 415 and an oversize body with 413', async () => {
    const { raw } = setup();
    const multipart = new FormData();
    multipart.set('email', new Blob(['x'], { type: 'text/plain' }), 'email.txt');
    multipart.set('password', 'x');
    const file = await raw.request('/sign-in', { method: 'POST', headers: { Origin: ORIGIN }, body: multipart });
    expect(file.status).toBe(400);
    expect(await file.text()).toContain('enter your email');
    const json = await raw.request('/sign-in', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: ORIGIN }, body: '{}' });
    expect(json.status).toBe(415);
    const big = await raw.request('/sign-in', form({ email: 'a@b.co', password: 'x', pad: 'y'.repeat(300 * 1024) }));
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('The request body is larger than 256 KiB.');
  });

  it('refuses a sign-in form posted from another site', async () => {
    const { raw, as } = setup();
    await as('viewer').session();
    const res = await raw.request('/sign-in', form({ email: 'viewer@test.example', password: TEST_PASSWORD }, { Origin: 'https://evil.example' }));
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('two-factor sign-in over HTTP', () => {
  it('asks for the code after the password, lets nothing else through meanwhile, then issues a new session', async () => {
    const { raw, t } = setup();
    const user = await ensureRoleUser(t.accounts, 'operator');
    const { secret } = await enrolTotp(t, user.id);
    t.clock.advance(30_000);
    const first = await raw.request('/sign-in', form({ email: user.email, password: TEST_PASSWORD, next: '/strategies' }));
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/sign-in/2fa?next=%2Fstrategies');
    const pending = `fleet_session=${cookieOf(first)}`;
    const blocked = await raw.request('/bots', { headers: { Cookie: pending } });
    expect(blocked.headers.get('location')).toBe('/sign-in/2fa');
    expect((await raw.request('/api/v1/me', { headers: { Cookie: pending } })).status).toBe(401);

    const page = await (await raw.request('/sign-in/2fa?next=/strategies', { headers: { Cookie: pending } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(csrf).toBeDefined();
    const wrong = await raw.request('/sign-in/2fa', form({ code: '000000', _csrf: csrf!, next: '/strategies' }, { Cookie: pending }));
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('That code is not valid');
    const done = await raw.request('/sign-in/2fa', form({ code: totpCode(secret, t.clock.now()), _csrf: csrf!, next: '/strategies' }, { Cookie: pending }));
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/strategies');
    const full = `fleet_session=${cookieOf(done)}`;
    expect(full).not.toBe(pending);
    expect((await raw.request('/strategies', { headers: { Cookie: full } })).status).toBe(200);
    expect((await raw.request('/strategies', { headers: { Cookie: pending } })).headers.get('location')).toBe('/sign-in?next=%2Fstrategies');
  });

  it('answers a malformed code with 400', async () => {
    const { raw, t } = setup();
    const user = await ensureRoleUser(t.accounts, 'operator');
    await enrolTotp(t, user.id);
    const first = await raw.request('/sign-in', form({ email: user.email, password: TEST_PASSWORD }));
    const pending = `fleet_session=${cookieOf(first)}`;
    const page = await (await raw.request('/sign-in/2fa', { headers: { Cookie: pending } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const res = await raw.request('/sign-in/2fa', form({ code: '<img src=x onerror=alert(1)>', _csrf: csrf }, { Cookie: pending }));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('a code is 6 digits, or a recovery code like abcde-12345');
  });
});

describe('required two-factor enrolment', () => {
  it('sends an admin without 2FA to enrolment, shows the QR code, and lets them in once a code proves it', async () => {
    const api = createFakeApi();
    const t = createTestAccounts({ require2faRoles: ['admin', 'operator'] });
    const app = createWebApp({ api, accounts: t.accounts, startedAt: T0, now: () => T0 });
    const s = await signInAs(t, 'admin');
    const headers = { Cookie: s.cookie, 'X-CSRF-Token': s.csrf };
    const bots = await app.request('/bots', { headers });
    expect(bots.status).toBe(302);
    expect(bots.headers.get('location')).toBe('/account/2fa');
    expect((await postForm({ request: (p, i) => Promise.resolve(app.request(p, i)) }, '/platform/pause-all', { reason: 'x' }, { headers })).status).toBe(403);
    expect((await app.request('/api/v1/me', { headers })).status).toBe(403);

    const page = await app.request('/account/2fa', { headers });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("img-src 'self' data:");
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    const html = await page.text();
    expect(html).toContain('Your role (admin) requires two-factor authentication.');
    expect(html).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="QR code of your two-factor secret"/);
    const secret = /data-secret="([A-Z2-7]+)"/.exec(html)![1]!;

    const bad = await app.request('/account/2fa/verify', form({ code: 'abc' }, headers));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('the code is the 6 digits your authenticator app shows');
    const wrong = await app.request('/account/2fa/verify', form({ code: '000000' }, headers));
    expect(wrong.status).toBe(422);

    const ok = await app.request('/account/2fa/verify', form({ code: totpCode(secret, t.clock.now()) }, headers));
    expect(ok.status).toBe(200);
    const codes = [...(await ok.text()).matchAll(/<li>([a-z2-9]{5}-[a-z2-9]{5})<\/li>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(10);
    expect((await app.request('/bots', { headers })).status).toBe(200);
    expect((await t.accounts.store.audit.list({ limit: 1 }))[0]).toMatchObject({ action: 'account.2fa_enabled', actorUserId: 'u-admin' });
    // Shown once: the account page only counts them.
    const account = await (await app.request('/account', { headers })).text();
    expect(account).toContain('10 recovery codes left.');
    expect(account).not.toContain(codes[0]!);
  });
});

describe('CSRF tokens', () => {
  it('refuses a state-changing request from a session without its token', async () => {
    const { raw, api, as } = setup();
    const s = await as('admin').session();
    const res = await raw.request('/bots/t-0001/pause', form({}, { Cookie: s.cookie, ...HX }));
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('did not carry a valid CSRF token');
    expect(api.calls.some((c) => c.method === 'pauseBot')).toBe(false);
  });

  it('refuses a wrong token and the token of another session', async () => {
    const { raw, api, as } = setup();
    const s = await as('admin').session();
    const other = await as('operator').session();
    expect((await raw.request('/bots/t-0001/pause', form({}, { Cookie: s.cookie, 'X-CSRF-Token': 'x'.repeat(43) }))).status).toBe(403);
    expect((await raw.request('/bots/t-0001/pause', form({}, { Cookie: s.cookie, 'X-CSRF-Token': other.csrf }))).status).toBe(403);
    expect(api.calls.some((c) => c.method === 'pauseBot')).toBe(false);
  });

  it('accepts the token as the hidden _csrf field of a plain form post', async () => {
    const { raw, api, as } = setup();
    const s = await as('admin').session();
    const res = await raw.request('/bots/t-0001/pause', form({ _csrf: s.csrf }, { Cookie: s.cookie }));
    expect(res.status).toBe(303);
    expect(api.calls.filter((c) => c.method === 'pauseBot')).toHaveLength(1);
  });

  it('puts the token in a meta tag for htmx and in every POST form of a page', async () => {
    const { app } = setup();
    const s = await app.session();
    const html = await (await app.request('/bots/t-0001')).text();
    expect(html).toContain(`<meta name="csrf-token" content="${s.csrf}"/>`);
    const forms = html.match(/<form[^>]*method="post"[\s\S]*?<\/form>/g) ?? [];
    expect(forms.length).toBeGreaterThanOrEqual(4); // sign-out, pause all, resume all, assign
    for (const f of forms) expect(f).toContain(`name="_csrf" value="${s.csrf}"`);
  });

  describe('on JSON requests', () => {
    /** A tiny app with the real middleware and one JSON route that changes something. */
    function jsonApp() {
      const t = createTestAccounts();
      const deps = resolveDeps({ api: createFakeApi(), accounts: t.accounts, startedAt: T0 });
      const app = new Hono<AppEnv>();
      app.use(authenticate(deps));
      app.use(guard(deps, createRouteMatcher([{ method: 'POST', path: '/api/v1/echo', permission: 'bots.pause', kind: 'api' }])));
      app.post('/api/v1/echo', async (c) => c.json({ ok: true, by: c.get('principal')?.userId, body: await c.req.json() }));
      return { app, t };
    }

    it('requires the X-CSRF-Token header from a session', async () => {
      const { app, t } = jsonApp();
      const s = await signInAs(t, 'operator');
      const post = (headers: Record<string, string>) =>
        app.request('/api/v1/echo', { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: s.cookie, ...headers }, body: '{"a":1}' });
      const without = await post({});
      expect(without.status).toBe(403);
      expect(await without.json()).toMatchObject({ error: { code: 'csrf' } });
      const withToken = await post({ 'X-CSRF-Token': s.csrf });
      expect(await withToken.json()).toEqual({ ok: true, by: 'u-operator', body: { a: 1 } });
    });

    it('takes a bearer token without a CSRF token, and refuses changes to a read-only one', async () => {
      const { app, t } = jsonApp();
      const op = await ensureRoleUser(t.accounts, 'operator');
      const write = await t.accounts.createApiToken(op.id, 'ci', 'write');
      const read = await t.accounts.createApiToken(op.id, 'dashboards', 'read');
      const post = (token: string) =>
        app.request('/api/v1/echo', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: '{}' });
      expect((await post(write.token)).status).toBe(200);
      const ro = await post(read.token);
      expect(ro.status).toBe(403);
      expect(await ro.json()).toMatchObject({ error: { code: 'forbidden' } });
      await t.accounts.store.apiTokens.revoke(write.record.id, t.clock.now());
      expect((await post(write.token)).status).toBe(401);
    });
  });
});

describe('sessions over HTTP', () => {
  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const { raw, as } = setup();
    const s = await as('viewer').session();
    const res = await raw.request('/sign-out', form({ _csrf: s.csrf }, { Cookie: s.cookie }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sign-in');
    expect(res.headers.get('set-cookie')).toContain('fleet_session=; Max-Age=0');
    expect((await raw.request('/bots', { headers: { Cookie: s.cookie } })).status).toBe(302);
  });

  it('ends a session after 30 idle minutes', async () => {
    const { raw, as, t } = setup();
    const s = await as('viewer').session();
    t.clock.advance(31 * 60_000);
    const res = await raw.request('/bots', { headers: { Cookie: s.cookie } });
    expect(res.headers.get('location')).toBe('/sign-in?next=%2Fbots');
    expect(res.headers.get('set-cookie')).toContain('Max-Age=0');
  });

  it("Force Logout ends every session of the user and closes their live stream with a last session-ended event, audited", async () => {
    const { raw, as, t } = setup();
    const viewer = await as('viewer').session();
    const other = await signInAs(t, 'viewer');
    const stream = await raw.request('/events?view=bots', { headers: { Cookie: viewer.cookie } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await readUntil(reader, (text) => text.includes('id="bots-body"'));
    const admin = await as('admin').session();
    const res = await raw.request('/users/u-viewer/force-logout', form({ reason: 'laptop stolen' }, { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf }));
    expect(res.status).toBe(303);
    expect((await raw.request('/bots', { headers: { Cookie: viewer.cookie } })).status).toBe(302);
    expect((await raw.request('/bots', { headers: { Cookie: other.cookie } })).status).toBe(302);
    // The page is told (it goes to sign-in), then the stream ends.
    const last = await readUntil(reader, (text) => text.includes('event: session-ended\n'));
    expect(last).toMatch(/event: session-ended\ndata: Your session has ended\. Sign in again\.\n\n$/);
    expect(await reader.read()).toMatchObject({ done: true });
    expect((await t.accounts.store.audit.list({ limit: 1 }))[0]).toMatchObject({
      action: 'user.force_logout',
      actorUserId: 'u-admin',
      targetId: 'u-viewer',
      after: { sessionsEnded: 2 },
    });
    expect((await raw.request('/users/u-nobody/force-logout', form({}, { Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf }))).status).toBe(404);
  });

  it('answers /api/v1/me for a session and for a bearer token', async () => {
    const { raw, as, t } = setup();
    const s = await as('manager').session();
    expect(await (await raw.request('/api/v1/me', { headers: { Cookie: s.cookie } })).json()).toMatchObject({
      id: 'u-manager',
      role: 'manager',
      groups: ['m-alpha'],
      via: 'session',
      readOnly: false,
    });
    const token = await t.accounts.createApiToken('u-manager', 'script', 'read');
    expect(await (await raw.request('/api/v1/me', { headers: { Authorization: `Bearer ${token.token}` } })).json()).toMatchObject({
      id: 'u-manager',
      via: 'token',
      readOnly: true,
    });
  });
});

describe('the account page', () => {
  it('changes the password with the current one and says clearly what is wrong otherwise', async () => {
    const { app, t } = setup();
    const post = (body: Record<string, string>) => postForm(app, '/account/password', body, { htmx: false });
    const tooLong = await post({ current: TEST_PASSWORD, next: 'n'.repeat(300), confirm: 'n'.repeat(300) });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain('the new password is longer than 256 characters');
    const differ = await post({ current: TEST_PASSWORD, next: 'a new long passphrase', confirm: 'a new long passphrase!' });
    expect(differ.status).toBe(400);
    expect(await differ.text()).toContain('the two new passwords differ');
    const wrong = await post({ current: 'not the password', next: 'a new long passphrase', confirm: 'a new long passphrase' });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toContain('the current password is incorrect');
    const ok = await post({ current: TEST_PASSWORD, next: 'a new long passphrase', confirm: 'a new long passphrase' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Password changed.');
    expect((await t.accounts.signIn('admin@test.example', 'a new long passphrase', { ip: '1.1.1.1', userAgent: '' })).ok).toBe(true);
  });

  it('shows the profile, 2FA status and this session', async () => {
    const { app } = setup();
    const html = await (await app.request('/account')).text();
    expect(html).toContain('<dd id="account-email">admin@test.example</dd>');
    expect(html).toContain('data-enabled="false"');
    expect(html).toContain('this one');
  });
});

describe('refused changes', () => {
  it('records a change the role or the scope does not allow in the audit log as denied', async () => {
    const { as, t, api } = setup();
    expect((await postForm(as('manager'), '/bots/t-0003/pause')).status).toBe(403);
    expect((await postForm(as('viewer'), '/platform/pause-all', { reason: 'x' })).status).toBe(403);
    expect((await postForm(as('manager'), '/managers/m-beta/pause')).status).toBe(403);
    const denied = await t.accounts.store.audit.list({ limit: 10, action: 'access.denied' });
    expect(denied.map((e) => [e.actorUserId, e.targetType, e.targetId, e.outcome])).toEqual([
      ['u-manager', 'manager', 'm-beta', 'denied'],
      ['u-viewer', 'route', 'POST /platform/pause-all', 'denied'],
      ['u-manager', 'trader', 't-0003', 'denied'],
    ]);
    expect(denied[1]!.message).toBe('POST /platform/pause-all: Your role (viewer) does not allow this (platform.pause_all).');
    expect(api.calls.filter((c) => ['pauseBot', 'pauseAll', 'pauseManager'].includes(c.method))).toEqual([]);
  });
});
