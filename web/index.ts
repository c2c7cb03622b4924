/**
 * The operator console: `createWebApp(deps)` returns a Hono app the runtime serves.
 */
export { createWebApp, MAX_BODY_BYTES, resolveDeps } from './app.ts';
export type { AppEnv, LiveOptions, RequestAuth, ResolvedDeps, WebDeps, WebLogger } from './types.ts';
export { LiveFeed, parseLiveView, renderChanges } from './sse.tsx';
export type { LiveFeedOptions, LiveView, PendingChanges, Timers } from './sse.tsx';
export { assetFiles, htmxDistDir } from './static.ts';
export { NO_ACCESS, ROUTES, accessFor, createRouteMatcher, isApiPath, type Access, type RouteMatcher, type RouteMethod, type RouteRule } from './access.ts';
export {
  CSRF_FIELD,
  CSRF_HEADER,
  SESSION_COOKIE,
  accessOf,
  actorOf,
  auditActorOf,
  authOf,
  authenticate,
  clientIp,
  guard,
  principalOf,
  safeNext,
} from './auth.ts';
