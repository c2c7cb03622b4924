/**
 * Strategies: registered versions and registry files (live-refreshed on `strategies.changed`).
 */
import { Hono } from 'hono';
import { sendPage } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { StrategiesPage } from '../views/strategies.tsx';

/** Routes of the strategies area. */
export function strategiesRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/strategies', async (c) => {
    const view = await deps.api.strategies();
    return sendPage(
      c,
      deps,
      { title: 'Strategies', active: 'strategies', live: '/events?view=strategies' },
      <StrategiesPage view={view} now={deps.now()} />,
    );
  });
  return app;
}
