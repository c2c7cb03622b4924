/**
 * Risk policies: the platform defaults and the per-user and per-trader limits. Changes are
 * audited by the admin layer (before and after); an htmx post answers with the whole page and
 * a message, a plain post with a redirect.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AdminApi } from '../../runtime/admin.ts';
import { accessOf, isHtmx, sendError, sendPage } from '../respond.tsx';
import type { Status } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm } from '../validate.ts';
import type { RowMessage } from '../views/bots.tsx';
import { RiskPage } from '../views/risk.tsx';
import { callerOf, pathId, resultStatus, withAdmin } from './users.tsx';

/** A limit as typed: blank inherits (null); otherwise a plain decimal number. */
const limitField = (what: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string({ error: () => `${what} must be a number` })
      .trim()
      .max(12, `${what} is too long`)
      .regex(/^\d{1,6}(\.\d{1,6})?$/, `${what} must be a plain number like 10 or 2.5`)
      .transform(Number)
      .optional()
      .transform((v) => v ?? null),
  );

const policyForm = z.object({
  scope: z.enum(['platform', 'user', 'trader'], { error: () => 'scope must be platform, user or trader' }),
  scopeId: pathId,
  dailyStopLossPct: limitField('the daily stop-loss'),
  totalStopLossPct: limitField('the total stop-loss'),
  maxLeverage: limitField('the maximum leverage'),
});

const clearForm = z.object({
  scope: z.enum(['user', 'trader'], { error: () => 'scope must be user or trader' }),
  scopeId: pathId,
});

/** Routes of the Risk area. */
export function riskRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const render = async (c: Context<AppEnv>, admin: AdminApi, message?: RowMessage, status: Status = 200) => {
    const [view, accounts] = await Promise.all([admin.policies(), deps.accounts.store.users.list()]);
    const users = accounts.map((u) => ({ id: u.id, label: `${u.displayName} · ${u.email}` }));
    const bots = deps.api.listBots().map((b) => ({ id: b.id, label: `${b.name} · ${b.userName}` }));
    return sendPage(
      c,
      deps,
      { title: 'Risk policies', active: 'risk', live: null, status },
      <RiskPage view={view} users={users} bots={bots} now={deps.now()} access={accessOf(c)} message={message} />,
    );
  };

  const answer = async (c: Context<AppEnv>, admin: AdminApi, message: RowMessage, status: Status) => {
    if (!isHtmx(c)) return message.ok ? c.redirect('/risk', 303) : sendError(c, deps, status, message.text);
    return render(c, admin, message, status);
  };

  app.get(
    '/risk',
    withAdmin(deps, (c, admin) => render(c, admin)),
  );

  app.post(
    '/risk/policies',
    withAdmin(deps, async (c, admin) => {
      const form = await parseForm(c, policyForm);
      if (!form.ok) return answer(c, admin, { ok: false, text: `Not saved: ${form.message}.` }, 400);
      const r = await admin.setPolicy(form.data, callerOf(c));
      deps.log.info({ cmd: 'risk.policy_set', scope: form.data.scope, scopeId: form.data.scopeId, ok: r.ok }, 'console command');
      return answer(c, admin, r.ok ? { ok: true, text: `${r.message}.` } : { ok: false, text: `Not saved: ${r.error}.` }, resultStatus(r));
    }),
  );

  app.post(
    '/risk/policies/clear',
    withAdmin(deps, async (c, admin) => {
      const form = await parseForm(c, clearForm);
      if (!form.ok) return answer(c, admin, { ok: false, text: `Not removed: ${form.message}.` }, 400);
      const r = await admin.clearPolicy(form.data.scope, form.data.scopeId, callerOf(c));
      return answer(c, admin, r.ok ? { ok: true, text: `${r.message}.` } : { ok: false, text: `Not removed: ${r.error}.` }, resultStatus(r));
    }),
  );

  return app;
}
