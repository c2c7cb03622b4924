/**
 * Health: `/health` is JSON for probes (200 when ok, 503 when degraded or failing);
 * `/status` shows the same for a person.
 */
import { Hono } from 'hono';
import type { HealthInfo } from '../../runtime/api.ts';
import { errorMessage } from '../../runtime/domain.ts';
import { sendPage } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { HealthPage } from '../views/health.tsx';

/** Routes of the health area. */
export function healthRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/health', async (c) => {
    c.header('Cache-Control', 'no-store');
    try {
      const info = await deps.api.health();
      return c.json(info, info.status === 'ok' ? 200 : 503);
    } catch (err) {
      deps.log.error({ err: errorMessage(err) }, 'health() failed');
      return c.json({ status: 'degraded', error: errorMessage(err), now: deps.now() }, 503);
    }
  });

  app.get('/status', async (c) => {
    let health: HealthInfo | null = null;
    let error: string | undefined;
    try {
      health = await deps.api.health();
    } catch (err) {
      error = errorMessage(err);
    }
    return sendPage(
      c,
      deps,
      { title: 'Health', active: 'health', live: '/events?view=status' },
      <HealthPage health={health} error={error} consoleUptimeMs={Math.max(0, deps.now() - deps.startedAt)} now={deps.now()} />,
    );
  });

  return app;
}
