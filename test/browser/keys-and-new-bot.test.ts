/**
 * Exchange keys and a new bot in Chromium over the fake api and the real admin layer (in-memory
 * key store, fake venue check): an operator adds an exchange key on /account/exchange-keys and
 * sees the venue's verdict, then creates a paper bot from /bots/new (the owner's keys refetched
 * when the owner changes, the params when the version changes) and lands on the bot's page.
 * Screenshots go to $SCREENSHOT_DIR/keys-*.png and new-bot-*.png.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createWebApp } from '../../web/index.ts';
import { TEST_PASSWORD, createTestAccounts, signInInBrowser } from '../support/accounts.ts';
import { IN_CI, chromiumStatus, launchChromium, startServer, watchPage } from '../support/browser.ts';
import type { PageProblems, RunningServer } from '../support/browser.ts';
import { T0, createFakeApi } from '../support/fake-api.ts';
import type { FakeApi } from '../support/fake-api.ts';
import { createTestAdmin, type TestAdmin } from '../support/fake-admin.ts';

const SHOTS = process.env.SCREENSHOT_DIR ?? '/tmp';
const status = chromiumStatus();
const run = status.available || IN_CI;
if (!run && !status.available) console.log(`[browser tests] skipped: ${status.reason}`);

const SECRET = 'olga-secret-value-000000000001';

describe.skipIf(!run)('exchange keys and a new bot in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let api: FakeApi;
  let admin: TestAdmin;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    if (!status.available) throw new Error(`Chromium is required in CI: ${status.reason}`);
    mkdirSync(SHOTS, { recursive: true });
    api = createFakeApi({ now: () => T0 });
    const t = createTestAccounts();
    admin = createTestAdmin(api, t.accounts, t.clock);
    await admin.ready;
    await t.accounts.createUser({ id: 'u-olga', email: 'olga@test.example', displayName: 'Olga Operator', role: 'operator', password: TEST_PASSWORD });
    server = await startServer(createWebApp({ api, accounts: t.accounts, admin: admin.admin, startedAt: T0 - 3_600_000, now: () => T0, live: { coalesceMs: 50 } }));
    browser = await launchChromium(status.path);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    problems = watchPage(page);
    await signInInBrowser(page, server.url, 'olga@test.example');
  });

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
  });

  it('adds an exchange key from the user menu and shows the venue’s verdict', async () => {
    await page.goto(`${server.url}/bots`);
    await Promise.all([page.waitForURL(/\/account\/exchange-keys$/), page.locator('#userbox-keys').click()]);
    expect(await page.locator('#own-keys-body tr.empty').textContent()).toContain('No exchange keys yet');
    await page.locator('#key-exchange').selectOption('bybit');
    await page.locator('input[name="label"]').fill('Olga bybit');
    await page.locator('input[name="apiKey"]').fill('OLGABYBIT00000000000042EF');
    await page.locator('input[name="secret"]').fill(SECRET);
    await page.locator('#add-key-submit').click();
    const message = page.locator('#own-keys-message');
    await message.waitFor();
    expect(await message.textContent()).toBe('Added bybit key “Olga bybit” (…42EF). Valid');
    const row = page.locator('#own-keys-body tr.key-row');
    expect(await row.count()).toBe(1);
    expect(await row.locator('[data-key-status]').textContent()).toBe('Valid');
    // The form is empty again: the secret is nowhere on the page.
    expect(await page.locator('input[name="secret"]').inputValue()).toBe('');
    expect(await page.content()).not.toContain(SECRET);

    // A second key the venue refuses.
    admin.validator.next({ status: 'invalid', reason: 'venue answered 401: invalid API key' });
    await page.locator('#key-exchange').selectOption('okx');
    await page.locator('input[name="label"]').fill('Olga okx');
    await page.locator('input[name="apiKey"]').fill('OLGAOKX000000000000099AA');
    await page.locator('input[name="secret"]').fill(SECRET);
    await page.locator('input[name="passphrase"]').fill('olga pass');
    await page.locator('#add-key-submit').click();
    await expect.poll(() => message.textContent()).toBe('Added okx key “Olga okx” (…99AA). Invalid: venue answered 401: invalid API key');
    expect(await page.locator('#own-keys-body tr.key-row').count()).toBe(2);
    await page.screenshot({ path: `${SHOTS}/keys-own-exchange-keys.png`, fullPage: true });
  });

  it('creates a paper bot from /bots/new and lands on its page', async () => {
    await page.goto(`${server.url}/bots`);
    await Promise.all([page.waitForURL(/\/bots\/new$/), page.locator('#new-bot').click()]);
    // The owner defaults to the caller: their valid key is offered, the invalid one is not.
    expect(await page.locator('#bot-owner').inputValue()).toBe('u-olga');
    expect(await page.locator('#bot-account option').allTextContents()).toEqual(['paper — simulated account funded with the initial capital', 'bybit — Olga bybit (Valid)']);
    // Another owner: their keys are fetched.
    await page.locator('#bot-owner').selectOption('u-51');
    await expect.poll(() => page.locator('#bot-account option').allTextContents()).toEqual(['paper — simulated account funded with the initial capital', 'bybit — Linus bybit (Unchecked)']);
    await page.locator('#bot-account').selectOption('paper');
    await page.locator('#bot-group').selectOption('m-beta');
    await page.locator('select[name="ref"]').selectOption('equal-weight@1');
    await expect.poll(() => page.locator('textarea[name="params"]').inputValue()).toContain('"threshold": 0.05');
    await page.locator('input[name="name"]').fill('linus-eq');
    await page.locator('input[name="initialCapital"]').fill('5000');
    await page.locator('input[name="leverage"]').fill('3');
    await page.screenshot({ path: `${SHOTS}/new-bot-form.png`, fullPage: true });

    // A name the owner already uses is refused, and the form keeps what was entered.
    await page.locator('input[name="name"]').fill('beta-eq');
    await page.locator('#new-bot-submit').click();
    await page.locator('#new-bot-error').waitFor();
    expect(await page.locator('#new-bot-error').textContent()).toBe('Not created: the user already has a bot named "beta-eq".');
    expect(await page.locator('input[name="initialCapital"]').inputValue()).toBe('5000');
    expect(await page.locator('#bot-owner').inputValue()).toBe('u-51');
    expect(await page.locator('#bot-group').inputValue()).toBe('m-beta');
    await page.screenshot({ path: `${SHOTS}/new-bot-refused.png`, fullPage: true });

    await page.locator('input[name="name"]').fill('linus-eq');
    await Promise.all([page.waitForURL(/\/bots\/t-new-\d+$/), page.locator('#new-bot-submit').click()]);
    await page.locator('#bot-summary').waitFor();
    expect(await page.locator('#bot-summary h1').textContent()).toContain('linus-eq');
    const created = api.calls.filter((c) => c.method === 'createBot').map((c) => c.args[0]);
    expect(created.at(-1)).toMatchObject({
      name: 'linus-eq',
      userId: 'u-51',
      managerId: 'm-beta',
      strategy: { name: 'equal-weight', version: 1 },
      params: { threshold: 0.05 },
      venue: 'paper',
      keyId: null,
      initialCapital: '5000',
      leverage: 3,
      startPaused: false,
    });
    await page.screenshot({ path: `${SHOTS}/new-bot-created.png`, fullPage: true });
  });

  it('shows the live venues in use on the status page', async () => {
    api.setHealth({
      exchanges: [
        { venue: 'binanceusdm', keys: 2, traders: 3, requests: 12345, weightUsed: 960, weightCapacity: 2400, rateLimitHits: 0, queued: 0, pausedUntil: null },
        { venue: 'okx', keys: 1, traders: 1, requests: 310, weightUsed: 19, weightCapacity: 20, rateLimitHits: 4, queued: 2, pausedUntil: T0 + 30_000 },
      ],
    });
    await page.goto(`${server.url}/status`);
    expect(await page.locator('#exchanges-table tbody tr').count()).toBe(2);
    expect(await page.locator('#exchanges-table tr[data-venue="okx"] td').nth(4).textContent()).toBe('19 / 20 (95 %)');
    await page.screenshot({ path: `${SHOTS}/keys-status-exchanges.png`, fullPage: true });
  });

  it('logged no console errors and no CSP violations (but the refused form’s 409)', () => {
    expect(problems.errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
  });
});
