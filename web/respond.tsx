/**
 * Response helpers: a view renders as a whole page, or alone as a fragment when htmx asks
 * (`HX-Request`), plus the error pages.
 */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { PlatformStatus } from '../runtime/api.ts';
import { errorMessage } from '../runtime/domain.ts';
import type { ResolvedDeps } from './types.ts';
import { ErrorPage } from './views/errors.tsx';
import type { NavKey } from './views/layout.tsx';
import { Layout } from './views/layout.tsx';

type Status = 200 | 400 | 403 | 404 | 409 | 415 | 422 | 500 | 503;

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

/** The platform status, or null when reading it fails (so error pages still render). */
export function safeStatus(deps: ResolvedDeps): PlatformStatus | null {
  try {
    return deps.api.platformStatus();
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

/** Sends a view as a whole page, or as a fragment on an htmx request. */
export async function sendPage(c: Context, deps: ResolvedDeps, opts: PageOptions, content: Child): Promise<Response> {
  const status = opts.status ?? 200;
  if (isHtmx(c)) return c.html(await renderHtml(content), status);
  const html = await renderHtml(
    <Layout
      title={opts.title}
      active={opts.active}
      status={safeStatus(deps)}
      liveUrl={opts.live}
      uptimeMs={Math.max(0, deps.now() - deps.startedAt)}
    >
      {content}
    </Layout>,
  );
  return c.html(`<!DOCTYPE html>${html}`, status);
}

/** Sends a fragment (htmx swaps it into its target). */
export async function sendFragment(c: Context, content: Child, status: Status = 200): Promise<Response> {
  return c.html(await renderHtml(content), status);
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Refused',
  415: 'Unsupported form encoding',
  422: 'Refused',
  500: 'Something went wrong',
  503: 'Unavailable',
};

/** Sends an error page (or its fragment on an htmx request). */
export function sendError(c: Context, deps: ResolvedDeps, status: Status, message: string): Promise<Response> {
  const title = TITLES[status] ?? 'Error';
  return sendPage(c, deps, { title, active: 'none', live: null, status }, <ErrorPage status={status} title={title} message={message} />);
}
