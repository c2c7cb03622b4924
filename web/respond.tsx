/**
 * Response helpers: a view renders as a whole page, or alone as a fragment when htmx asks
 * (`HX-Request`), plus the error pages.
 */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { PlatformStatus } from '../runtime/api.ts';
import { errorMessage } from '../runtime/domain.ts';
import type { Access } from './access.ts';
import { NO_ACCESS } from './access.ts';
import { statusFor } from './scope.ts';
import type { AppEnv, ResolvedDeps } from './types.ts';
import { ErrorPage } from './views/errors.tsx';
import type { NavKey } from './views/layout.tsx';
import { BareLayout, Layout } from './views/layout.tsx';

/** Status codes the console answers with. */
export type Status = 200 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 423 | 429 | 500 | 503;

/** What the views may offer on this request (set by the auth middleware). */
export function accessOf(c: Context): Access {
  return (c as Context<AppEnv>).get('access') ?? NO_ACCESS;
}

/** True for an htmx request that wants a fragment (history restores want the whole page). */
export function isHtmx(c: Context): boolean {
  return c.req.header('HX-Request') === 'true' && c.req.header('HX-History-Restore-Request') !== 'true';
}

/** Renders JSX to an HTML string (awaiting async components). */
export async function renderHtml(node: Child): Promise<string> {
  const n = await node;
  if (n === null || n === undefined || typeof n === 'boolean') return '';
  return await n.toString();
}

/** The platform status as the viewer may see it, or null when reading it fails (so error pages still render). */
export function safeStatus(deps: ResolvedDeps, access: Access = NO_ACCESS): PlatformStatus | null {
  try {
    return statusFor(deps.api, access.principal);
  } catch (err) {
    deps.log.error({ err: errorMessage(err) }, 'platformStatus failed');
    return null;
  }
}

/** What a page needs besides its content. */
export interface PageOptions {
  readonly title: string;
  readonly active: NavKey;
  /** The live-stream URL for this page, or null. */
  readonly live: string | null;
  readonly status?: Status;
}

/**
 * Sends a view as a whole page, or as a fragment on an htmx request. Without a signed-in
 * principal the page has no navigation and no platform status.
 */
export async function sendPage(c: Context, deps: ResolvedDeps, opts: PageOptions, content: Child): Promise<Response> {
  const status = opts.status ?? 200;
  if (isHtmx(c)) return c.html(await renderHtml(content), status);
  const access = accessOf(c);
  if (!access.principal) return sendBarePage(c, opts.title, content, status);
  const html = await renderHtml(
    <Layout
      title={opts.title}
      active={opts.active}
      status={safeStatus(deps, access)}
      liveUrl={opts.live}
      uptimeMs={Math.max(0, deps.now() - deps.startedAt)}
      access={access}
    >
      {content}
    </Layout>,
  );
  return c.html(`<!DOCTYPE html>${html}`, status);
}

/** Sends a page without navigation or platform status (sign-in, second factor). */
export async function sendBarePage(c: Context, title: string, content: Child, status: Status = 200): Promise<Response> {
  const html = await renderHtml(<BareLayout title={title} csrf={accessOf(c).csrf}>{content}</BareLayout>);
  return c.html(`<!DOCTYPE html>${html}`, status);
}

/** Sends a fragment (htmx swaps it into its target). */
export async function sendFragment(c: Context, content: Child, status: Status = 200): Promise<Response> {
  return c.html(await renderHtml(content), status);
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Refused',
  413: 'Too large',
  415: 'Unsupported form encoding',
  423: 'Locked',
  429: 'Too many attempts',
  422: 'Refused',
  500: 'Something went wrong',
  503: 'Unavailable',
};

/** Sends an error page (or its fragment on an htmx request). */
export function sendError(c: Context, deps: ResolvedDeps, status: Status, message: string): Promise<Response> {
  const title = TITLES[status] ?? 'Error';
  return sendPage(c, deps, { title, active: 'none', live: null, status }, <ErrorPage status={status} title={title} message={message} signedIn={accessOf(c).principal !== null} />);
}
