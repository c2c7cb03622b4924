/**
 * Accounts in Chromium: an anonymous visitor is sent to sign in; each role signs in through the
 * form and sees and does exactly what it may; an operator enrols two-factor authentication (QR
 * code, a code generated here with otpauth, recovery codes) and signs in again with a TOTP code.
 */
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Role } from '../../runtime/accounts/index.ts';
import { createWebApp } from '../../web/index.ts';
import { ROLE_USERS, TEST_PASSWORD, createTestAccounts, enrolTotp, ensureRoleUser, signInInBrowser, type TestAccounts } from '../support/accounts.ts';
import { IN_CI, chromiumStatus, launchChromium, startServer, watchPage } from '../support/browser.ts';
import type { PageProblems, RunningServer } from '../support/browser.ts';
import { T0, createFakeApi, type FakeApi } from '../support/fake-api.ts';

const SHOTS = process.env.SCREENSHOT_DIR ?? '/tmp';
const status = chromiumStatus();
const run = status.available || IN_CI;
if (!run && !status.available) console.log(`[browser tests] skipped: ${status.reason}`);

/** Chromium logs refused requests (403/404 the test provokes on purpose). */
const CLIENT_ERROR_LOG = /Failed to load resource: the server responded with a status of 4\d\d/;

/** A code for the accounts clock's time, made with otpauth directly. */
const codeAt = (secret: string, at: number) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at });

describe.skipIf(!run)('accounts in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let api: FakeApi;
  let t: TestAccounts;
  const contexts: BrowserContext[] = [];
  const problems: PageProblems[] = [];

  const rows = (page: Page) => page.locator('#bots-body tr.bot-row').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-bot-id')));

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    problems.push(watchPage(page));
    return page;
  }

  async function signedInAs(role: Role): Promise<Page> {
    const page = await newPage();
    await signInInBrowser(page, server.url, ROLE_USERS[role].email);
    return page;
  }

  beforeAll(async () => {
    if (!status.available) throw new Error(`Chromium is required in CI: ${status.reason}`);
    api = createFakeApi({ now: () => T0 });
    t = createTestAccounts({ require2faRoles: ['admin', 'operator'] });
    for (const role of ['admin', 'operator', 'manager', 'user', 'viewer'] as const) await ensureRoleUser(t.accounts, role);
    server = await startServer(createWebApp({ api, accounts: t.accounts, startedAt: T0 - 3_600_000, now: () => T0, live: { coalesceMs: 50 } }));
    browser = await launchChromium(status.path);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
  });

  it('sends an anonymous visitor to sign in, refuses a wrong password, then returns them where they were going', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/bots/t-0001`);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/sign-in?next=%2Fbots%2Ft-0001');
    expect(await page.locator('#status-bar').count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}/accounts-sign-in.png`, fullPage: true });

    await page.locator('input[name="email"]').fill(ROLE_USERS.viewer.email);
    await page.locator('input[name="password"]').fill('not the password');
    await Promise.all([page.waitForURL(/\/sign-in$/), page.locator('#sign-in-submit').click()]);
    expect(await page.locator('#sign-in-error').textContent()).toBe('The email or password is incorrect.');
    await page.screenshot({ path: `${SHOTS}/accounts-sign-in-refused.png`, fullPage: true });

    await page.locator('input[name="password"]').fill(TEST_PASSWORD);
    await Promise.all([page.waitForURL(/\/bots\/t-0001$/), page.locator('#sign-in-submit').click()]);
    await page.locator('#bot-summary').waitFor();
  });

  it('shows a viewer every bot and no command, and refuses a command posted anyway', async () => {
    const page = await signedInAs('viewer');
    await page.goto(`${server.url}/bots`);
    await expect.poll(() => rows(page)).toEqual(['t-0001', 't-0002', 't-0003', 't-0004']);
    expect(await page.locator('button[data-action]').count()).toBe(0);
    expect(await page.locator('button[data-dialog-open="pause-all-dialog"]').count()).toBe(0);
    expect(await page.locator('#userbox').getAttribute('data-role')).toBe('viewer');
    const statuses = await page.evaluate(async () => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document;
      const token = doc.querySelector('meta[name="csrf-token"]')!.getAttribute('content')!;
      const post = (headers: Record<string, string>) =>
        fetch('/bots/t-0001/pause', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: '' }).then((r) => r.status);
      return [await post({ 'X-CSRF-Token': token }), await post({})];
    });
    expect(statuses).toEqual([403, 403]);
    expect(api.calls.some((c) => c.method === 'pauseBot')).toBe(false);
    await page.screenshot({ path: `${SHOTS}/accounts-viewer-bots.png`, fullPage: true });
  });

  it("shows a manager their group's bots and lets them pause one", async () => {
    const page = await signedInAs('manager');
    await page.goto(`${server.url}/bots`);
    await expect.poll(() => rows(page)).toEqual(['t-0001', 't-0002']);
    expect(await page.locator('#managers-body tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-manager-id')))).toEqual(['m-alpha']);
    expect(await page.locator('button[data-dialog-open="pause-all-dialog"]').count()).toBe(0);
    await page.locator('#bot-t-0001 button[data-action="pause"]').click();
    await page.locator('#bot-t-0001 [data-state="paused"]').waitFor();
    expect(api.calls.find((c) => c.method === 'pauseBot')?.args).toEqual(['t-0001', expect.objectContaining({ by: 'Mia Manager', userId: 'u-manager' })]);
    await page.screenshot({ path: `${SHOTS}/accounts-manager-bots.png`, fullPage: true });
  });

  it('shows a user their own bots only, lets them resume one, and hides the others', async () => {
    const page = await signedInAs('user');
    await page.goto(`${server.url}/bots`);
    await expect.poll(() => rows(page)).toEqual(['t-0001', 't-0004']);
    expect(await page.locator('#managers-table').count()).toBe(0);
    expect(await page.locator('button[data-action="restart"]').count()).toBe(0);
    await page.locator('#bot-t-0001 button[data-action="resume"]').click();
    await page.locator('#bot-t-0001 [data-state="running"]').waitFor();
    expect(api.calls.filter((c) => c.method === 'resumeBot').map((c) => (c.args[1] as { userId: string }).userId)).toEqual(['u-17']);
    const res = await page.goto(`${server.url}/bots/t-0002`);
    expect(res?.status()).toBe(404);
    expect(await page.locator('.error-message').textContent()).toBe('No trader with id "t-0002".');
  });

  it('makes an operator enrol 2FA with the QR code first, then gives them the console with Pause All', async () => {
    const page = await signedInAs('operator');
    expect(new URL(page.url()).pathname).toBe('/account/2fa');
    await page.locator('#enrol-required').waitFor();
    const qr = page.locator('#totp-qr');
    await expect.poll(() => qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const secret = (await page.locator('#totp-secret').getAttribute('data-secret'))!;
    await page.screenshot({ path: `${SHOTS}/accounts-2fa-enrol.png`, fullPage: true });

    // Anything else still leads back to the enrolment.
    await page.goto(`${server.url}/bots`);
    expect(new URL(page.url()).pathname).toBe('/account/2fa');

    await page.locator('#enrol-form input[name="code"]').fill('000000');
    await Promise.all([page.waitForLoadState('load'), page.locator('#enrol-submit').click()]);
    await expect.poll(() => page.locator('#enrol-error').textContent()).toContain('that code does not match');

    await page.locator('#enrol-form input[name="code"]').fill(codeAt(secret, t.clock.now()));
    await Promise.all([page.waitForURL(/\/account\/2fa\/verify$/), page.locator('#enrol-submit').click()]);
    await page.locator('#recovery-codes').waitFor();
    expect(await page.locator('#recovery-codes li').count()).toBe(10);
    await page.screenshot({ path: `${SHOTS}/accounts-recovery-codes.png`, fullPage: true });

    await Promise.all([page.waitForURL(/\/account$/), page.locator('#recovery-continue').click()]);
    expect(await page.locator('#twofa-status').getAttribute('data-enabled')).toBe('true');
    await page.screenshot({ path: `${SHOTS}/accounts-account.png`, fullPage: true });

    await page.goto(`${server.url}/bots`);
    await page.locator('button[data-dialog-open="pause-all-dialog"]').waitFor();
    expect((await t.accounts.store.audit.list({ limit: 5, action: 'account.2fa_enabled' }))[0]).toMatchObject({ actorUserId: 'u-operator' });

    // Sign out, then back in with the password and a fresh TOTP code.
    await Promise.all([page.waitForURL(/\/sign-in$/), page.locator('#sign-out').click()]);
    t.clock.advance(30_000);
    await page.locator('input[name="email"]').fill(ROLE_USERS.operator.email);
    await page.locator('input[name="password"]').fill(TEST_PASSWORD);
    await Promise.all([page.waitForURL(/\/sign-in\/2fa/), page.locator('#sign-in-submit').click()]);
    await page.screenshot({ path: `${SHOTS}/accounts-2fa-sign-in.png`, fullPage: true });
    await page.locator('input[name="code"]').fill(codeAt(secret, t.clock.now()));
    await Promise.all([page.waitForURL(/\/bots$/), page.locator('#second-factor-submit').click()]);
    await page.locator('button[data-dialog-open="pause-all-dialog"]').waitFor();
  });

  it('signs in an admin with a TOTP code and shows everything', async () => {
    const admin = (await t.accounts.store.users.get('u-admin'))!;
    const { secret } = await enrolTotp(t, admin.id);
    t.clock.advance(30_000);
    const page = await newPage();
    await signInInBrowser(page, server.url, admin.email, TEST_PASSWORD, () => codeAt(secret, t.clock.now()));
    expect(new URL(page.url()).pathname).toBe('/bots');
    await expect.poll(() => rows(page)).toEqual(['t-0001', 't-0002', 't-0003', 't-0004']);
    expect(await page.locator('#userbox').getAttribute('data-role')).toBe('admin');
    await page.goto(`${server.url}/account`);
    expect(await page.locator('#twofa-status').getAttribute('data-enabled')).toBe('true');
    expect(await page.locator('#disable-2fa-form').count()).toBe(0);
  });

  it('raised no page errors, console errors or CSP violations', () => {
    expect(problems.flatMap((p) => p.errors).filter((e) => !CLIENT_ERROR_LOG.test(e))).toEqual([]);
  });
});
