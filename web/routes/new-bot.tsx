/**
 * A new bot from the console: the form (`GET /bots/new`), its fragments (the owner's usable keys
 * when the owner changes, the strategy fields when the version changes) and `POST /bots`. A
 * created bot opens its page (htmx: `HX-Redirect`); a refusal shows the form again with the
 * message and what was entered.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Principal } from '../../runtime/accounts/index.ts';
import type { OwnKeyRow } from '../../runtime/admin.ts';
import type { CreateBotResult } from '../../runtime/api.ts';
import { errorMessage, parseStrategyRef } from '../../runtime/domain.ts';
import { MAX_ID } from '../api/schemas.ts';
import { actorOf, principalOf } from '../auth.ts';
import { CAPITAL, MAX_BOT_NAME, MAX_LEVERAGE, createBotStatus, groupChoices, ownerChoices, scopeRefusal, usableKeys } from '../new-bot.ts';
import { accessOf, isHtmx, sendFragment, sendPage } from '../respond.tsx';
import type { Status } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm, parseQuery, wholeNumber } from '../validate.ts';
import { AssignFields } from '../views/bot-detail.tsx';
import { InlineMessage } from '../views/errors.tsx';
import { BOT_STRATEGY_FIELDS_ID, BotAccountField, NEW_BOT_DEFAULTS, NewBotForm, NewBotPage, type NewBotValues } from '../views/new-bot.tsx';
import { loadVersions, parseParams } from './bots.tsx';

const ID = /^[A-Za-z0-9_.:@-]+$/;

const idField = (what: string) =>
  z
    .string({ error: () => `choose ${what}` })
    .trim()
    .min(1, `choose ${what}`)
    .max(MAX_ID, `${what} is longer than ${MAX_ID} characters`)
    .regex(ID, `${what} may contain only letters, digits and _ . : @ -`);

const newBotForm = z.object({
  name: z
    .string({ error: () => 'the name is required' })
    .trim()
    .min(1, 'the name is required')
    .max(MAX_BOT_NAME, `the name is longer than ${MAX_BOT_NAME} characters`)
    .regex(/^[^\p{Cc}]*$/u, 'the name must not contain control characters'),
  userId: idField('an owner'),
  managerId: idField('a group'),
  ref: z
    .string({ error: () => 'choose a strategy version' })
    .trim()
    .min(1, 'choose a strategy version')
    .max(300, 'the strategy version is too long')
    .transform((v, ctx) => {
      const ref = parseStrategyRef(v);
      if (!ref) {
        ctx.addIssue({ code: 'custom', message: 'the strategy version must be name@version' });
        return z.NEVER;
      }
      return ref;
    }),
  params: z.string().max(100_000, 'params are too long').optional(),
  account: idField('paper or an exchange key'),
  initialCapital: z
    .string({ error: () => 'the initial capital is required' })
    .trim()
    .regex(CAPITAL, 'the initial capital must be an amount of USDT such as 1000 or 250.5')
    .refine((v) => Number(v) > 0, 'the initial capital must be above 0'),
  leverage: wholeNumber('the leverage', 1, MAX_LEVERAGE),
  startPaused: z.preprocess(emptyToUndefined, z.enum(['on'], { error: () => 'start paused is a checkbox' }).optional()),
});

const keysQuery = z.object({ userId: z.preprocess(emptyToUndefined, idField('an owner').optional()) });
const fieldsQuery = z.object({ ref: z.string().trim().max(300, 'the strategy version is too long').optional() });

/** A posted field as text (the form shown again keeps it). */
const textOf = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 100_000) : '');

async function keysOf(deps: ResolvedDeps, userId: string): Promise<{ keys: OwnKeyRow[]; error?: string }> {
  if (!deps.admin) return { keys: [], error: 'exchange key administration is not configured on this server' };
  try {
    return { keys: await usableKeys(deps, userId) };
  } catch (err) {
    deps.log.error({ err: errorMessage(err), user: userId }, 'userKeys() failed');
    return { keys: [], error: errorMessage(err) };
  }
}

/** Routes of the new-bot form (mounted before the bots routes: `/bots/:id` would take `/bots/new`). */
export function newBotRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  /** The form with everything it lists; the owner defaults to the caller when they may own one. */
  const form = async (c: Context<AppEnv>, p: Principal, values: NewBotValues, message?: string) => {
    const [owners, { versions, error }] = await Promise.all([ownerChoices(deps, p), loadVersions(deps)]);
    const groups = groupChoices(deps, p);
    const userId = owners.some((o) => o.id === values.userId) ? values.userId : (owners.find((o) => o.id === p.userId) ?? owners[0])?.id ?? '';
    const managerId = groups.some((m) => m.id === values.managerId) ? values.managerId : (groups[0]?.id ?? '');
    const keys = userId ? await keysOf(deps, userId) : { keys: [] };
    const shown: NewBotValues = { ...values, userId, managerId };
    return {
      owners,
      groups,
      versions,
      versionsError: error,
      keys: keys.keys,
      keysUnavailable: keys.error,
      values: shown,
      message,
      csrf: accessOf(c).csrf,
    };
  };

  const refused = async (c: Context<AppEnv>, p: Principal, values: NewBotValues, status: Status, message: string) => {
    const props = await form(c, p, values, message);
    if (isHtmx(c)) return sendFragment(c, <NewBotForm {...props} />, status);
    return sendPage(c, deps, { title: 'New bot', active: 'bots', live: null, status }, <NewBotPage {...props} />);
  };

  app.get('/bots/new', async (c) => {
    const p = principalOf(c);
    return sendPage(c, deps, { title: 'New bot', active: 'bots', live: null }, <NewBotPage {...await form(c, p, NEW_BOT_DEFAULTS)} />);
  });

  app.get('/bots/new/keys', async (c) => {
    const q = parseQuery(c, keysQuery);
    if (!q.ok) return sendFragment(c, <InlineMessage ok={false} text={`Invalid owner: ${q.message}.`} />, 400);
    const p = principalOf(c);
    const userId = q.data.userId ?? p.userId;
    if (!(await ownerChoices(deps, p)).some((o) => o.id === userId)) {
      return sendFragment(c, <InlineMessage ok={false} text={`You may not create bots for ${userId}.`} />, 404);
    }
    const keys = await keysOf(deps, userId);
    return sendFragment(c, <BotAccountField keys={keys.keys} selected="paper" keysUnavailable={keys.error} />);
  });

  app.get('/bots/new/strategy-fields', async (c) => {
    const q = parseQuery(c, fieldsQuery);
    if (!q.ok) return sendFragment(c, <InlineMessage ok={false} text={q.message} />, 400);
    const { versions, error } = await loadVersions(deps);
    if (error) return sendFragment(c, <InlineMessage ok={false} text={`Strategy versions are unavailable: ${error}`} />, 503);
    return sendFragment(c, <AssignFields fieldsUrl="/bots/new/strategy-fields" target={`#${BOT_STRATEGY_FIELDS_ID}`} versions={versions} selected={q.data.ref ?? null} />);
  });

  app.post('/bots', async (c) => {
    const p = principalOf(c);
    let raw: Record<string, unknown> = {};
    try {
      raw = await c.req.parseBody();
    } catch {
      // parseForm answers an unreadable body below.
    }
    const values: NewBotValues = {
      name: textOf(raw['name']),
      userId: textOf(raw['userId']),
      managerId: textOf(raw['managerId']),
      ref: textOf(raw['ref']),
      params: typeof raw['params'] === 'string' ? textOf(raw['params']) : undefined,
      account: textOf(raw['account']) || 'paper',
      initialCapital: textOf(raw['initialCapital']),
      leverage: textOf(raw['leverage']),
      startPaused: raw['startPaused'] === 'on',
    };
    const parsed = await parseForm(c, newBotForm);
    if (!parsed.ok) return refused(c, p, values, 400, `Not created: ${parsed.message}.`);
    const f = parsed.data;
    const params = parseParams(f.params);
    if (!params.ok) return refused(c, p, values, 400, `Not created: ${params.message}.`);
    const scope = await scopeRefusal(deps, p, f.userId, f.managerId);
    if (scope) return refused(c, p, values, scope.status, `Not created: ${scope.message}.`);
    let venue = 'paper';
    let keyId: string | null = null;
    if (f.account !== 'paper') {
      const key = (await keysOf(deps, f.userId)).keys.find((k) => k.id === f.account);
      if (!key) return refused(c, p, values, 400, `Not created: ${f.account} is not a usable exchange key of the owner (choose paper or one of the listed keys).`);
      venue = key.exchange;
      keyId = key.id;
    }
    const who = actorOf(c, 'created from the console');
    let r: CreateBotResult;
    try {
      r = await deps.api.createBot(
        {
          name: f.name,
          userId: f.userId,
          managerId: f.managerId,
          strategy: f.ref,
          params: params.params,
          venue,
          keyId,
          initialCapital: f.initialCapital,
          leverage: f.leverage,
          startPaused: f.startPaused === 'on',
        },
        who,
      );
    } catch (err) {
      deps.log.error({ cmd: 'bot.create', err: errorMessage(err), by: who.userId }, 'console command threw');
      return refused(c, p, values, 500, `Not created: ${errorMessage(err)}.`);
    }
    deps.log.info({ cmd: 'bot.create', ok: r.ok, by: who.userId, user: f.userId, group: f.managerId, venue, detail: r.ok ? r.botId : r.error }, 'console command');
    if (!r.ok) return refused(c, p, values, createBotStatus(r), `Not created: ${r.error}.`);
    const to = `/bots/${encodeURIComponent(r.botId)}`;
    if (isHtmx(c)) {
      c.header('HX-Redirect', to);
      return c.body(null, 200);
    }
    return c.redirect(to, 303);
  });

  return app;
}
