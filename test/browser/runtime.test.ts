/**
 * The console in Chromium against the real runtime (embedded PGlite, demo fleet, manual market
 * clock): the bots page lists the fleet, follows the runtime live without a reload, and its
 * Pause / Resume and Pause All / Resume All commands reach the actors and the order gate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createWebApp } from '../../web/index.ts';
import { formatMoney, isoTime } from '../../web/format.ts';
import { TEST_PASSWORD, createTestAccounts, signInInBrowser } from '../support/accounts.ts';
import { IN_CI, chromiumStatus, launchChromium, startServer, watchPage } from '../support/browser.ts';
import type { PageProblems, RunningServer } from '../support/browser.ts';
import { harness, type Harness } from '../support/runtime.ts';

const SHOTS = process.env.SCREENSHOT_DIR ?? '/tmp';
const status = chromiumStatus();
const run = status.available || IN_CI;
if (!run && !status.available) console.log(`[browser tests] skipped: ${status.reason}`);

const DEMO_IDS = ['t-0001', 't-0002', 't-0003', 't-0004', 't-0005', 't-0006', 't-0007', 't-0008'];
/** A status code logged by Chromium for a refused request: expected when the server says no. */
const CLIENT_ERROR_LOG = /Failed to load resource: the server responded with a status of 4\d\d/;

describe.skipIf(!run)('the console in Chromium against the real runtime', () => {
  let h: Harness;
  let browser: Browser;
  let server: RunningServer;
  let page: Page;
  let problems: PageProblems;

  const row = (id: string) => page.locator(`#bot-${id}`);
  const badge = (id: string) => row(id).locator('.col-state [data-state]').first();
  const lastCycleAttr = (id: string) => row(id).locator('td.num time').getAttribute('datetime');
  const statusOf = (id: string) => h.node.traders().get(id)?.status;

  beforeAll(async () => {
    if (!status.available) throw new Error(`Chromium is required in CI: ${status.reason}`);
    h = await harness('pglite');
    await h.start();
    await h.minute(2);
    const node = h.node;
    // Accounts on their own in-memory store: the console's sign-in in front of the real runtime.
    const t = createTestAccounts();
    await t.accounts.createUser({ email: 'grace@test.example', displayName: 'Grace Hopper', role: 'operator', password: TEST_PASSWORD });
    server = await startServer(
      createWebApp({ api: node.api, accounts: t.accounts, startedAt: node.startedAt, now: () => h.clock.now(), live: { coalesceMs: 50 } }),
    );
    browser = await launchChromium(status.path);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    problems = watchPage(page);
    await signInInBrowser(page, server.url, 'grace@test.example');
  }, 120_000);

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
    await h?.cleanup();
  });

  it('lists the 8 demo traders with their state badges', async () => {
    await page.goto(`${server.url}/bots`);
    await expect.poll(() => page.locator('#bots-body tr.bot-row').count()).toBe(8);
    await page.locator('#live[data-live="on"]').waitFor();
    const ids = await page.locator('#bots-body tr.bot-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-bot-id')));
    expect([...ids].sort()).toEqual(DEMO_IDS);
    expect([...h.node.traders().keys()].sort()).toEqual(DEMO_IDS);
    for (const id of DEMO_IDS) {
      const v = h.node.traders().get(id)!;
      expect(await row(id).locator('.col-trader a').textContent()).toBe(v.record.name);
      expect(await badge(id).getAttribute('data-state')).toBe('running');
      expect(await lastCycleAttr(id)).toBe(isoTime(v.lastCycleAt));
    }
    await page.screenshot({ path: `${SHOTS}/e2e-bots.png`, fullPage: true });
  });

  it('follows the runtime live: new cycles and an api pause show up without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const before = await lastCycleAttr('t-0001');
    expect(before).not.toBeNull();

    await h.minute(1);
    const after = isoTime(h.node.traders().get('t-0001')!.lastCycleAt);
    expect(after).not.toBe(before);
    await expect.poll(() => lastCycleAttr('t-0001')).toBe(after);
    for (const id of DEMO_IDS) await expect.poll(() => lastCycleAttr(id)).toBe(isoTime(h.node.traders().get(id)!.lastCycleAt));
    // The PV shown is the latest the platform knows of.
    const pv = h.node.api.listBots().find((b) => b.id === 't-0001')!.portfolioValue;
    expect(pv).not.toBeNull();
    await expect.poll(() => row('t-0001').locator('td.num').first().textContent()).toBe(formatMoney(pv));

    const res = await h.node.api.pauseBot('t-0002', { by: 'tester', reason: 'paused from the test' });
    expect(res.ok).toBe(true);
    await row('t-0002').locator('[data-state="paused"]').waitFor();
    expect(await row('t-0002').locator('.col-state .sub').textContent()).toBe('tester: paused from the test');
    expect(await row('t-0002').locator('button[data-action="resume"]').count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await page.screenshot({ path: `${SHOTS}/e2e-live.png`, fullPage: true });

    expect((await h.node.api.resumeBot('t-0002', { by: 'tester' })).ok).toBe(true);
    await row('t-0002').locator('[data-state="running"]').waitFor();
  });

  it('pauses a trader from its row and resumes it', async () => {
    await row('t-0003').locator('button[data-action="pause"]').click();
    await row('t-0003').locator('[data-state="paused"]').waitFor();
    expect(statusOf('t-0003')).toBe('paused');
    expect(h.node.traders().get('t-0003')!.pause?.by).toBe('Grace Hopper');

    // A paused trader sits out the next candle while the others run it.
    const lastBefore = h.node.traders().get('t-0003')!.lastCycleAt;
    await h.minute(1);
    expect(h.node.traders().get('t-0003')!.lastCycleAt).toBe(lastBefore);
    expect(h.node.traders().get('t-0004')!.lastCycleAt).toBe(h.node.lastCandleAt());
    expect(await badge('t-0003').getAttribute('data-state')).toBe('paused');

    await row('t-0003').locator('button[data-action="resume"]').click();
    await row('t-0003').locator('[data-state="running"]').waitFor();
    expect(statusOf('t-0003')).toBe('running');
    expect(await row('t-0003').locator('button[data-action="pause"]').count()).toBe(1);
  });

  it('refuses Pause All without a reason, then pauses every trader and closes the gate, and Resume All reopens it', async () => {
    await page.locator('button[data-dialog-open="pause-all-dialog"]').click();
    const dialog = page.locator('#pause-all-dialog');
    await page.locator('#pause-all-dialog[open]').waitFor();

    // The browser's own validation: nothing is posted while the reason is empty.
    await dialog.locator('button[type="submit"]').click();
    expect(await dialog.locator('textarea[name="reason"]:invalid').count()).toBe(1);
    expect(h.node.gate.isOpen()).toBe(true);

    // A blank reason passes the browser's check; the server refuses it with its message.
    await dialog.locator('textarea[name="reason"]').fill('   ');
    await dialog.locator('button[type="submit"]').click();
    await expect.poll(() => dialog.locator('#pause-all-error').textContent()).toContain('a reason is required');
    expect(await page.locator('#pause-all-dialog[open]').count()).toBe(1);
    expect(h.node.gate.isOpen()).toBe(true);
    expect(h.node.api.platformStatus().tradingPaused).toBe(false);
    await page.screenshot({ path: `${SHOTS}/e2e-pause-all-refused.png` });

    await dialog.locator('textarea[name="reason"]').fill('Exchange maintenance window');
    await dialog.locator('button[type="submit"]').click();
    const banner = page.locator('#paused-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('TRADING PAUSED');
    expect(await banner.locator('.paused-by').textContent()).toBe('Grace Hopper');
    expect(await banner.locator('.paused-reason').textContent()).toBe('Exchange maintenance window');
    await page.locator('#pause-all-dialog[open]').waitFor({ state: 'detached' });
    for (const id of DEMO_IDS) await row(id).locator('[data-state="paused"]').waitFor();
    for (const id of DEMO_IDS) expect(statusOf(id)).toBe('paused');
    expect(h.node.gate.isOpen()).toBe(false);
    expect(h.node.api.platformStatus().pause).toMatchObject({ by: 'Grace Hopper', reason: 'Exchange maintenance window' });
    await page.screenshot({ path: `${SHOTS}/e2e-trading-paused.png`, fullPage: true });

    // Nothing runs while trading is paused.
    const lastBefore = h.node.traders().get('t-0001')!.lastCycleAt;
    await h.minute(1);
    expect(h.node.traders().get('t-0001')!.lastCycleAt).toBe(lastBefore);

    await page.locator('button[data-dialog-open="resume-all-dialog"]').click();
    const resume = page.locator('#resume-all-dialog');
    await page.locator('#resume-all-dialog[open]').waitFor();
    await resume.locator('button[type="submit"]').click();
    await banner.waitFor({ state: 'detached' });
    await page.locator('button[data-dialog-open="pause-all-dialog"]').waitFor();
    for (const id of DEMO_IDS) await row(id).locator('[data-state="running"]').waitFor();
    for (const id of DEMO_IDS) expect(statusOf(id)).toBe('running');
    expect(h.node.gate.isOpen()).toBe(true);

    await h.minute(1);
    await expect.poll(() => lastCycleAttr('t-0001')).toBe(isoTime(h.node.lastCandleAt()));
    await page.screenshot({ path: `${SHOTS}/e2e-resumed.png`, fullPage: true });
  });

  it('raised no page errors, console errors or CSP violations', () => {
    expect(problems.errors.filter((e) => !CLIENT_ERROR_LOG.test(e))).toEqual([]);
  });
});
