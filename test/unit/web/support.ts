/**
 * Helpers for console route tests: an app over the fake api and a test accounts service, a
 * client signed in as a role (cookie and CSRF header on every request), form posts with the
 * headers a browser sends, and a bounded reader for the SSE stream.
 */
import type { Hono } from 'hono';
import type { Role } from '../../../runtime/accounts/index.ts';
import { createWebApp } from '../../../web/index.ts';
import type { AppEnv, LiveOptions } from '../../../web/index.ts';
import { createTestAccounts, signInAs, type TestAccounts, type TestSession } from '../../support/accounts.ts';
import { T0, createFakeApi } from '../../support/fake-api.ts';
import type { FakeApi } from '../../support/fake-api.ts';
import { createTestAdmin, type TestAdmin } from '../../support/fake-admin.ts';

/** The origin `app.request()` uses for relative URLs. */
export const ORIGIN = 'http://localhost';

/** Something requests can be sent to: the app itself or a signed-in client of it. */
export interface Requester {
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** A client signed in as one role: every request carries its cookie and CSRF header. */
export interface SignedInClient extends Requester {
  /** The session (resolves once signed in). */
  session(): Promise<TestSession>;
}

function headersOf(init: RequestInit | undefined): Headers {
  return new Headers(init?.headers ?? {});
}

/** A client of `app` signed in as `role` (created lazily on the first request). */
export function clientAs(app: Hono<AppEnv>, t: TestAccounts, role: Role): SignedInClient {
  let session: Promise<TestSession> | null = null;
  const get = () => (session ??= signInAs(t, role));
  return {
    session: get,
    async request(path, init) {
      const s = await get();
      const headers = headersOf(init);
      headers.set('Cookie', [headers.get('Cookie'), s.cookie].filter(Boolean).join('; '));
      if (!headers.has('X-CSRF-Token')) headers.set('X-CSRF-Token', s.csrf);
      return app.request(path, { ...init, headers });
    },
  };
}

/** An app over a fresh fake api and accounts, with a fixed clock, and a client signed in as `role` (default admin). */
export function setup(
  live?: LiveOptions,
  opts: { role?: Role } = {},
): { app: SignedInClient; raw: Hono<AppEnv>; api: FakeApi; t: TestAccounts; admin: TestAdmin; as(role: Role): SignedInClient } {
  const api = createFakeApi();
  const t = createTestAccounts();
  const admin = createTestAdmin(api, t.accounts, t.clock);
  const raw = createWebApp({ api, accounts: t.accounts, admin: admin.admin, startedAt: T0 - 90_000, now: () => T0, live: live ?? { coalesceMs: 10 } });
  return { app: clientAs(raw, t, opts.role ?? 'admin'), raw, api, t, admin, as: (role) => clientAs(raw, t, role) };
}

/** Headers htmx sends with every request. */
export const HX = { 'HX-Request': 'true' } as const;

/** POSTs a urlencoded form as a same-origin browser would (htmx unless `htmx: false`). */
export function postForm(
  app: Requester,
  path: string,
  form: Record<string, string> = {},
  opts: { htmx?: boolean; origin?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...(opts.headers ?? {}) };
  const origin = opts.origin === undefined ? ORIGIN : opts.origin;
  if (origin !== null) headers.Origin = origin;
  if (opts.htmx !== false) Object.assign(headers, HX);
  return Promise.resolve(app.request(path, { method: 'POST', headers, body: new URLSearchParams(form).toString() }));
}

/** Reads SSE text from a response until `done(text)` holds; fails after `timeoutMs`. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
  timeoutMs = 5000,
  prior = '',
): Promise<string> {
  const decoder = new TextDecoder();
  let text = prior;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`SSE: condition not met within ${timeoutMs} ms; got:\n${text.slice(-2000)}`)), timeoutMs);
  });
  try {
    while (!done(text)) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk.done) throw new Error(`SSE stream ended; got:\n${text.slice(-2000)}`);
      text += decoder.decode(chunk.value, { stream: true });
    }
    return text;
  } finally {
    clearTimeout(timer);
  }
}

/** Splits SSE text into complete messages (each with its joined data and its fields). */
export function sseMessages(text: string): { data: string; event: string | null; id: string | null; comment: boolean }[] {
  const out: { data: string; event: string | null; id: string | null; comment: boolean }[] = [];
  const blocks = text.split('\n\n');
  blocks.pop(); // the last block is incomplete (or empty)
  for (const block of blocks) {
    const lines = block.split('\n');
    const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
    const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim() ?? null;
    const id = lines.find((l) => l.startsWith('id:'))?.slice(3).trim() ?? null;
    out.push({ data: data.join('\n'), event, id, comment: lines.every((l) => l.startsWith(':')) });
  }
  return out;
}
