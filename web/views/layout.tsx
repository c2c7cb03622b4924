/**
 * The page shell: left navigation, status bar, main area, dialogs and scripts. Pages render
 * inside it on a normal request and alone (as a fragment) on an htmx request.
 */
import type { Child, FC } from 'hono/jsx';
import type { Permission } from '../../runtime/accounts/index.ts';
import type { PlatformStatus } from '../../runtime/api.ts';
import type { Access } from '../access.ts';
import { formatDuration } from '../format.ts';
import { CsrfField } from './components.tsx';
import { PlatformDialogs, StatusBar } from './status-bar.tsx';

/** The live stream's last event when its session is over: `#live` closes on it, `app.js` goes to sign-in. */
export const SESSION_ENDED_EVENT = 'session-ended';

/** The navigation entries; `active` highlights one. */
export type NavKey = 'bots' | 'users' | 'strategies' | 'events' | 'risk' | 'security' | 'health' | 'account' | 'none';

const NAV: readonly { key: NavKey; href: string; label: string; permission: Permission }[] = [
  { key: 'bots', href: '/bots', label: 'Bots', permission: 'bots.read' },
  { key: 'users', href: '/users', label: 'Users', permission: 'users.read' },
  { key: 'strategies', href: '/strategies', label: 'Strategies', permission: 'strategies.read' },
  { key: 'events', href: '/events/recent', label: 'Events', permission: 'events.read' },
  { key: 'risk', href: '/risk', label: 'Risk', permission: 'risk.read' },
  { key: 'security', href: '/security/keys', label: 'Security', permission: 'keys.read' },
  { key: 'health', href: '/status', label: 'Health', permission: 'health.read' },
  { key: 'account', href: '/account', label: 'Account', permission: 'account.manage' },
];

/** The signed-in user's name and role, and the sign-out button. */
const UserBox: FC<{ access: Access }> = ({ access }) =>
  access.principal ? (
    <div class="userbox" id="userbox" data-role={access.principal.role}>
      <a href="/account" class="userbox-name" title={access.principal.email}>
        {access.principal.displayName}
      </a>
      {access.has('keys.own') ? (
        <a href="/account/exchange-keys" class="userbox-link" id="userbox-keys">
          Exchange keys
        </a>
      ) : null}
      <span class={`badge role-badge role-${access.principal.role}`}>{access.principal.role}</span>
      <form method="post" action="/sign-out" class="signout-form">
        <CsrfField token={access.csrf} />
        <button type="submit" class="btn btn-sm btn-link" id="sign-out">
          Sign out
        </button>
      </form>
    </div>
  ) : null;

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
  /** What the signed-in user may see and do. */
  readonly access: Access;
  readonly children?: Child;
}

/** The whole page. */
export const Layout: FC<LayoutProps> = ({ title, active, status, liveUrl, uptimeMs, access, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      <meta name="csrf-token" content={access.csrf} />
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
            {NAV.filter((n) => access.has(n.permission)).map((n) => (
              <li>
                <a href={n.href} class={n.key === active ? 'active' : undefined} aria-current={n.key === active ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
          <div class="sidenav-foot">
            <UserBox access={access} />
            {liveUrl ? (
              <div
                id="live"
                class="live"
                hx-sse:connect={liveUrl}
                hx-sse:close={SESSION_ENDED_EVENT}
                hx-swap="none"
                data-live="connecting"
                title="Live updates"
              >
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
          {access.restricted ? null : status ? (
            <StatusBar status={status} access={access} />
          ) : (
            <header id="status-bar" class="statusbar">
              <div class="statusbar-row muted">Platform status unavailable.</div>
            </header>
          )}
          <main id="main">{children}</main>
        </div>
      </div>
      <PlatformDialogs access={access} />
      <script src="/static/htmx.js"></script>
      <script src="/static/ext/hx-sse.js"></script>
      <script src="/static/app.js"></script>
    </body>
  </html>
);

/** A page without navigation or platform status: sign-in, the second factor, errors before sign-in. */
export const BareLayout: FC<{ title: string; csrf: string; children?: Child }> = ({ title, csrf, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      <meta name="csrf-token" content={csrf} />
      <title>{`${title} · Fleet Console`}</title>
      <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
      <link rel="stylesheet" href="/static/app.css" />
    </head>
    <body class="bare">
      <main id="main" class="bare-main">
        <div class="bare-brand">
          <span class="brand-mark">◆</span> Fleet Console
        </div>
        {children}
      </main>
      <script src="/static/app.js"></script>
    </body>
  </html>
);
