/**
 * Manager groups: pause or resume every trader of one manager. Answers with the refreshed
 * manager row; the traders' rows follow over the live stream.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { can } from '../../runtime/accounts/index.ts';
import type { CommandResult } from '../../runtime/api.ts';
import { errorMessage } from '../../runtime/domain.ts';
import { actorOf, auditDenied, principalOf } from '../auth.ts';
import { accessOf, isHtmx, sendError, sendFragment } from '../respond.tsx';
import { statusFor } from '../scope.ts';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm } from '../validate.ts';
import type { RowMessage } from '../views/bots.tsx';
import { ManagerRowView } from '../views/bots.tsx';
import { Partial } from '../views/partial.tsx';
import { STATUS_BAR_ID, StatusBar } from '../views/status-bar.tsx';

const groupForm = z.object({
  reason: z.preprocess(emptyToUndefined, z.string().trim().max(500, 'reason is too long').optional()),
});

/** Routes of the manager groups. */
export function managersRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { api } = deps;

  app.post('/managers/:id/:command{pause|resume}', async (c) => {
    const id = c.req.param('id');
    const command = c.req.param('command') as 'pause' | 'resume';
    const manager = api.listManagers().find((m) => m.id === id);
    if (!manager) return sendError(c, deps, 404, `No manager with id "${id}".`);
    if (!can(principalOf(c), command === 'pause' ? 'groups.pause' : 'groups.resume', { kind: 'manager', managerId: id })) {
      await auditDenied(c, deps, { type: 'manager', id }, `${manager.name} is not one of your groups.`);
      return sendError(c, deps, 403, `${manager.name} is not one of your groups.`);
    }
    const form = await parseForm(c, groupForm);
    if (!form.ok) return sendError(c, deps, 400, form.message);
    const who = actorOf(c, form.data.reason ?? `group ${command} from the console`);
    let message: RowMessage;
    try {
      const r: CommandResult = command === 'pause' ? await api.pauseManager(id, who) : await api.resumeManager(id, who);
      message = r.ok ? { ok: true, text: r.message } : { ok: false, text: r.error };
      deps.log.info({ cmd: `${command} group`, managerId: id, by: who.by, ok: r.ok }, 'console command');
    } catch (err) {
      deps.log.error({ cmd: `${command} group`, managerId: id, err: errorMessage(err) }, 'console command threw');
      message = { ok: false, text: `${command} failed: ${errorMessage(err)}` };
    }
    const status = message.ok ? 200 : 409;
    if (!isHtmx(c)) {
      if (!message.ok) return sendError(c, deps, status, message.text);
      return c.redirect('/bots', 303);
    }
    const fresh = api.listManagers().find((m) => m.id === id) ?? manager;
    return sendFragment(
      c,
      <>
        <ManagerRowView m={fresh} message={message} access={accessOf(c)} />
        <Partial target={STATUS_BAR_ID}>
          <StatusBar status={statusFor(api, accessOf(c).principal)} access={accessOf(c)} />
        </Partial>
      </>,
      status,
    );
  });

  return app;
}
