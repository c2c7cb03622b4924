/**
 * `GET /api/v1/me`: who the caller is (session cookie or bearer token), as JSON. The first
 * route of the JSON API; it answers 401 as JSON like every `/api` route.
 */
import { Hono } from 'hono';
import { authOf, principalOf } from '../auth.ts';
import type { AppEnv, ResolvedDeps } from '../types.ts';

/** The `/api/v1/me` route. */
export function meRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/v1/me', (c) => {
    const p = principalOf(c);
    const auth = authOf(c);
    return c.json({
      id: p.userId,
      email: p.email,
      displayName: p.displayName,
      role: p.role,
      groups: p.managerIds,
      readOnly: p.readOnly ?? false,
      twoFactorEnabled: auth?.user.totpEnabled ?? false,
      via: auth?.via ?? null,
      require2faRoles: deps.accounts.policy.require2faRoles,
    });
  });
  return app;
}
