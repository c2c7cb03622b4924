/**
 * Events: the latest platform events (`/events/recent`, also at `/timeline`).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { sendError, sendPage } from '../respond.tsx';
import type { ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseQuery } from '../validate.ts';
import { EventsPage } from '../views/events.tsx';

/** Largest number of events one page lists. */
export const MAX_EVENTS = 1000;

const eventsQuery = z.object({
  limit: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ error: () => 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(MAX_EVENTS, `limit must be at most ${MAX_EVENTS}`)
      .default(100),
  ),
});

/** Routes of the events area. */
export function eventsRoutes(deps: ResolvedDeps): Hono {
  const app = new Hono();
  app.get('/timeline', (c) => c.redirect('/events/recent', 302));
  app.get('/events/recent', async (c) => {
    const q = parseQuery(c, eventsQuery);
    if (!q.ok) return sendError(c, deps, 400, q.message);
    const events = await deps.api.recentEvents(q.data.limit);
    return sendPage(
      c,
      deps,
      { title: 'Events', active: 'events', live: '/events?view=status' },
      <EventsPage events={events} limit={q.data.limit} now={deps.now()} />,
    );
  });
  return app;
}
