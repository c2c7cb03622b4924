/**
 * Events: the latest platform events (`/events/recent`, also at `/timeline`).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { eventVisible, seesAll, visibleTraders } from '../../runtime/accounts/index.ts';
import { MAX_RECENT_EVENTS } from '../../runtime/api.ts';
import { principalOf } from '../auth.ts';
import { sendError, sendPage } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseQuery, wholeNumber } from '../validate.ts';
import { EventsPage } from '../views/events.tsx';

/** Largest number of events one page lists: as many as the runtime returns. */
export const MAX_EVENTS = MAX_RECENT_EVENTS;

/** How many recent events are scanned for a manager's or a user's page (then filtered to theirs). */
const SCOPED_SCAN = MAX_RECENT_EVENTS;

const eventsQuery = z.object({
  limit: z.preprocess(emptyToUndefined, wholeNumber('limit', 1, MAX_EVENTS).default(100)),
});

/** Routes of the events area. */
export function eventsRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/timeline', (c) => c.redirect('/events/recent', 302));
  app.get('/events/recent', async (c) => {
    const q = parseQuery(c, eventsQuery);
    if (!q.ok) return sendError(c, deps, 400, q.message);
    const p = principalOf(c);
    let events = await deps.api.recentEvents(seesAll(p) ? q.data.limit : SCOPED_SCAN);
    if (!seesAll(p)) {
      // Managers and users see their traders' and groups' events, and platform-wide ones.
      const mine = new Set(visibleTraders(p, deps.api.listBots()).map((b) => b.id));
      events = events.filter((e) => eventVisible(p, e, mine)).slice(0, q.data.limit);
    }
    return sendPage(
      c,
      deps,
      { title: 'Events', active: 'events', live: '/events?view=status' },
      <EventsPage events={events} limit={q.data.limit} now={deps.now()} />,
    );
  });
  return app;
}
