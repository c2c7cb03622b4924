/**
 * Bots: the list, the detail page, the per-bot commands (pause, resume, restart) and the
 * strategy assignment. Commands answer with the refreshed row (or summary) fragment.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Permission } from '../../runtime/accounts/index.ts';
import { can, visibleManagers, visibleTraders } from '../../runtime/accounts/index.ts';
import type { BotRow, CommandResult, StrategyVersionRow } from '../../runtime/api.ts';
import { errorMessage, parseStrategyRef } from '../../runtime/domain.ts';
import { actorOf, auditDenied, principalOf } from '../auth.ts';
import { botFilterSchema, filterQuery, selectBots } from '../bot-filter.ts';
import { accessOf, isHtmx, sendError, sendFragment, sendPage } from '../respond.tsx';
import { statusFor } from '../scope.ts';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm, parseQuery } from '../validate.ts';
import { AssignFields, BOT_SUMMARY_ID, BotDetailPage, BotSummary } from '../views/bot-detail.tsx';
import type { RowMessage } from '../views/bots.tsx';
import { BotRowView, BotsPage } from '../views/bots.tsx';
import { InlineMessage } from '../views/errors.tsx';
import { Partial } from '../views/partial.tsx';
import { STATUS_BAR_ID, StatusBar } from '../views/status-bar.tsx';

type BotCommand = 'pause' | 'resume' | 'restart';

const COMMAND_PERMISSION: Record<BotCommand, Permission> = { pause: 'bots.pause', resume: 'bots.resume', restart: 'bots.restart' };

// Who gives a command is the signed-in user: a posted `by` is ignored (zod strips unknown keys).
const commandForm = z.object({
  view: z.preprocess(emptyToUndefined, z.enum(['row', 'summary']).default('row')),
  reason: z.preprocess(emptyToUndefined, z.string().trim().max(500, 'reason is too long').optional()),
});

const reconcileForm = commandForm.extend({
  decision: z.enum(['accept', 'recheck'], { error: () => 'decision must be accept or recheck' }),
  view: z.preprocess(emptyToUndefined, z.enum(['row', 'summary']).default('summary')),
});

const assignForm = z.object({
  ref: z
    .string({ error: () => 'choose a strategy version' })
    .trim()
    .min(1, 'choose a strategy version')
    .transform((v, ctx) => {
      const ref = parseStrategyRef(v);
      if (!ref) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a strategy version (name@version)` });
        return z.NEVER;
      }
      return ref;
    }),
  params: z.string().max(100_000, 'params are too long').optional(),
  reason: z.preprocess(emptyToUndefined, z.string().trim().max(500, 'reason is too long').optional()),
});

const assignFieldsQuery = z.object({ ref: z.string().trim().max(300).optional() });

/** Parses the params textarea: empty means "use the version's defaults" (null). */
export function parseParams(text: string | undefined): { ok: true; params: Record<string, unknown> | null } | { ok: false; message: string } {
  if (text === undefined || text.trim() === '') return { ok: true, params: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `params: not valid JSON (${errorMessage(err)})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: 'params: must be a JSON object, e.g. {"lookback": 20}' };
  }
  return { ok: true, params: value as Record<string, unknown> };
}

function findBot(deps: ResolvedDeps, id: string): BotRow | undefined {
  return deps.api.getBot(id) ?? undefined;
}

/** The bot when it exists and the signed-in user may see it (otherwise it is "not found"). */
export function visibleBot(c: Context, deps: ResolvedDeps, id: string): BotRow | undefined {
  const bot = findBot(deps, id);
  return bot && can(principalOf(c), 'bots.read', { kind: 'trader', userId: bot.userId, managerId: bot.managerId }) ? bot : undefined;
}

/** True when the signed-in user may use a command permission on this bot. */
function mayCommand(c: Context, bot: BotRow, permission: Permission): boolean {
  return can(principalOf(c), permission, { kind: 'trader', userId: bot.userId, managerId: bot.managerId });
}

const outOfScope = (bot: BotRow) => `${bot.name} is outside what your account may change.`;

/** Refuses a command on a bot outside the signed-in user's scope: audited, 403. */
async function refuseOutOfScope(c: Context, deps: ResolvedDeps, bot: BotRow): Promise<Response> {
  await auditDenied(c, deps, { type: 'trader', id: bot.id }, outOfScope(bot));
  return sendError(c, deps, 403, outOfScope(bot));
}

async function runCommand(deps: ResolvedDeps, what: string, run: () => Promise<CommandResult>, ctx: object): Promise<RowMessage> {
  let result: CommandResult;
  try {
    result = await run();
  } catch (err) {
    deps.log.error({ ...ctx, cmd: what, err: errorMessage(err) }, 'console command threw');
    return { ok: false, text: `${what} failed: ${errorMessage(err)}` };
  }
  deps.log.info({ ...ctx, cmd: what, ok: result.ok, detail: result.ok ? result.message : result.error }, 'console command');
  return result.ok ? { ok: true, text: result.message } : { ok: false, text: result.error };
}

/** Every strategy version for a picker, or the error to show in its place. */
export async function loadVersions(deps: ResolvedDeps): Promise<{ versions: readonly StrategyVersionRow[]; error?: string }> {
  try {
    return { versions: (await deps.api.strategies()).versions };
  } catch (err) {
    deps.log.error({ err: errorMessage(err) }, 'strategies() failed');
    return { versions: [], error: errorMessage(err) };
  }
}

/** Routes of the bots area. */
export function botsRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { api } = deps;

  app.get('/bots', async (c) => {
    const parsed = parseQuery(c, botFilterSchema);
    if (!parsed.ok) return sendError(c, deps, 400, `Invalid filter: ${parsed.message}`);
    const filter = parsed.data;
    const p = principalOf(c);
    const sel = selectBots(visibleTraders(p, api.listBots()), filter);
    const query = filterQuery(filter, { page: sel.page });
    return sendPage(
      c,
      deps,
      { title: 'Bots', active: 'bots', live: `/events?view=bots${query ? `&${query}` : ''}` },
      <BotsPage sel={sel} filter={{ ...filter, page: sel.page }} managers={visibleManagers(p, api.listManagers())} now={deps.now()} access={accessOf(c)} />,
    );
  });

  app.get('/bots/:id', async (c) => {
    const id = c.req.param('id');
    const detail = visibleBot(c, deps, id) ? await api.botDetail(id) : null;
    if (!detail) return sendError(c, deps, 404, `No trader with id "${id}".`);
    const { versions, error } = await loadVersions(deps);
    return sendPage(
      c,
      deps,
      { title: detail.bot.name, active: 'bots', live: `/events?view=bot&id=${encodeURIComponent(id)}` },
      <BotDetailPage detail={detail} versions={versions} versionsError={error} now={deps.now()} access={accessOf(c)} />,
    );
  });

  app.post('/bots/:id/:command{pause|resume|restart}', async (c) => {
    const id = c.req.param('id');
    const command = c.req.param('command') as BotCommand;
    const bot = findBot(deps, id);
    if (!bot) return sendError(c, deps, 404, `No trader with id "${id}".`);
    if (!mayCommand(c, bot, COMMAND_PERMISSION[command])) return refuseOutOfScope(c, deps, bot);
    const form = await parseForm(c, commandForm);
    if (!form.ok) return sendError(c, deps, 400, form.message);
    const who = actorOf(c, form.data.reason ?? `${command} from the console`);
    const call = { pause: api.pauseBot, resume: api.resumeBot, restart: api.restartBot }[command];
    const message = await runCommand(deps, command, () => call.call(api, id, who), { traderId: id, by: who.by, userId: who.userId });
    return commandResponse(c, deps, id, bot, form.data.view, message);
  });

  app.post('/bots/:id/reconcile', async (c) => {
    const id = c.req.param('id');
    const bot = findBot(deps, id);
    if (!bot) return sendError(c, deps, 404, `No trader with id "${id}".`);
    if (!mayCommand(c, bot, 'bots.resume')) return refuseOutOfScope(c, deps, bot);
    const form = await parseForm(c, reconcileForm);
    if (!form.ok) return sendError(c, deps, 400, form.message);
    const { decision, reason, view } = form.data;
    const who = actorOf(c, reason ?? (decision === 'accept' ? 'venue state accepted from the console' : 're-checked from the console'));
    const message = await runCommand(deps, `reconcile ${decision}`, () => api.resolveReconciliation(id, decision, who), { traderId: id, by: who.by, userId: who.userId });
    return commandResponse(c, deps, id, bot, view, message);
  });

  app.get('/bots/:id/assign-fields', async (c) => {
    const id = c.req.param('id');
    const bot = visibleBot(c, deps, id);
    if (!bot) return sendError(c, deps, 404, `No trader with id "${id}".`);
    if (!mayCommand(c, bot, 'bots.assign_strategy')) return sendError(c, deps, 403, outOfScope(bot));
    const q = parseQuery(c, assignFieldsQuery);
    if (!q.ok) return sendError(c, deps, 400, q.message);
    const { versions, error } = await loadVersions(deps);
    if (error) return sendFragment(c, <InlineMessage ok={false} text={`Strategy versions are unavailable: ${error}`} />, 503);
    return sendFragment(c, <AssignFields botId={id} versions={versions} selected={q.data.ref ?? null} />);
  });

  app.post('/bots/:id/strategy', async (c) => {
    const id = c.req.param('id');
    const bot = findBot(deps, id);
    if (!bot) return sendError(c, deps, 404, `No trader with id "${id}".`);
    if (!mayCommand(c, bot, 'bots.assign_strategy')) return refuseOutOfScope(c, deps, bot);
    const form = await parseForm(c, assignForm);
    if (!form.ok) return assignResponse(c, deps, id, 400, { ok: false, text: form.message });
    const params = parseParams(form.data.params);
    if (!params.ok) return assignResponse(c, deps, id, 400, { ok: false, text: params.message });
    const { ref, reason } = form.data;
    const who = actorOf(c, reason);
    const message = await runCommand(
      deps,
      'assign strategy',
      () => api.assignStrategy(id, ref, params.params, who),
      { traderId: id, by: who.by, userId: who.userId, ref: `${ref.name}@${ref.version}` },
    );
    return assignResponse(c, deps, id, message.ok ? 200 : 409, message);
  });

  return app;
}

async function commandResponse(
  c: Context,
  deps: ResolvedDeps,
  id: string,
  before: BotRow,
  view: 'row' | 'summary',
  message: RowMessage,
): Promise<Response> {
  const status = message.ok ? 200 : 409;
  if (!isHtmx(c)) {
    if (!message.ok) return sendError(c, deps, status, message.text);
    return c.redirect(view === 'summary' ? `/bots/${encodeURIComponent(id)}` : '/bots', 303);
  }
  const bot = findBot(deps, id) ?? before;
  const now = deps.now();
  const access = accessOf(c);
  const statusBar = (
    <Partial target={STATUS_BAR_ID}>
      <StatusBar status={statusFor(deps.api, access.principal)} access={access} />
    </Partial>
  );
  return sendFragment(
    c,
    view === 'summary' ? (
      <>
        <BotSummary bot={bot} now={now} message={message} access={access} />
        {statusBar}
      </>
    ) : (
      <>
        <BotRowView bot={bot} now={now} message={message} access={access} />
        {statusBar}
      </>
    ),
    status,
  );
}

async function assignResponse(c: Context, deps: ResolvedDeps, id: string, status: 200 | 400 | 409, message: RowMessage): Promise<Response> {
  if (!isHtmx(c)) {
    if (!message.ok) return sendError(c, deps, status === 200 ? 400 : status, message.text);
    return c.redirect(`/bots/${encodeURIComponent(id)}`, 303);
  }
  const bot = message.ok ? findBot(deps, id) : undefined;
  return sendFragment(
    c,
    <>
      <InlineMessage ok={message.ok} text={message.text} />
      {bot ? (
        <Partial target={BOT_SUMMARY_ID}>
          <BotSummary bot={bot} now={deps.now()} access={accessOf(c)} />
        </Partial>
      ) : null}
    </>,
    status,
  );
}
