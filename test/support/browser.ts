/**
 * Browser-test helpers, reusable with the real runtime: serve a Hono app on a free loopback
 * port, find and launch Debian's Chromium with playwright-core, and collect a page's console
 * errors (CSP violations included) so a test can assert there were none.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

/** Where Chromium is expected (override with `CHROMIUM_PATH`). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether Chromium can be launched here, and why not. */
export type ChromiumStatus = { readonly available: true; readonly path: string } | { readonly available: false; readonly reason: string };

/** Checks for the Chromium binary. */
export function chromiumStatus(path = CHROMIUM_PATH): ChromiumStatus {
  return existsSync(path)
    ? { available: true, path }
    : { available: false, reason: `Chromium not found at ${path} (install it: apt-get install -y chromium, or set CHROMIUM_PATH)` };
}

/** True when running in CI, where a missing browser must fail the suite instead of skipping it. */
export const IN_CI = process.env.CI === 'true';

/** Launches headless Chromium with flags that work in containers. */
export function launchChromium(path = CHROMIUM_PATH): Promise<Browser> {
  return chromium.launch({
    executablePath: path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A running server. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Closes every connection (SSE streams included) and the listener. */
  close(): Promise<void>;
}

/** Serves `app.fetch` on 127.0.0.1 at a free port. */
export function startServer(app: { fetch: (req: Request) => Response | Promise<Response> }): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      const http = server as Server;
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            http.closeAllConnections();
            http.close((err) => (err ? fail(err) : done()));
          }),
      });
    });
    server.once('error', reject);
  });
}

/** Console errors, page errors and failed requests of one page, gathered as they happen. */
export interface PageProblems {
  readonly errors: string[];
}

/** Starts collecting a page's problems (call before the first navigation). */
export function watchPage(page: Page): PageProblems {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => {
    // A live stream cut by navigation or page close is not a failure, nor is the icon of a
    // page left before its icon arrived.
    const aborted = req.failure()?.errorText === 'net::ERR_ABORTED';
    if (req.url().includes('/events') || (aborted && req.url().endsWith('/favicon.svg'))) return;
    errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText ?? ''}`);
  });
  return { errors };
}
