import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createWebApp } from '../../web/index.ts';
import { TEST_PASSWORD, createTestAccounts, signInInBrowser } from '../support/accounts.ts';
import { IN_CI, chromiumStatus, launchChromium, startServer, watchPage } from '../support/browser.ts';
import type { PageProblems, RunningServer } from '../support/browser.ts';
import { T0, createFakeApi } from '../support/fake-api.ts';
import type { FakeApi } from '../support/fake-api.ts';

const SHOTS = process.env.SCREENSHOT_DIR ?? '/tmp';
const status = chromiumStatus();
const run = status.available || IN_CI;
if (!run && !status.available) console.log(`[browser tests] skipped: ${status.reason}`);

describe.skipIf(!run)('the console in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let api: FakeApi;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    if (!status.available) throw new Error(`Chromium is required in CI: ${status.reason}`);
    api = createFakeApi({ now: () => T0 });
    const t = createTestAccounts();
    await t.accounts.createUser({ email: 'grace@test.example', displayName: 'Grace Hopper', role: 'operator', password: TEST_PASSWORD });
    server = await startServer(createWebApp({ api, accounts: t.accounts, startedAt: T0 - 3_600_000, now: () => T0, live: { coalesceMs: 50 } }));
    browser = await launchChromium(status.path);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    problems = watchPage(page);
    await signInInBrowser(page, server.url, 'grace@test.example');
  });

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
  });

  it('shows the bots and connects the live stream', async () => {
    await page.goto(`${server.url}/bots`);
    await expect.poll(() => page.locator('#bots-body tr.bot-row').count()).toBe(4);
    await page.locator('#live[data-live="on"]').waitFor();
    expect(await page.locator('#bot-t-0001 .col-trader a').textContent()).toBe('alpha-btc');
    await page.screenshot({ path: `${SHOTS}/console-bots.png`, fullPage: true });
  });

  it('updates a row from a change the api pushes, without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    api.updateBot('t-0004', { status: 'running', stateDetail: 'running.idle', portfolioValue: '10050.00', roe: 0.005 });
    await page.locator('#bot-t-0004 [data-state="running"]').waitFor();
    expect(await page.locator('#bot-t-0004 td.num').first().textContent()).toBe('10,050.00');
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  });

  it('pauses a bot from its row and the badge changes', async () => {
    await page.locator('#bot-t-0001 button[data-action="pause"]').click();
    await page.locator('#bot-t-0001 [data-state="paused"]').waitFor();
    expect(api.listBots().find((b) => b.id === 't-0001')?.status).toBe('paused');
    expect(await page.locator('#bot-t-0001 button[data-action="resume"]').count()).toBe(1);
  });

  it('asks for a reason before pausing all trading, then shows who (the signed-in user) and why', async () => {
    await page.locator('button[data-dialog-open="pause-all-dialog"]').click();
    const dialog = page.locator('#pause-all-dialog');
    await page.locator('#pause-all-dialog[open]').waitFor();
    expect(await dialog.locator('.dialog-text b').textContent()).toBe('Grace Hopper');

    await dialog.locator('button[type="submit"]').click();
    expect(await dialog.locator('textarea[name="reason"]:invalid').count()).toBe(1);
    expect(api.calls.some((c) => c.method === 'pauseAll')).toBe(false);
    expect(await page.locator('#pause-all-dialog[open]').count()).toBe(1);

    await dialog.locator('textarea[name="reason"]').fill('Exchange maintenance window');
    await page.screenshot({ path: `${SHOTS}/console-pause-all-dialog.png` });
    await dialog.locator('button[type="submit"]').click();

    const banner = page.locator('#paused-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('TRADING PAUSED');
    expect(await banner.locator('.paused-by').textContent()).toBe('Grace Hopper');
    expect(await banner.locator('.paused-reason').textContent()).toBe('Exchange maintenance window');
    await page.locator('#pause-all-dialog[open]').waitFor({ state: 'detached' });
    expect(api.calls.find((c) => c.method === 'pauseAll')?.args[0]).toMatchObject({ by: 'Grace Hopper', reason: 'Exchange maintenance window', ip: '127.0.0.1' });
    await page.locator('button[data-dialog-open="resume-all-dialog"]').waitFor();
    await page.locator('#bot-t-0004 [data-state="paused"]').waitFor();
    await page.screenshot({ path: `${SHOTS}/console-trading-paused.png`, fullPage: true });
  });

  it('resumes all trading from its dialog', async () => {
    await page.locator('button[data-dialog-open="resume-all-dialog"]').click();
    const dialog = page.locator('#resume-all-dialog');
    await page.locator('#resume-all-dialog[open]').waitFor();
    await dialog.locator('button[type="submit"]').click();
    await page.locator('#paused-banner').waitFor({ state: 'detached' });
    await page.locator('button[data-dialog-open="pause-all-dialog"]').waitFor();
    await page.locator('#bot-t-0004 [data-state="running"]').waitFor();
    expect(api.platformStatus().tradingPaused).toBe(false);
  });

  it('renders a bot detail page and the strategies page', async () => {
    await page.goto(`${server.url}/bots/t-0001`);
    await page.locator('#bot-summary').waitFor();
    await page.locator('#live[data-live="on"]').waitFor();
    expect(await page.locator('details.cycle').count()).toBe(2);
    await page.screenshot({ path: `${SHOTS}/console-bot-detail.png`, fullPage: true });

    await page.locator('#bot-summary button[data-action="restart"]').click();
    await page.locator('#bot-summary [data-state="starting"]').waitFor();
    expect(api.calls.filter((c) => c.method === 'restartBot').map((c) => c.args[0])).toEqual(['t-0001']);

    await page.locator('select[name="ref"]').selectOption('equal-weight@1');
    await expect.poll(() => page.locator('textarea[name="params"]').inputValue()).toContain('"threshold": 0.05');

    await page.goto(`${server.url}/strategies`);
    await page.locator('#files-table tr.file-broken').waitFor();
    // The detail page's stream ended with the navigation: only this page's stream is subscribed.
    await expect.poll(() => api.subscriberCount()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/console-strategies.png`, fullPage: true });
  });

  it('logged no console errors and no CSP violations', () => {
    expect(problems.errors).toEqual([]);
  });
});
