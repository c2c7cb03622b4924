/**
 * The page shell: left navigation, status bar, main area, dialogs and scripts. Pages render
 * inside it on a normal request and alone (as a fragment) on an htmx request.
 */
import type { Child, FC } from 'hono/jsx';
import type { PlatformStatus } from '../../runtime/api.ts';
import { formatDuration } from '../format.ts';
import { PlatformDialogs, StatusBar } from './status-bar.tsx';

/** The navigation entries; `active` highlights one. */
export type NavKey = 'bots' | 'strategies' | 'events' | 'health' | 'none';

const NAV: readonly { key: NavKey; href: string; label: string }[] = [
  { key: 'bots', href: '/bots', label: 'Bots' },
  { key: 'strategies', href: '/strategies', label: 'Strategies' },
  { key: 'events', href: '/events/recent', label: 'Events' },
  { key: 'health', href: '/status', label: 'Health' },
];

/** htmx settings: no injected indicator stylesheet (CSP), no history snapshots (plain links navigate). */
const HTMX_CONFIG = '{"includeIndicatorCSS":false,"history":false}';

/** Props of the page shell. */
export interface LayoutProps {
  readonly title: string;
  readonly active: NavKey;
  /** Null when the platform status could not be read (error pages). */
  readonly status: PlatformStatus | null;
  /** The `/events` URL this page listens to, or null for no live updates. */
  readonly liveUrl: string | null;
  readonly uptimeMs: number;
  readonly children?: Child;
}

/** The whole page. */
export const Layout: FC<LayoutProps> = ({ title, active, status, liveUrl, uptimeMs, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      <title>{`${title} · Fleet Console`}</title>
      <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
      <link rel="stylesheet" href="/static/app.css" />
    </head>
    <body>
      <div class="shell">
        <nav class="sidenav" aria-label="Main">
          <a class="brand" href="/bots">
            <span class="brand-mark">◆</span> Fleet Console
          </a>
          <ul class="nav">
            {NAV.map((n) => (
              <li>
                <a href={n.href} class={n.key === active ? 'active' : undefined} aria-current={n.key === active ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
          <div class="sidenav-foot">
            {liveUrl ? (
              <div id="live" class="live" hx-sse:connect={liveUrl} hx-swap="none" data-live="connecting" title="Live updates">
                <span class="live-dot"></span>
                <span class="live-label">live</span>
              </div>
            ) : (
              <div class="live" data-live="off">
                <span class="live-dot"></span>
                <span class="live-label">static</span>
              </div>
            )}
            <div class="uptime" title="Console process uptime">
              up {formatDuration(uptimeMs)}
            </div>
          </div>
        </nav>
        <div class="content">
          {status ? (
            <StatusBar status={status} />
          ) : (
            <header id="status-bar" class="statusbar">
              <div class="statusbar-row muted">Platform status unavailable.</div>
            </header>
          )}
          <main id="main">{children}</main>
        </div>
      </div>
      <PlatformDialogs />
      <script src="/static/htmx.js"></script>
      <script src="/static/ext/hx-sse.js"></script>
      <script src="/static/app.js"></script>
    </body>
  </html>
);
