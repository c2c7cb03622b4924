/**
 * Platform-wide commands: Pause All and Resume All Trading, posted from the confirmation
 * dialogs. Success answers with the status bar; a bad form or a refusal answers with a
 * message retargeted into the dialog.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Actor, CommandResult } from '../../runtime/api.ts';
import { errorMessage } from '../../runtime/domain.ts';
import { actorOf } from '../auth.ts';
import { accessOf, isHtmx, sendError, sendFragment } from '../respond.tsx';
import { statusFor } from '../scope.ts';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm } from '../validate.ts';
import { InlineMessage } from '../views/errors.tsx';
import { StatusBar } from '../views/status-bar.tsx';

// Who gives the command is the signed-in user: a posted `by` is ignored.
const pauseAllForm = z.object({
  reason: z.string({ error: () => 'a reason is required' }).trim().min(1, 'a reason is required').max(500, 'reason is too long'),
});

const resumeAllForm = z.object({
  reason: z.preprocess(emptyToUndefined, z.string().trim().max(500, 'reason is too long').optional()),
});

async function dialogError(c: Context, deps: ResolvedDeps, errorId: string, status: 400 | 409 | 500, text: string): Promise<Response> {
  if (!isHtmx(c)) return sendError(c, deps, status, text);
  c.header('HX-Retarget', `#${errorId}`);
  c.header('HX-Reswap', 'innerHTML');
  return sendFragment(c, <InlineMessage ok={false} text={text} />, status);
}

async function run(deps: ResolvedDeps, what: string, who: Actor, call: () => Promise<CommandResult>): Promise<CommandResult> {
  try {
    const r = await call();
    deps.log.info({ cmd: what, by: who.by, reason: who.reason, ok: r.ok }, 'console command');
    return r;
  } catch (err) {
    deps.log.error({ cmd: what, by: who.by, err: errorMessage(err) }, 'console command threw');
    return { ok: false, error: `${what} failed: ${errorMessage(err)}` };
  }
}

/** Routes of the platform-wide commands. */
export function platformRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { api } = deps;

  app.post('/platform/pause-all', async (c) => {
    const form = await parseForm(c, pauseAllForm);
    if (!form.ok) return dialogError(c, deps, 'pause-all-error', 400, form.message);
    const who: Actor = actorOf(c, form.data.reason);
    const r = await run(deps, 'pause all', who, () => api.pauseAll(who));
    if (!r.ok) return dialogError(c, deps, 'pause-all-error', 409, r.error);
    if (!isHtmx(c)) return c.redirect('/bots', 303);
    return sendFragment(c, <StatusBar status={statusFor(api, accessOf(c).principal)} access={accessOf(c)} />);
  });

  app.post('/platform/resume-all', async (c) => {
    const form = await parseForm(c, resumeAllForm);
    if (!form.ok) return dialogError(c, deps, 'resume-all-error', 400, form.message);
    const who: Actor = actorOf(c, form.data.reason);
    const r = await run(deps, 'resume all', who, () => api.resumeAll(who));
    if (!r.ok) return dialogError(c, deps, 'resume-all-error', 409, r.error);
    if (!isHtmx(c)) return c.redirect('/bots', 303);
    return sendFragment(c, <StatusBar status={statusFor(api, accessOf(c).principal)} access={accessOf(c)} />);
  });

  return app;
}
