/**
 * The JSON API under `/api/v1`: bots (list, pause, resume, restart), Pause All / Resume All,
 * users (list, detail, suspend, reinstate, Force Logout), exchange keys, risk violations and
 * policies, sign-in security and the audit log. The auth middleware and the route table have
 * already checked who is calling and the permission; handlers validate every input with zod
 * (400 with the issues), check resource scope, and answer JSON errors with 4xx codes.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { z } from 'zod';
import { can, visibleTraders } from '../../runtime/accounts/index.ts';
import type { Permission } from '../../runtime/accounts/index.ts';
import type { AdminApi, AdminCaller, AdminResult } from '../../runtime/admin.ts';
import type { Actor, BotRow, CommandResult } from '../../runtime/api.ts';
import { errorMessage } from '../../runtime/domain.ts';
import { auditDenied, authOf, principalOf } from '../auth.ts';
import { createBotStatus, scopeRefusal } from '../new-bot.ts';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { ADMIN_STATUS, apiFail, invalid } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import * as S from './schemas.ts';

const JSON_TYPE = /^application\/json\b/i;

type Parsed<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly response: Response };

function check<Sc extends z.ZodType>(c: Context, schema: Sc, value: unknown, what: string): Parsed<z.output<Sc>> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, data: r.data } : { ok: false, response: invalid(c, r.error, what) };
}

/** Validates the path parameters. */
function params<Sc extends z.ZodType>(c: Context, schema: Sc): Parsed<z.output<Sc>> {
  return check(c, schema, c.req.param(), 'path');
}

/** Validates the query string (first value of each key). */
function query<Sc extends z.ZodType>(c: Context, schema: Sc): Parsed<z.output<Sc>> {
  return check(c, schema, c.req.query(), 'query');
}

/** Refuses query parameters on a route that takes none. */
function noQuery(c: Context): Response | null {
  const q = query(c, S.NoQuery);
  return q.ok ? null : q.response;
}

/** Refuses a body on a route that takes none (DELETE). */
async function noBody(c: Context): Promise<Response | null> {
  const text = await c.req.text().catch(() => '');
  return text.trim() === '' ? null : apiFail(c, 400, 'invalid_request', 'This request takes no body.', [{ path: '', message: 'must be empty' }]);
}

/** Reads and validates a JSON body (an empty body counts as `{}`); commands take no query. */
async function body<Sc extends z.ZodType>(c: Context, schema: Sc): Promise<Parsed<z.output<Sc>>> {
  const extra = noQuery(c);
  if (extra) return { ok: false, response: extra };
  let text: string;
  try {
    text = await c.req.text();
  } catch {
    return { ok: false, response: apiFail(c, 400, 'invalid_body', 'The request body could not be read.') };
  }
  let raw: unknown = {};
  if (text.trim() !== '') {
    if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      return { ok: false, response: apiFail(c, 415, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).') };
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { ok: false, response: apiFail(c, 400, 'invalid_json', `The body is not valid JSON: ${errorMessage(err)}.`) };
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, response: apiFail(c, 400, 'invalid_request', 'The body must be a JSON object.', [{ path: '', message: 'must be a JSON object' }]) };
  }
  return check(c, schema, raw, 'body');
}

const callerOf = (c: Context<AppEnv>): AdminCaller => {
  const p = principalOf(c);
  return { userId: p.userId, label: p.displayName, role: p.role, ip: c.get('clientIp') ?? 'unknown' };
};

const actorOf = (c: Context<AppEnv>, reason?: string): Actor => {
  const a = callerOf(c);
  return { by: a.label, userId: a.userId, ip: a.ip, ...(reason ? { reason } : {}) };
};

/** Sends an administration result: 200 with the value, or its refusal as a 4xx. */
function answer<T>(c: Context, r: AdminResult<T>): Response {
  if (!r.ok) return apiFail(c, ADMIN_STATUS[r.code], r.code, r.error);
  return c.json({ ok: true, message: r.message, result: r.value as unknown });
}

/** Sends a platform command's result: 200, or 409 with the refusal. */
function commandAnswer(c: Context, r: CommandResult): Response {
  return r.ok ? c.json({ ok: true, message: r.message }) : apiFail(c, 409, 'refused', r.error);
}

const BOT_PERMISSION: Record<'pause' | 'resume' | 'restart', Permission> = { pause: 'bots.pause', resume: 'bots.resume', restart: 'bots.restart' };

/** Routes of the JSON API (mounted at `/api/v1`). */
export function apiRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { api } = deps;
  let doc: Record<string, unknown> | null = null;

  const withAdmin = (c: Context, run: (admin: AdminApi) => Promise<Response>): Promise<Response> | Response =>
    deps.admin ? run(deps.admin) : apiFail(c, 503, 'unavailable', 'User, security and risk administration is not configured on this server.');

  app.get('/openapi.json', (c) => c.json((doc ??= openApiDocument())));

  // Bots.
  const visible = (c: Context, bot: BotRow | null): bot is BotRow =>
    bot !== null && can(principalOf(c), 'bots.read', { kind: 'trader', userId: bot.userId, managerId: bot.managerId });

  app.get('/bots', (c) => {
    const q = query(c, S.BotsQuery);
    if (!q.ok) return q.response;
    const needle = q.data.q?.trim().toLowerCase() ?? '';
    const bots = visibleTraders(principalOf(c), api.listBots()).filter(
      (b) =>
        (q.data.status === undefined || b.status === q.data.status) &&
        (q.data.manager === undefined || b.managerId === q.data.manager) &&
        (q.data.user === undefined || b.userId === q.data.user) &&
        (!needle || b.name.toLowerCase().includes(needle) || b.id.toLowerCase().includes(needle) || b.strategy.toLowerCase().includes(needle)),
    );
    const offset = q.data.offset ?? 0;
    return c.json({ bots: bots.slice(offset, offset + (q.data.limit ?? 100)), total: bots.length });
  });

  app.post('/bots', async (c) => {
    const b = await body(c, S.NewBotBody);
    if (!b.ok) return b.response;
    const p = principalOf(c);
    const input = b.data;
    const scope = await scopeRefusal(deps, p, input.userId, input.managerId);
    if (scope) {
      if (scope.status === 403) await auditDenied(c, deps, { type: 'manager', id: input.managerId }, scope.message);
      return apiFail(c, scope.status, scope.status === 403 ? 'forbidden' : 'invalid', scope.message);
    }
    const [name, version] = input.strategy.split('@') as [string, string];
    const who = actorOf(c, 'created from the API');
    const r = await api.createBot(
      {
        name: input.name,
        userId: input.userId,
        managerId: input.managerId,
        strategy: { name, version: Number(version) },
        params: input.params ?? null,
        venue: input.venue,
        keyId: input.venue === 'paper' ? null : (input.keyId ?? null),
        initialCapital: input.initialCapital,
        leverage: input.leverage,
        startPaused: input.startPaused ?? false,
      },
      who,
    );
    deps.log.info({ cmd: 'bot.create', by: who.userId, user: input.userId, group: input.managerId, venue: input.venue, ok: r.ok, via: authOf(c)?.via }, 'api command');
    return r.ok ? c.json({ ok: true, message: r.message, botId: r.botId }) : apiFail(c, createBotStatus(r), r.code, r.error);
  });

  app.get('/bots/:id', (c) => {
    const p = params(c, S.IdParam);
    if (!p.ok) return p.response;
    const extra = noQuery(c);
    if (extra) return extra;
    const bot = api.getBot(p.data.id);
    if (!visible(c, bot)) return apiFail(c, 404, 'not_found', `No bot with id "${p.data.id}".`);
    return c.json(bot);
  });

  for (const command of ['pause', 'resume', 'restart'] as const) {
    app.post(`/bots/:id/${command}`, async (c) => {
      const p = params(c, S.IdParam);
      if (!p.ok) return p.response;
      const bot = api.getBot(p.data.id);
      if (!bot) return apiFail(c, 404, 'not_found', `No bot with id "${p.data.id}".`);
      if (!can(principalOf(c), BOT_PERMISSION[command], { kind: 'trader', userId: bot.userId, managerId: bot.managerId })) {
        const message = `${bot.name} is outside what your account may change.`;
        await auditDenied(c, deps, { type: 'trader', id: bot.id }, message);
        return apiFail(c, 403, 'forbidden', message);
      }
      const b = await body(c, S.CommandBody);
      if (!b.ok) return b.response;
      const who = actorOf(c, b.data.reason || `${command} from the API`);
      const call = { pause: api.pauseBot, resume: api.resumeBot, restart: api.restartBot }[command];
      const r = await call.call(api, bot.id, who);
      deps.log.info({ cmd: command, traderId: bot.id, by: who.userId, ok: r.ok, via: authOf(c)?.via }, 'api command');
      return commandAnswer(c, r);
    });
  }

  app.post('/bots/:id/reconcile', async (c) => {
    const p = params(c, S.IdParam);
    if (!p.ok) return p.response;
    const bot = api.getBot(p.data.id);
    if (!bot) return apiFail(c, 404, 'not_found', `No bot with id "${p.data.id}".`);
    if (!can(principalOf(c), 'bots.resume', { kind: 'trader', userId: bot.userId, managerId: bot.managerId })) {
      const message = `${bot.name} is outside what your account may change.`;
      await auditDenied(c, deps, { type: 'trader', id: bot.id }, message);
      return apiFail(c, 403, 'forbidden', message);
    }
    const b = await body(c, S.ReconcileBody);
    if (!b.ok) return b.response;
    const who = actorOf(c, b.data.reason || `reconciliation ${b.data.decision} from the API`);
    const r = await api.resolveReconciliation(bot.id, b.data.decision, who);
    deps.log.info({ cmd: `reconcile.${b.data.decision}`, traderId: bot.id, by: who.userId, ok: r.ok, via: authOf(c)?.via }, 'api command');
    return commandAnswer(c, r);
  });

  app.post('/platform/pause-all', async (c) => {
    const b = await body(c, S.ReasonBody);
    if (!b.ok) return b.response;
    return commandAnswer(c, await api.pauseAll(actorOf(c, b.data.reason)));
  });

  app.post('/platform/resume-all', async (c) => {
    const b = await body(c, S.CommandBody);
    if (!b.ok) return b.response;
    return commandAnswer(c, await api.resumeAll(actorOf(c, b.data.reason || 'resumed from the API')));
  });

  // Users.
  app.get('/users', (c) =>
    withAdmin(c, async (admin) => {
      const q = query(c, S.UsersQuery);
      if (!q.ok) return q.response;
      const page = await admin.listUsers(q.data);
      return c.json({ users: page.rows, total: page.total, offset: page.offset, limit: page.limit });
    }),
  );

  app.get('/users/:id', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.IdParam);
      if (!p.ok) return p.response;
      const extra = noQuery(c);
      if (extra) return extra;
      const detail = await admin.userDetail(p.data.id);
      return detail ? c.json(detail) : apiFail(c, 404, 'not_found', `No user with id "${p.data.id}".`);
    }),
  );

  app.post('/users/:id/suspend', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.IdParam);
      if (!p.ok) return p.response;
      const b = await body(c, S.ReasonBody);
      if (!b.ok) return b.response;
      return answer(c, await admin.suspendUser(p.data.id, callerOf(c), b.data.reason));
    }),
  );

  app.post('/users/:id/unsuspend', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.IdParam);
      if (!p.ok) return p.response;
      const b = await body(c, S.CommandBody);
      if (!b.ok) return b.response;
      return answer(c, await admin.unsuspendUser(p.data.id, callerOf(c), b.data.reason));
    }),
  );

  app.post('/users/:id/force-logout', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.IdParam);
      if (!p.ok) return p.response;
      const b = await body(c, S.CommandBody);
      if (!b.ok) return b.response;
      return answer(c, await admin.forceLogout(p.data.id, callerOf(c), b.data.reason));
    }),
  );

  // Exchange keys.
  app.get('/keys', (c) =>
    withAdmin(c, async (admin) => {
      const q = query(c, S.KeysQuery);
      if (!q.ok) return q.response;
      return c.json({ keys: await admin.listKeys(q.data) });
    }),
  );

  app.get('/keys/history', (c) =>
    withAdmin(c, async (admin) => {
      const q = query(c, S.KeyHistoryQuery);
      if (!q.ok) return q.response;
      return c.json({ events: await admin.keyHistory(q.data) });
    }),
  );

  for (const action of ['revoke', 'disable', 'enable'] as const) {
    app.post(`/keys/:id/${action}`, (c) =>
      withAdmin(c, async (admin) => {
        const p = params(c, S.IdParam);
        if (!p.ok) return p.response;
        const b = await body(c, S.ReasonBody);
        if (!b.ok) return b.response;
        const run = { revoke: admin.revokeKey, disable: admin.disableKey, enable: admin.enableKey }[action];
        return answer(c, await run(p.data.id, callerOf(c), b.data.reason));
      }),
    );
  }

  // One's own exchange keys (another user's only with keys.manage: the admin layer checks).
  app.get('/exchange-keys', (c) =>
    withAdmin(c, async (admin) => noQuery(c) ?? c.json({ keys: await admin.userKeys(principalOf(c).userId) })),
  );

  app.post('/exchange-keys', (c) =>
    withAdmin(c, async (admin) => {
      const b = await body(c, S.NewKeyBody);
      if (!b.ok) return b.response;
      const { userId, passphrase, ...key } = b.data;
      const r = await admin.addKey({ ...key, userId: userId ?? principalOf(c).userId, ...(passphrase ? { passphrase } : {}) }, callerOf(c));
      deps.log.info({ cmd: 'exchange_key.add', exchange: key.exchange, ok: r.ok, check: r.ok ? r.value.validation.status : null, via: authOf(c)?.via }, 'api command');
      return answer(c, r);
    }),
  );

  app.post('/exchange-keys/:id/check', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.IdParam);
      if (!p.ok) return p.response;
      const b = await body(c, S.EmptyBody);
      if (!b.ok) return b.response;
      return answer(c, await admin.checkKey(p.data.id, callerOf(c)));
    }),
  );

  app.delete('/exchange-keys/:id', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.IdParam);
      if (!p.ok) return p.response;
      const extra = noQuery(c) ?? (await noBody(c));
      if (extra) return extra;
      return answer(c, await admin.deleteKey(p.data.id, callerOf(c)));
    }),
  );

  // Risk.
  app.get('/violations', (c) =>
    withAdmin(c, async (admin) => {
      const q = query(c, S.ViolationsQuery);
      if (!q.ok) return q.response;
      return c.json({ violations: await admin.listViolations(q.data) });
    }),
  );

  app.post('/violations/:id/release', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.ViolationIdParam);
      if (!p.ok) return p.response;
      const b = await body(c, S.ReasonBody);
      if (!b.ok) return b.response;
      return answer(c, await admin.releaseViolation(p.data.id, callerOf(c), b.data.reason));
    }),
  );

  app.get('/policies', (c) => withAdmin(c, async (admin) => noQuery(c) ?? c.json(await admin.policies())));

  app.put('/policies/:scope/:scopeId', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.PolicyParam);
      if (!p.ok) return p.response;
      const b = await body(c, S.PolicyBody);
      if (!b.ok) return b.response;
      return answer(c, await admin.setPolicy({ scope: p.data.scope, scopeId: p.data.scopeId, ...b.data }, callerOf(c)));
    }),
  );

  app.delete('/policies/:scope/:scopeId', (c) =>
    withAdmin(c, async (admin) => {
      const p = params(c, S.PolicyParam);
      if (!p.ok) return p.response;
      const extra = noQuery(c) ?? (await noBody(c));
      if (extra) return extra;
      if (p.data.scope === 'platform') return apiFail(c, 409, 'conflict', 'The platform policy cannot be removed: set its limits instead.');
      return answer(c, await admin.clearPolicy(p.data.scope, p.data.scopeId, callerOf(c)));
    }),
  );

  // Security.
  app.get('/sign-ins', (c) =>
    withAdmin(c, async (admin) => {
      const q = query(c, S.SignInsQuery);
      if (!q.ok) return q.response;
      return c.json(await admin.signInSecurity(q.data));
    }),
  );

  app.get('/audit', (c) =>
    withAdmin(c, async (admin) => {
      const q = query(c, S.AuditQuery);
      if (!q.ok) return q.response;
      const { actor, ...rest } = q.data;
      return c.json(await admin.auditLog({ ...rest, ...(actor !== undefined ? { actorUserId: actor } : {}) }));
    }),
  );

  return app;
}
