/**
 * The operator console: `createWebApp(deps)` returns a Hono app the runtime serves.
 */
export { createWebApp, resolveDeps } from './app.ts';
export type { LiveOptions, ResolvedDeps, WebDeps, WebLogger } from './types.ts';
export { LiveFeed, parseLiveView, renderChanges } from './sse.tsx';
export type { LiveFeedOptions, LiveView, PendingChanges, Timers } from './sse.tsx';
export { assetFiles, htmxDistDir } from './static.ts';
