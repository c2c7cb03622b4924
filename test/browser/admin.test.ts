/**
 * Users, Security and Risk in Chromium against the real runtime (PGlite, demo fleet, manual
 * market clock): an operator opens Users, suspends a user (their bots pause, their session
 * ends, they cannot sign in), reinstates them; edits the platform's risk defaults so that a
 * leverage violation pauses bots, and releases one; revokes an exchange key; reads sign-in
 * security and the audit log; creates an API token. Screenshots go to $SCREENSHOT_DIR/admin-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createAdminApi } from '../../runtime/admin.ts';
import { createMetricsCollector } from '../../runtime/metrics/index.ts';
import { createWebApp } from '../../web/index.ts';
import { TEST_PASSWORD, createTestAccounts, signInInBrowser, type TestAccounts } from '../support/accounts.ts';
import { IN_CI, chromiumStatus, launchChromium, startServer, watchPage } from '../support/browser.ts';
import type { PageProblems, RunningServer } from '../support/browser.ts';
import { harness, type Harness } from '../support/runtime.ts';

const SHOTS = process.env.SCREENSHOT_DIR ?? '/tmp';
const status = chromiumStatus();
const run = status.available || IN_CI;
if (!run && !status.available) console.log(`[browser tests] skipped: ${status.reason}`);

/** Chromium logs the 4xx answers the test provokes on purpose. */
const CLIENT_ERROR_LOG = /Failed to load resource: the server responded with a status of 4\d\d/;

describe.skipIf(!run)('users, security and risk in Chromium against the real runtime', () => {
  let h: Harness;
  let t: TestAccounts;
  let browser: Browser;
  let server: RunningServer;
  let op: Page;
  const contexts: BrowserContext[] = [];
  const problems: PageProblems[] = [];
  const view = (id: string) => h.node.traders().get(id)!;

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    problems.push(watchPage(page));
    return page;
  }

  /** Advances the market a minute and writes the users' metrics rows (see the note in beforeAll). */
  let userMetrics: () => Promise<unknown> = async () => undefined;
  const minute = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      await h.minute(1);
      await userMetrics();
    }
  };

  beforeAll(async () => {
    if (!status.available) throw new Error(`Chromium is required in CI: ${status.reason}`);
    h = await harness('pglite');
    await h.start();
    const node = h.node;
    // The node's own accounts store, served by a test accounts service (cheap hashing, no 2FA
    // requirement) so the browser can sign in as the demo users.
    t = createTestAccounts({ store: node.accounts.store });
    await t.accounts.createUser({ id: 'u-grace', email: 'grace@test.example', displayName: 'Grace Hopper', role: 'operator', password: TEST_PASSWORD });
    expect((await t.accounts.setPassword('u-alice', TEST_PASSWORD)).ok).toBe(true);
    // Stands in for the node passing each trader's user to the metrics collector (the wiring the
    // report asks for): only its `user` rows are stored, beside the node's own rows.
    const traders = await node.store.traders.list();
    const users = createMetricsCollector({
      clock: h.clock,
      repo: { ...node.store.metrics, insertMany: (rows) => node.store.metrics.insertMany(rows.filter((r) => r.scope === 'user')) },
      traders: () =>
        traders.map((tr) => ({
          traderId: tr.id,
          managerId: tr.managerId,
          userId: tr.userId,
          initialCapital: tr.initialCapital,
          read: async () => {
            const b = await node.account(tr.id)!.fetchBalance();
            return { equity: b.equity, unrealizedPnl: b.unrealizedPnl };
          },
        })),
    });
    userMetrics = () => users.collect();
    await minute(3);
    await node.keyStore.add({ userId: 'u-alice', exchange: 'binanceusdm', label: 'Alice main', apiKey: 'ALICEKEY00000000000077AB', secret: 'alice-secret-0000000000001' }, 'Alice Kim');
    const bad = await node.keyStore.add({ userId: 'u-bob', exchange: 'okx', label: 'Bob okx', apiKey: 'BOBOKXKEY0000000000042CD', secret: 'bob-secret-00000000000001', passphrase: 'bob pass' }, 'Bob Lee');
    await node.keyStore.markInvalid(bad.id, 'venue answered 401: API key expired', 'system');
    const admin = createAdminApi({
      clock: t.clock,
      platform: node.api,
      accounts: t.accounts,
      store: node.store,
      keyStore: node.keyStore,
      risk: node.risk,
      positions: (id) => node.account(id)!.fetchPositions(),
      metricsCacheMs: 0,
    });
    server = await startServer(
      createWebApp({ api: node.api, accounts: t.accounts, admin, startedAt: node.startedAt, now: () => h.clock.now(), live: { coalesceMs: 50 } }),
    );
    browser = await launchChromium(status.path);
    op = await newPage();
    await signInInBrowser(op, server.url, 'grace@test.example');
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
    await h?.cleanup();
  });

  it('lists every user with P&L, drawdown, bots and last sign-in, and sorts by P&L', async () => {
    await op.goto(`${server.url}/users?role=user`);
    const ids = () => op.locator('#users-body tr.user-row').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-user-id')));
    expect((await ids()).sort()).toEqual(['u-alice', 'u-bob', 'u-carol', 'u-dave']);
    const alice = op.locator('#user-u-alice');
    expect(await alice.locator('td.num').nth(3).textContent()).toMatch(/^\d+\.\d{2} %$/);
    await op.locator('#users-table a[data-sort="pnl"]').click();
    await op.waitForURL(/sort=pnl/);
    const pnl = await op.locator('#users-body tr.user-row td:nth-child(6)').allTextContents();
    const values = pnl.map((s) => Number(s.replace(/,/g, '')));
    expect(values).toEqual([...values].sort((a, b) => b - a));
    await op.screenshot({ path: `${SHOTS}/admin-users.png`, fullPage: true });
  });

  it('suspends a user: their bots pause and their session ends; reinstating brings both back', async () => {
    const alice = await newPage();
    await signInInBrowser(alice, server.url, 'alice@example.com');
    expect(new URL(alice.url()).pathname).toBe('/bots');

    await op.goto(`${server.url}/users/u-alice`);
    await op.locator('#user-positions').waitFor();
    expect(await op.locator('#user-keys').textContent()).toContain('Alice main');
    expect(await op.locator('#user-sessions tbody tr').count()).toBe(1);
    await op.screenshot({ path: `${SHOTS}/admin-user-detail.png`, fullPage: true });

    await op.locator('#suspend-form input[name="reason"]').fill('chargeback under review');
    await op.locator('#suspend-form button[data-action="suspend"]').click();
    await op.locator('#user-summary[data-status="suspended"]').waitFor();
    expect(await op.locator('#user-message').textContent()).toBe('Alice Kim suspended: 1 session ended, 2 bots paused');
    for (const id of ['t-0001', 't-0002']) {
      expect(view(id).status).toBe('paused');
      expect(view(id).pause).toMatchObject({ reason: 'user suspended', by: 'Grace Hopper', scope: 'trader' });
    }
    expect(view('t-0003').status).toBe('running');
    await op.screenshot({ path: `${SHOTS}/admin-user-suspended.png`, fullPage: true });

    // Alice's session is over: her open page goes to sign-in by itself, to come back to /bots,
    // and she cannot sign in again.
    await alice.waitForURL((u) => u.pathname === '/sign-in', { timeout: 10_000 });
    expect(new URL(alice.url()).searchParams.get('next')).toBe('/bots');
    expect(await alice.locator('#sign-in-error-info').textContent()).toBe('Your session has ended. Sign in again to go on.');
    await alice.locator('input[name="email"]').fill('alice@example.com');
    await alice.locator('input[name="password"]').fill(TEST_PASSWORD);
    await Promise.all([alice.waitForLoadState('load'), alice.locator('#sign-in-submit').click()]);
    expect(await alice.locator('#sign-in-error').textContent()).toBe('This account is suspended. Ask an administrator.');

    // A suspended user's bots sit out the next candle.
    const last = view('t-0001').lastCycleAt;
    await minute(1);
    expect(view('t-0001').lastCycleAt).toBe(last);

    await op.locator('#unsuspend-form button[data-action="unsuspend"]').click();
    await op.locator('#user-summary[data-status="active"]').waitFor();
    for (const id of ['t-0001', 't-0002']) expect(view(id).status).toBe('running');
    await signInInBrowser(alice, server.url, 'alice@example.com');
    expect(new URL(alice.url()).pathname).toBe('/bots');
  });

  it('edits the platform risk defaults; the leverage cap pauses bots and one violation is released', async () => {
    await op.goto(`${server.url}/risk`);
    const form = op.locator('#platform-policy-form');
    await form.locator('input[name="maxLeverage"]').fill('1');
    await form.locator('button[data-action="save-platform"]').click();
    await op.locator('#risk-message').waitFor();
    expect(await op.locator('#risk-message').textContent()).toBe('risk policy of the platform saved.');
    expect(await op.locator('#platform-policy').textContent()).toContain('1×');
    await op.screenshot({ path: `${SHOTS}/admin-risk.png`, fullPage: true });

    await minute(1);
    expect(view('t-0001').pause).toMatchObject({ scope: 'risk', by: 'risk' });
    // Raise the cap again before releasing, or the next evaluation would pause it again.
    await op.goto(`${server.url}/risk`);
    await op.locator('#platform-policy-form input[name="maxLeverage"]').fill('10');
    await op.locator('#platform-policy-form button[data-action="save-platform"]').click();
    await op.locator('#risk-message').waitFor();

    await op.goto(`${server.url}/security/violations`);
    const rows = op.locator('#violations-body tr.violation-row');
    expect(await rows.count()).toBe(5);
    const row = op.locator('#violations-body tr.violation-row', { hasText: 'Alpha momentum' });
    expect(await row.textContent()).toContain('leverage over the cap');
    await op.screenshot({ path: `${SHOTS}/admin-violations.png`, fullPage: true });
    await row.locator('details[data-action="release"] > summary').click();
    await row.locator('input[name="reason"]').fill('cap restored to 10');
    await row.locator('form button[type="submit"]').click();
    const id = await row.getAttribute('data-violation-id');
    await op.locator(`#violation-${id}[data-status="released"]`).waitFor();
    expect(await op.locator(`#violation-${id}`).textContent()).toContain('the bot resumed');
    expect(view('t-0001').status).toBe('running');
    await op.screenshot({ path: `${SHOTS}/admin-violation-released.png`, fullPage: true });
  });

  it('revokes an exchange key with a reason and shows it in the key history', async () => {
    await op.goto(`${server.url}/security/keys`);
    const row = op.locator('#keys-body tr.key-row', { hasText: 'Alice main' });
    expect(await op.locator('#keys-body').textContent()).toContain('venue answered 401: API key expired');
    await row.locator('details[data-action="revoke"] > summary').click();
    await row.locator('details[data-action="revoke"] input[name="reason"]').fill('key found in a public repository');
    await row.locator('details[data-action="revoke"] button[type="submit"]').click();
    await op.locator('#keys-body [data-key-status="revoked"]').waitFor();
    expect((await h.node.keyStore.list({ userId: 'u-alice' }))[0]?.status).toBe('revoked');
    await op.reload();
    expect(await op.locator('#key-history').textContent()).toContain('key found in a public repository');
    await op.screenshot({ path: `${SHOTS}/admin-keys.png`, fullPage: true });
  });

  it('shows sign-in security and the audit log of everything above', async () => {
    for (let i = 0; i < 5; i++) await t.accounts.signIn('bob@example.com', 'definitely wrong', { ip: '203.0.113.66', userAgent: 'curl' });
    await op.goto(`${server.url}/security/sign-ins`);
    expect(await op.locator('#suspicious').textContent()).toContain('203.0.113.66');
    await op.screenshot({ path: `${SHOTS}/admin-sign-ins.png`, fullPage: true });

    await op.goto(`${server.url}/security/audit`);
    const actions = await op.locator('#audit-body tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-action')));
    for (const a of ['user.suspend', 'user.pause_bots', 'user.unsuspend', 'risk.policy_set', 'risk.pause', 'risk.release', 'exchange_key.revoke']) expect(actions).toContain(a);
    await op.locator('#audit-body tr[data-action="user.suspend"] details.raw > summary').first().click();
    // Sticky panes land mid-page in a full-page shot taken scrolled down.
    await op.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    await op.screenshot({ path: `${SHOTS}/admin-audit.png`, fullPage: true });
    await op.goto(`${server.url}/security/audit?action=user.suspend`);
    expect(await op.locator('#audit-body tr').count()).toBe(1);
  });

  it('creates an API token shown once, which reads the API', async () => {
    await op.goto(`${server.url}/account`);
    await op.locator('#token-form input[name="name"]').fill('grafana');
    await Promise.all([op.waitForURL(/\/account\/tokens$/), op.locator('#token-create').click()]);
    const token = (await op.locator('#new-token').textContent())!.trim();
    expect(token).toMatch(/^fleet_/);
    await op.screenshot({ path: `${SHOTS}/admin-token.png`, fullPage: true });
    const res = await fetch(`${server.url}/api/v1/users?sort=pnl`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { total: number }).total).toBeGreaterThan(4);
    const denied = await fetch(`${server.url}/api/v1/bots/t-0001/pause`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(denied.status).toBe(403);
    await Promise.all([op.waitForURL(/\/account$/), op.locator('#token-done').click()]);
    await op.screenshot({ path: `${SHOTS}/admin-account-tokens.png`, fullPage: true });
  });

  it('raised no page errors, console errors or CSP violations', () => {
    expect(problems.flatMap((p) => p.errors).filter((e) => !CLIENT_ERROR_LOG.test(e))).toEqual([]);
  });
});
