/**
 * Force Logout: an administrator ends every session of a user (their live streams close too).
 * Audited with who, from where, and the sessions before and after. From the user page
 * (`view=summary`) it answers with the refreshed user summary.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { auditActorOf, safeNext } from '../auth.ts';
import { isHtmx, sendError, sendFragment } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm } from '../validate.ts';
import { InlineMessage } from '../views/errors.tsx';
import { callerOf, pathId, resultStatus, userCommandAnswer } from './users.tsx';

const forceLogoutForm = z.object({
  reason: z.preprocess(emptyToUndefined, z.string({ error: () => 'the reason must be text' }).trim().max(500, 'reason is too long').optional()),
  next: z.preprocess(emptyToUndefined, z.string({ error: () => 'next must be a path' }).max(500, 'next is too long').optional()),
  view: z.preprocess(emptyToUndefined, z.enum(['summary'], { error: () => 'view must be summary' }).optional()),
});

/** Routes of session administration. */
export function sessionsRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/users/:id/force-logout', async (c) => {
    const parsedId = pathId.safeParse(c.req.param('id'));
    if (!parsedId.success) return sendError(c, deps, 400, `Invalid user id: ${parsedId.error.issues[0]?.message ?? 'malformed'}.`);
    const id = parsedId.data;
    const user = await deps.accounts.store.users.get(id);
    if (!user) return sendError(c, deps, 404, `No user with id "${id}".`);
    const form = await parseForm(c, forceLogoutForm);
    if (!form.ok) return sendError(c, deps, 400, form.message);
    const reason = form.data.reason ?? 'Force Logout by an administrator';
    let text: string;
    if (deps.admin) {
      const r = await deps.admin.forceLogout(id, callerOf(c), reason);
      if (form.data.view === 'summary' && isHtmx(c)) {
        return userCommandAnswer(c, deps, deps.admin, id, r.ok ? { ok: true, text: r.message } : { ok: false, text: r.error }, resultStatus(r));
      }
      if (!r.ok) return sendError(c, deps, resultStatus(r), r.error);
      text = `${r.message}.`;
    } else {
      const n = await deps.accounts.revokeAllSessions(id, reason, { actor: auditActorOf(c) });
      text = `${user.displayName}: ${n} session${n === 1 ? '' : 's'} ended.`;
    }
    deps.log.info({ user: id, by: auditActorOf(c).userId }, 'force logout');
    if (isHtmx(c)) return sendFragment(c, <InlineMessage ok={true} text={text} />);
    return c.redirect(safeNext(form.data.next, form.data.view === 'summary' ? `/users/${encodeURIComponent(id)}` : '/account'), 303);
  });

  return app;
}
