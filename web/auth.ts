/**
 * Authentication and authorization middleware: the session cookie (or an API bearer token)
 * becomes `c.var.auth` / `c.var.principal`; the guard checks every request against the route
 * table (sign-in, pending second factor, required 2FA enrolment, permission) and requires the
 * session's CSRF token on every state-changing request made with a session.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AuditActor, Principal, SessionRecord } from '../runtime/accounts/index.ts';
import { safeEqual } from '../runtime/accounts/index.ts';
import type { Actor } from '../runtime/api.ts';
import { errorMessage } from '../runtime/domain.ts';
import type { RouteMatcher, RouteRule } from './access.ts';
import { NO_ACCESS, accessFor, isApiPath } from './access.ts';
import { isHtmx, sendError } from './respond.tsx';

export { accessOf } from './respond.tsx';
import type { AppEnv, RequestAuth, ResolvedDeps } from './types.ts';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'fleet_session';
/** Header htmx and JSON clients send the CSRF token in. */
export const CSRF_HEADER = 'X-CSRF-Token';
/** Form field plain (non-htmx) form posts send the CSRF token in. */
export const CSRF_FIELD = '_csrf';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/** The client's address: the socket's, or the first `X-Forwarded-For` hop behind a trusted proxy. */
export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (fwd) return fwd.slice(0, 100);
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
}

/** Sets the session cookie: httpOnly, SameSite=Lax, Secure when configured, for the session's lifetime. */
export function setSessionCookie(c: Context, deps: ResolvedDeps, token: string, session: SessionRecord): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure: deps.cookieSecure,
    maxAge: Math.max(1, Math.floor((session.absoluteExpiresAt - session.createdAt) / 1000)),
  });
}

/** Removes the session cookie. */
export function clearSessionCookie(c: Context, deps: ResolvedDeps): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Lax', secure: deps.cookieSecure });
}

/** The session cookie's token, if any. */
export function sessionToken(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

/** The signed-in principal; the guard guarantees one on every non-public route. */
export function principalOf(c: Context): Principal {
  const p = (c as Context<AppEnv>).get('principal');
  if (!p) throw new Error('no principal on a route that requires sign-in (route table and guard disagree)');
  return p;
}

/** The request's authentication, or null. */
export function authOf(c: Context): RequestAuth | null {
  return (c as Context<AppEnv>).get('auth') ?? null;
}

/** The actor a command is recorded as: the signed-in user, from this address. */
export function actorOf(c: Context, reason?: string): Actor {
  const p = principalOf(c);
  const ip = (c as Context<AppEnv>).get('clientIp') ?? 'unknown';
  return reason ? { by: p.displayName, reason, userId: p.userId, ip } : { by: p.displayName, userId: p.userId, ip };
}

/** The audit actor of this request. */
export function auditActorOf(c: Context): AuditActor {
  const auth = authOf(c);
  const ip = (c as Context<AppEnv>).get('clientIp') ?? 'unknown';
  return auth ? { userId: auth.user.id, label: auth.user.displayName, ip } : { userId: null, label: 'anonymous', ip };
}

/**
 * Records a refused change (a mutating request the role or scope does not allow) in the audit
 * log; a failure to write it is logged, never shown to the caller.
 */
export async function auditDenied(c: Context, deps: ResolvedDeps, target: { type: string; id: string | null }, message: string): Promise<void> {
  try {
    await deps.accounts.audit.record({
      actor: auditActorOf(c),
      action: `access.denied`,
      target,
      outcome: 'denied',
      message: `${c.req.method} ${c.req.path}: ${message}`,
    });
  } catch (err) {
    deps.log.error({ err: errorMessage(err), path: c.req.path }, 'audit write of a denial failed');
  }
}

/** A safe local redirect target from a `next` parameter (never another origin). */
export function safeNext(next: string | undefined | null, fallback = '/bots'): string {
  if (!next || next.length > 500) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\r\n\t]/.test(next)) return fallback;
  if (next.startsWith('/sign-in') || next.startsWith('/sign-out') || next === '/login' || next.startsWith('/login?') || next.startsWith('/events?') || next === '/events') return fallback;
  return next;
}

/** Reads the session cookie or (on /api) a bearer token and sets `auth`, `principal`, `access`, `clientIp`. */
export function authenticate(deps: ResolvedDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('clientIp', clientIp(c, deps.trustProxy));
    c.set('auth', null);
    c.set('principal', null);
    c.set('access', NO_ACCESS);
    const bearer = isApiPath(c.req.path) ? /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] : undefined;
    let auth: RequestAuth | null = null;
    try {
      if (bearer) {
        const t = await deps.accounts.authenticateApiToken(bearer);
        if (t) {
          const user = await deps.accounts.store.users.get(t.principal.userId);
          if (user) auth = { via: 'token', session: null, user, principal: t.principal, pending: false, mustEnrol2fa: false };
        }
      } else {
        const token = sessionToken(c);
        if (token) {
          const s = await deps.accounts.authenticate(token);
          if (s) {
            auth = { via: 'session', session: s.session, user: s.user, principal: s.principal, pending: !s.session.mfaVerified, mustEnrol2fa: s.mustEnrol2fa };
          } else {
            clearSessionCookie(c, deps);
          }
        }
      }
    } catch (err) {
      deps.log.error({ err: errorMessage(err), path: c.req.path }, 'authentication failed');
      throw err;
    }
    if (auth) {
      c.set('auth', auth);
      if (!auth.pending) c.set('principal', auth.principal);
      c.set('access', accessFor(auth.pending ? null : auth.principal, auth.session?.csrfToken ?? '', auth.mustEnrol2fa));
      // Pages with account data must not be kept by shared caches or the back button.
      c.header('Cache-Control', 'no-store');
    }
    await next();
  };
}

/** The JSON API's error body: `{ error: { code, message } }` (web/api adds `issues` on a 400). */
function apiError(c: Context, status: 401 | 403 | 404, code: string, message: string): Response {
  if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="fleet", error="invalid_token"');
  return c.json({ error: { code, message } }, status);
}

/** Sends an anonymous console request to sign in (htmx: via `HX-Redirect`, so no fragment lands in a row). */
function toSignIn(c: Context): Response {
  const current = c.req.method === 'GET' ? `${c.req.path}${new URL(c.req.url).search}` : null;
  const next = safeNext(current, '');
  const target = next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in';
  if (isHtmx(c)) {
    c.header('HX-Redirect', target);
    return c.body(null, 401);
  }
  return c.redirect(target, 302);
}

async function csrfTokenOf(c: Context): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  if (!FORM_TYPES.test(c.req.header('content-type') ?? '')) return undefined;
  try {
    const body = await c.req.parseBody();
    const v = body[CSRF_FIELD];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Human words for a permission in a 403 message. */
function deniedText(rule: RouteRule, p: Principal): string {
  return `Your role (${p.role}) does not allow this (${rule.permission ?? 'sign-in'}).`;
}

/**
 * The guard: matches the request in the route table (anything unlisted is 404, or sign-in when
 * anonymous), then checks sign-in, the second factor, a required 2FA enrolment, the CSRF token
 * and the permission, in that order.
 */
export function guard(deps: ResolvedDeps, matcher: RouteMatcher): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const api = isApiPath(c.req.path);
    const rule = matcher.match(c.req.method, c.req.path);
    c.set('route', rule);
    const auth = c.get('auth');
    if (!rule) {
      if (!auth || auth.pending) return api ? apiError(c, 401, 'unauthenticated', 'Sign in or send a bearer token.') : toSignIn(c);
      return api ? apiError(c, 404, 'not_found', `There is no API route ${c.req.method} ${c.req.path}.`) : sendError(c, deps, 404, `There is no page at ${c.req.path}.`);
    }
    if (rule.permission !== null) {
      if (!auth) return api ? apiError(c, 401, 'unauthenticated', 'Sign in or send a bearer token.') : toSignIn(c);
      if (auth.pending && !rule.pendingMfa) {
        if (api) return apiError(c, 401, 'second_factor_required', 'Complete the sign-in with your two-factor code.');
        return isHtmx(c) ? (c.header('HX-Redirect', '/sign-in/2fa'), c.body(null, 401)) : c.redirect('/sign-in/2fa', 302);
      }
      if (auth.mustEnrol2fa && !rule.beforeEnrolment) {
        if (api) return apiError(c, 403, 'enrolment_required', `Your role (${auth.principal.role}) requires two-factor authentication: enrol at /account/2fa.`);
        return isHtmx(c) ? (c.header('HX-Redirect', '/account/2fa'), c.body(null, 403)) : c.redirect('/account/2fa', 302);
      }
    }
    if (MUTATING.has(c.req.method) && auth?.via === 'session' && rule.csrf !== false) {
      const sent = await csrfTokenOf(c);
      if (!sent || !auth.session || !safeEqual(sent, auth.session.csrfToken)) {
        deps.log.warn({ path: c.req.path, user: auth.user.id, ip: c.get('clientIp') }, 'request without a valid CSRF token refused');
        const message = 'This request did not carry a valid CSRF token (the page may be stale, or the request came from another site). Reload the page and try again.';
        return api ? apiError(c, 403, 'csrf', message) : sendError(c, deps, 403, message);
      }
    }
    if (rule.permission !== null && auth && !auth.pending && !deps.accounts.can(auth.principal, rule.permission)) {
      deps.log.warn({ path: c.req.path, method: c.req.method, user: auth.user.id, role: auth.principal.role, permission: rule.permission }, 'access denied');
      if (MUTATING.has(c.req.method)) await auditDenied(c, deps, { type: 'route', id: `${c.req.method} ${rule.path}` }, deniedText(rule, auth.principal));
      return api ? apiError(c, 403, 'forbidden', deniedText(rule, auth.principal)) : sendError(c, deps, 403, deniedText(rule, auth.principal));
    }
    await next();
  };
}
