/**
 * Users: the list (search, filter, sort) and a user's detail, with Suspend and Reinstate.
 * Commands answer an htmx request with the refreshed summary block (and its message), a plain
 * form post with a redirect to the user's page; refusals answer 4xx with the reason.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { ROLES } from '../../runtime/accounts/index.ts';
import type { AdminApi, AdminCaller, AdminResult } from '../../runtime/admin.ts';
import { USER_SORTS } from '../../runtime/admin.ts';
import { ADMIN_STATUS } from '../api/errors.ts';
import { MAX_ID, MAX_REASON } from '../api/schemas.ts';
import { principalOf } from '../auth.ts';
import { accessOf, isHtmx, sendError, sendFragment, sendPage } from '../respond.tsx';
import type { Status } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm, parseQuery, wholeNumber } from '../validate.ts';
import type { RowMessage } from '../views/bots.tsx';
import { Partial } from '../views/partial.tsx';
import { STATUS_BAR_ID, StatusBar } from '../views/status-bar.tsx';
import { USERS_PAGE_SIZE, UserDetailPage, UsersPage, type UserFilterView } from '../views/users.tsx';
import { statusFor } from '../scope.ts';

const usersFilter = z.object({
  q: z.preprocess(emptyToUndefined, z.string().trim().max(100, 'search text is longer than 100 characters').optional()),
  role: z.preprocess(emptyToUndefined, z.enum(ROLES, { error: () => `role must be one of ${ROLES.join(', ')}` }).optional()),
  status: z.preprocess(emptyToUndefined, z.enum(['active', 'suspended'], { error: () => 'status must be active or suspended' }).optional()),
  running: z.preprocess(emptyToUndefined, z.enum(['yes', 'no'], { error: () => 'running must be yes or no' }).optional()),
  sort: z.preprocess(emptyToUndefined, z.enum(USER_SORTS, { error: () => `sort must be one of ${USER_SORTS.join(', ')}` }).default('joined')),
  order: z.preprocess(emptyToUndefined, z.enum(['asc', 'desc'], { error: () => 'order must be asc or desc' }).default('desc')),
  page: z.preprocess(
    emptyToUndefined,
    wholeNumber('page', 1, 100_000).default(1),
  ),
});

/** A path id: bounded and plain (anything else is a 400, never a lookup). */
export const pathId = z
  .string()
  .min(1, 'the id is missing')
  .max(MAX_ID, `the id is longer than ${MAX_ID} characters`)
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'the id may contain only letters, digits and _ . : @ -');

const suspendForm = z.object({
  reason: z
    .string({ error: () => 'a reason is required' })
    .trim()
    .min(1, 'a reason is required')
    .max(MAX_REASON, `the reason is longer than ${MAX_REASON} characters`),
});

const optionalReasonForm = z.object({
  reason: z.preprocess(emptyToUndefined, z.string({ error: () => 'the reason must be text' }).trim().max(MAX_REASON, `the reason is longer than ${MAX_REASON} characters`).optional()),
});

/** The caller of an administration command: the signed-in user, from this address. */
export function callerOf(c: Context): AdminCaller {
  const p = principalOf(c);
  return { userId: p.userId, label: p.displayName, role: p.role, ip: (c as Context<AppEnv>).get('clientIp') ?? 'unknown' };
}

/** A handler that needs the admin API: a 503 page when the server was started without it. */
export function withAdmin(deps: ResolvedDeps, handler: (c: Context<AppEnv>, admin: AdminApi) => Promise<Response>) {
  return (c: Context<AppEnv>): Promise<Response> =>
    deps.admin ? handler(c, deps.admin) : sendError(c, deps, 503, 'User, security and risk administration is not configured on this server.');
}

/** The status of a command's answer. */
export function resultStatus(r: AdminResult<unknown>): Status {
  return r.ok ? 200 : ADMIN_STATUS[r.code];
}

/**
 * Answers a command on a user: htmx gets the whole user page again (its bots and sessions change
 * too) with the message, and the status bar; a plain post is redirected to the user's page. A
 * refusal keeps its 4xx.
 */
export async function userCommandAnswer(c: Context, deps: ResolvedDeps, admin: AdminApi, id: string, message: RowMessage, status: Status): Promise<Response> {
  if (!isHtmx(c)) {
    if (!message.ok) return sendError(c, deps, status, message.text);
    return c.redirect(`/users/${encodeURIComponent(id)}`, 303);
  }
  const detail = await admin.userDetail(id);
  if (!detail) return sendError(c, deps, 404, `No user with id "${id}".`);
  const access = accessOf(c);
  return sendFragment(
    c,
    <>
      <UserDetailPage detail={detail} now={deps.now()} access={access} message={message} />
      <Partial target={STATUS_BAR_ID}>
        <StatusBar status={statusFor(deps.api, access.principal)} access={access} />
      </Partial>
    </>,
    status,
  );
}

/** Routes of the Users area. */
export function usersRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get(
    '/users',
    withAdmin(deps, async (c, admin) => {
      const parsed = parseQuery(c, usersFilter);
      if (!parsed.ok) return sendError(c, deps, 400, `Invalid filter: ${parsed.message}.`);
      const f = parsed.data;
      const page = await admin.listUsers({
        ...(f.q ? { q: f.q } : {}),
        ...(f.role ? { role: f.role } : {}),
        ...(f.status ? { status: f.status } : {}),
        ...(f.running ? { hasRunningBots: f.running === 'yes' } : {}),
        sort: f.sort,
        order: f.order,
        limit: USERS_PAGE_SIZE,
        offset: (f.page - 1) * USERS_PAGE_SIZE,
      });
      const filter: UserFilterView = { q: f.q, role: f.role, status: f.status, running: f.running, sort: f.sort, order: f.order, page: f.page };
      return sendPage(c, deps, { title: 'Users', active: 'users', live: null }, <UsersPage page={page} filter={filter} now={deps.now()} />);
    }),
  );

  app.get(
    '/users/:id',
    withAdmin(deps, async (c, admin) => {
      const id = pathId.safeParse(c.req.param('id'));
      if (!id.success) return sendError(c, deps, 400, `Invalid user id: ${id.error.issues[0]?.message ?? 'malformed'}.`);
      const detail = await admin.userDetail(id.data);
      if (!detail) return sendError(c, deps, 404, `No user with id "${id.data}".`);
      return sendPage(c, deps, { title: detail.user.displayName, active: 'users', live: null }, <UserDetailPage detail={detail} now={deps.now()} access={accessOf(c)} />);
    }),
  );

  for (const command of ['suspend', 'unsuspend'] as const) {
    app.post(
      `/users/:id/${command}`,
      withAdmin(deps, async (c, admin) => {
        const id = pathId.safeParse(c.req.param('id'));
        if (!id.success) return sendError(c, deps, 400, `Invalid user id: ${id.error.issues[0]?.message ?? 'malformed'}.`);
        const form = command === 'suspend' ? await parseForm(c, suspendForm) : await parseForm(c, optionalReasonForm);
        if (!form.ok) {
          if (!(await deps.accounts.store.users.get(id.data))) return sendError(c, deps, 404, `No user with id "${id.data}".`);
          return userCommandAnswer(c, deps, admin, id.data, { ok: false, text: `Not ${command === 'suspend' ? 'suspended' : 'reinstated'}: ${form.message}.` }, 400);
        }
        const caller = callerOf(c);
        const r = command === 'suspend' ? await admin.suspendUser(id.data, caller, form.data.reason ?? '') : await admin.unsuspendUser(id.data, caller, form.data.reason);
        deps.log.info({ cmd: `user.${command}`, user: id.data, by: caller.userId, ok: r.ok }, 'console command');
        if (!r.ok && r.code === 'not_found') return sendError(c, deps, 404, r.error);
        return userCommandAnswer(c, deps, admin, id.data, r.ok ? { ok: true, text: r.message } : { ok: false, text: r.error }, resultStatus(r));
      }),
    );
  }

  return app;
}
