/**
 * Force Logout: an administrator ends every session of a user (their live streams close too).
 * Audited with who, from where, and how many sessions ended.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { auditActorOf, safeNext } from '../auth.ts';
import { isHtmx, sendError, sendFragment } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm } from '../validate.ts';
import { InlineMessage } from '../views/errors.tsx';

const forceLogoutForm = z.object({
  reason: z.preprocess(emptyToUndefined, z.string().trim().max(500, 'reason is too long').optional()),
  next: z.preprocess(emptyToUndefined, z.string().max(500, 'next is too long').optional()),
});

/** Routes of session administration. */
export function sessionsRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/users/:id/force-logout', async (c) => {
    const id = c.req.param('id');
    const user = await deps.accounts.store.users.get(id);
    if (!user) return sendError(c, deps, 404, `No user with id "${id}".`);
    const form = await parseForm(c, forceLogoutForm);
    if (!form.ok) return sendError(c, deps, 400, form.message);
    const n = await deps.accounts.revokeAllSessions(id, form.data.reason ?? 'Force Logout by an administrator', { actor: auditActorOf(c) });
    deps.log.info({ user: id, by: auditActorOf(c).userId, sessions: n }, 'force logout');
    const text = `${user.displayName}: ${n} session${n === 1 ? '' : 's'} ended.`;
    if (isHtmx(c)) return sendFragment(c, <InlineMessage ok={true} text={text} />);
    return c.redirect(safeNext(form.data.next, '/account'), 303);
  });

  return app;
}
