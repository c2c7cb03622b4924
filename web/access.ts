/**
 * The console's route table: every route with the permission it requires. The guard
 * middleware (web/auth.ts) checks each request against it, denying anything not listed, and the
 * table-driven test walks every entry for every role. Resource scopes (a manager's groups, a
 * user's own bots) are checked by the handlers named in `scope`.
 *
 * Also here: `Access`, what the views may show a principal (which buttons, which forms).
 */
import type { BotRow, ManagerRow } from '../runtime/api.ts';
import type { Permission, Principal } from '../runtime/accounts/index.ts';
import { can } from '../runtime/accounts/index.ts';

/** HTTP methods the console routes use. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route and what it takes to use it. */
export interface RouteRule {
  readonly method: RouteMethod;
  /** Hono-style path: `:name` matches one segment, a trailing `*` the rest. */
  readonly path: string;
  /** The permission required; null for a public route (no sign-in). */
  readonly permission: Permission | null;
  /** `api`: JSON, 401/403 as JSON; otherwise a console page (302 to sign-in, 403 page). */
  readonly kind?: 'page' | 'api';
  /** Usable by a session that has passed the password but not yet its second factor. */
  readonly pendingMfa?: boolean;
  /** Usable before the 2FA enrolment a role requires (the account pages). */
  readonly beforeEnrolment?: boolean;
  /** False: no per-session CSRF token (public forms, which the Origin check still covers). */
  readonly csrf?: false;
  /** The handler checks this resource against the principal's scope: 404 for reads, 403 for commands. */
  readonly scope?: 'trader' | 'manager';
}

/** Every route of the console and its API. Order matters only for readability. */
export const ROUTES: readonly RouteRule[] = [
  // Public.
  { method: 'GET', path: '/health', permission: null },
  { method: 'GET', path: '/static/*', permission: null },
  { method: 'GET', path: '/sign-in', permission: null, csrf: false },
  // The address people type for a console's sign-in page: sent on to /sign-in.
  { method: 'GET', path: '/login', permission: null, csrf: false },
  { method: 'POST', path: '/sign-in', permission: null, csrf: false },
  { method: 'GET', path: '/sign-in/2fa', permission: null, pendingMfa: true },
  { method: 'POST', path: '/sign-in/2fa', permission: null, pendingMfa: true },
  { method: 'POST', path: '/sign-out', permission: null, pendingMfa: true, beforeEnrolment: true },

  // Console pages and commands.
  { method: 'GET', path: '/', permission: 'console.view' },
  { method: 'GET', path: '/bots', permission: 'bots.read' },
  // A new bot (before `/bots/:id`, which would match `/bots/new`): the group and owner are checked against the scope.
  { method: 'GET', path: '/bots/new', permission: 'bots.create' },
  { method: 'GET', path: '/bots/new/keys', permission: 'bots.create' },
  { method: 'GET', path: '/bots/new/strategy-fields', permission: 'bots.create' },
  { method: 'POST', path: '/bots', permission: 'bots.create', scope: 'manager' },
  { method: 'GET', path: '/bots/:id', permission: 'bots.read', scope: 'trader' },
  { method: 'GET', path: '/bots/:id/assign-fields', permission: 'bots.assign_strategy', scope: 'trader' },
  { method: 'POST', path: '/bots/:id/pause', permission: 'bots.pause', scope: 'trader' },
  { method: 'POST', path: '/bots/:id/resume', permission: 'bots.resume', scope: 'trader' },
  { method: 'POST', path: '/bots/:id/restart', permission: 'bots.restart', scope: 'trader' },
  { method: 'POST', path: '/bots/:id/reconcile', permission: 'bots.resume', scope: 'trader' },
  { method: 'POST', path: '/bots/:id/strategy', permission: 'bots.assign_strategy', scope: 'trader' },
  { method: 'POST', path: '/managers/:id/pause', permission: 'groups.pause', scope: 'manager' },
  { method: 'POST', path: '/managers/:id/resume', permission: 'groups.resume', scope: 'manager' },
  { method: 'POST', path: '/platform/pause-all', permission: 'platform.pause_all' },
  { method: 'POST', path: '/platform/resume-all', permission: 'platform.resume_all' },
  { method: 'GET', path: '/strategies', permission: 'strategies.read' },
  { method: 'GET', path: '/events/recent', permission: 'events.read' },
  { method: 'GET', path: '/timeline', permission: 'events.read' },
  // The live stream: what it sends is scoped by the view it asks for.
  { method: 'GET', path: '/events', permission: 'console.view' },
  { method: 'GET', path: '/status', permission: 'health.read' },

  // One's own account.
  { method: 'GET', path: '/account', permission: 'account.manage', beforeEnrolment: true },
  { method: 'GET', path: '/account/2fa', permission: 'account.manage', beforeEnrolment: true },
  { method: 'POST', path: '/account/2fa/verify', permission: 'account.manage', beforeEnrolment: true },
  { method: 'POST', path: '/account/2fa/disable', permission: 'account.manage' },
  { method: 'POST', path: '/account/2fa/recovery-codes', permission: 'account.manage' },
  { method: 'POST', path: '/account/password', permission: 'account.manage', beforeEnrolment: true },
  { method: 'POST', path: '/account/sessions/revoke-others', permission: 'account.manage' },

  { method: 'POST', path: '/account/tokens', permission: 'account.manage' },
  { method: 'POST', path: '/account/tokens/:id/revoke', permission: 'account.manage' },
  // One's own exchange keys (another user's only with keys.manage, checked by the admin layer).
  { method: 'GET', path: '/account/exchange-keys', permission: 'keys.own' },
  { method: 'POST', path: '/account/exchange-keys', permission: 'keys.own' },
  { method: 'POST', path: '/account/exchange-keys/:id/check', permission: 'keys.own' },
  { method: 'POST', path: '/account/exchange-keys/:id/delete', permission: 'keys.own' },

  // Users.
  { method: 'GET', path: '/users', permission: 'users.read' },
  { method: 'GET', path: '/users/:id', permission: 'users.read' },
  { method: 'POST', path: '/users/:id/suspend', permission: 'users.suspend' },
  { method: 'POST', path: '/users/:id/unsuspend', permission: 'users.suspend' },
  { method: 'POST', path: '/users/:id/force-logout', permission: 'users.force_logout' },

  // Security and audit.
  { method: 'GET', path: '/security', permission: 'keys.read' },
  { method: 'GET', path: '/security/keys', permission: 'keys.read' },
  { method: 'POST', path: '/security/keys/:id/revoke', permission: 'keys.manage' },
  { method: 'POST', path: '/security/keys/:id/disable', permission: 'keys.manage' },
  { method: 'POST', path: '/security/keys/:id/enable', permission: 'keys.manage' },
  { method: 'GET', path: '/security/violations', permission: 'risk.read' },
  { method: 'POST', path: '/security/violations/:id/release', permission: 'risk.release' },
  { method: 'GET', path: '/security/sign-ins', permission: 'security.read' },
  { method: 'GET', path: '/security/audit', permission: 'audit.read' },

  // Risk policies.
  { method: 'GET', path: '/risk', permission: 'risk.read' },
  { method: 'POST', path: '/risk/policies', permission: 'risk.policies' },
  { method: 'POST', path: '/risk/policies/clear', permission: 'risk.policies' },

  // JSON API (web/api): the same operations, for a session (with its CSRF header) or a bearer token.
  { method: 'GET', path: '/api/v1/openapi.json', permission: null, kind: 'api' },
  { method: 'GET', path: '/api/v1/me', permission: 'console.view', kind: 'api' },
  { method: 'GET', path: '/api/v1/bots', permission: 'bots.read', kind: 'api' },
  { method: 'POST', path: '/api/v1/bots', permission: 'bots.create', kind: 'api', scope: 'manager' },
  { method: 'GET', path: '/api/v1/bots/:id', permission: 'bots.read', kind: 'api', scope: 'trader' },
  { method: 'POST', path: '/api/v1/bots/:id/pause', permission: 'bots.pause', kind: 'api', scope: 'trader' },
  { method: 'POST', path: '/api/v1/bots/:id/resume', permission: 'bots.resume', kind: 'api', scope: 'trader' },
  { method: 'POST', path: '/api/v1/bots/:id/restart', permission: 'bots.restart', kind: 'api', scope: 'trader' },
  { method: 'POST', path: '/api/v1/bots/:id/reconcile', permission: 'bots.resume', kind: 'api', scope: 'trader' },
  { method: 'POST', path: '/api/v1/platform/pause-all', permission: 'platform.pause_all', kind: 'api' },
  { method: 'POST', path: '/api/v1/platform/resume-all', permission: 'platform.resume_all', kind: 'api' },
  { method: 'GET', path: '/api/v1/users', permission: 'users.read', kind: 'api' },
  { method: 'GET', path: '/api/v1/users/:id', permission: 'users.read', kind: 'api' },
  { method: 'POST', path: '/api/v1/users/:id/suspend', permission: 'users.suspend', kind: 'api' },
  { method: 'POST', path: '/api/v1/users/:id/unsuspend', permission: 'users.suspend', kind: 'api' },
  { method: 'POST', path: '/api/v1/users/:id/force-logout', permission: 'users.force_logout', kind: 'api' },
  { method: 'GET', path: '/api/v1/keys', permission: 'keys.read', kind: 'api' },
  { method: 'GET', path: '/api/v1/keys/history', permission: 'keys.read', kind: 'api' },
  { method: 'POST', path: '/api/v1/keys/:id/revoke', permission: 'keys.manage', kind: 'api' },
  { method: 'POST', path: '/api/v1/keys/:id/disable', permission: 'keys.manage', kind: 'api' },
  { method: 'POST', path: '/api/v1/keys/:id/enable', permission: 'keys.manage', kind: 'api' },
  { method: 'GET', path: '/api/v1/exchange-keys', permission: 'keys.own', kind: 'api' },
  { method: 'POST', path: '/api/v1/exchange-keys', permission: 'keys.own', kind: 'api' },
  { method: 'POST', path: '/api/v1/exchange-keys/:id/check', permission: 'keys.own', kind: 'api' },
  { method: 'DELETE', path: '/api/v1/exchange-keys/:id', permission: 'keys.own', kind: 'api' },
  { method: 'GET', path: '/api/v1/violations', permission: 'risk.read', kind: 'api' },
  { method: 'POST', path: '/api/v1/violations/:id/release', permission: 'risk.release', kind: 'api' },
  { method: 'GET', path: '/api/v1/policies', permission: 'risk.read', kind: 'api' },
  { method: 'PUT', path: '/api/v1/policies/:scope/:scopeId', permission: 'risk.policies', kind: 'api' },
  { method: 'DELETE', path: '/api/v1/policies/:scope/:scopeId', permission: 'risk.policies', kind: 'api' },
  { method: 'GET', path: '/api/v1/sign-ins', permission: 'security.read', kind: 'api' },
  { method: 'GET', path: '/api/v1/audit', permission: 'audit.read', kind: 'api' },
];

/** True for paths answered as JSON (401/403 as JSON, never a redirect). */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

interface Compiled {
  readonly rule: RouteRule;
  readonly re: RegExp;
}

function compile(rule: RouteRule): Compiled {
  const parts = rule.path.split('/').map((seg) => {
    if (seg === '*') return '.*';
    if (seg.startsWith(':')) return '[^/]+';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return { rule, re: new RegExp(`^${parts.join('/')}$`) };
}

/** Matches a request against a route table. */
export interface RouteMatcher {
  /** The rule for a method and path, or null when none (denied by default). */
  match(method: string, path: string): RouteRule | null;
}

/** Compiles a route table; HEAD matches GET. */
export function createRouteMatcher(routes: readonly RouteRule[] = ROUTES): RouteMatcher {
  const compiled = routes.map(compile);
  return {
    match(method, path) {
      const m = method === 'HEAD' ? 'GET' : method;
      for (const c of compiled) if (c.rule.method === m && c.re.test(path)) return c.rule;
      return null;
    },
  };
}

/** What the views may offer the person looking at them. */
export interface Access {
  /** Null on pages without a signed-in user (sign-in, errors before sign-in). */
  readonly principal: Principal | null;
  /** The session's CSRF token for forms (hidden `_csrf`) and the meta tag htmx reads; '' without one. */
  readonly csrf: string;
  /** The commands a bot's buttons may offer (state permitting). */
  bot(bot: Pick<BotRow, 'userId' | 'managerId'>): { readonly pause: boolean; readonly resume: boolean; readonly restart: boolean; readonly assign: boolean };
  /** The commands a group's buttons may offer. */
  group(m: Pick<ManagerRow, 'id'>): { readonly pause: boolean; readonly resume: boolean };
  /** Pause All / Resume All. */
  readonly platform: { readonly pauseAll: boolean; readonly resumeAll: boolean };
  /** Holds a permission (no resource). */
  has(permission: Permission): boolean;
  /** Only the account pages until a required 2FA enrolment is done: no navigation, no platform status. */
  readonly restricted: boolean;
}

/**
 * The access of a principal (or of nobody). `restricted` (a required 2FA enrolment is pending)
 * leaves only the account pages.
 */
export function accessFor(principal: Principal | null, csrf = '', restricted = false): Access {
  const has = (perm: Permission) => principal !== null && can(principal, perm) && (!restricted || perm === 'account.manage');
  return {
    principal,
    csrf,
    has,
    restricted,
    bot(b) {
      if (!principal || restricted) return { pause: false, resume: false, restart: false, assign: false };
      const r = { kind: 'trader' as const, userId: b.userId, managerId: b.managerId };
      return {
        pause: can(principal, 'bots.pause', r),
        resume: can(principal, 'bots.resume', r),
        restart: can(principal, 'bots.restart', r),
        assign: can(principal, 'bots.assign_strategy', r),
      };
    },
    group(m) {
      if (!principal || restricted) return { pause: false, resume: false };
      const r = { kind: 'manager' as const, managerId: m.id };
      return { pause: can(principal, 'groups.pause', r), resume: can(principal, 'groups.resume', r) };
    },
    platform: { pauseAll: has('platform.pause_all'), resumeAll: has('platform.resume_all') },
  };
}

/** Access with no principal: no buttons, no forms. */
export const NO_ACCESS: Access = accessFor(null);
