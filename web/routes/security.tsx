/**
 * Security & Audit: exchange keys (Revoke / Disable / Enable, history), risk violations
 * (Release), sign-in security and the audit log. Commands answer an htmx request with the
 * refreshed row and its message (4xx on a refusal), a plain form post with a redirect.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { Child } from 'hono/jsx';
import type { AdminResult } from '../../runtime/admin.ts';
import type { ExchangeKeyInfo } from '../../runtime/keys/index.ts';
import { EXCHANGES } from '../../runtime/keys/index.ts';
import { MAX_REASON, timeParam } from '../api/schemas.ts';
import { accessOf, isHtmx, sendError, sendFragment, sendPage } from '../respond.tsx';
import type { Status } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm, parseQuery, wholeNumber } from '../validate.ts';
import type { RowMessage } from '../views/bots.tsx';
import { AuditPage, KeyRowView, KeysPage, SignInsPage, ViolationRowView, ViolationsPage, type AuditFilterView } from '../views/security.tsx';
import { Partial } from '../views/partial.tsx';
import { STATUS_BAR_ID, StatusBar } from '../views/status-bar.tsx';
import { statusFor } from '../scope.ts';
import { callerOf, pathId, resultStatus, withAdmin } from './users.tsx';

const optionalId = (what: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string({ error: () => `${what} must be text` })
      .trim()
      .max(100, `${what} is longer than 100 characters`)
      .regex(/^[A-Za-z0-9_.:@-]+$/, `${what} may contain only letters, digits and _ . : @ -`)
      .optional(),
  );

const keysFilter = z.object({
  userId: optionalId('user id'),
  status: z.preprocess(emptyToUndefined, z.enum(['valid', 'invalid', 'revoked', 'disabled', 'unchecked'], { error: () => 'status is not a key status' }).optional()),
  exchange: z.preprocess(emptyToUndefined, z.enum(EXCHANGES, { error: () => `exchange must be one of ${EXCHANGES.join(', ')}` }).optional()),
});

const violationsFilter = z.object({
  status: z.preprocess(emptyToUndefined, z.enum(['open', 'released', 'all'], { error: () => 'status must be open, released or all' }).default('open')),
  userId: optionalId('user id'),
});

const signInsFilter = z.object({
  hours: z.preprocess(
    emptyToUndefined,
    wholeNumber('hours', 1, 720).default(24),
  ),
});

const auditFilter = z.object({
  actor: optionalId('who'),
  action: z.preprocess(emptyToUndefined, z.string().trim().max(100, 'action is too long').regex(/^[a-z0-9_.]+$/, 'action may contain only a-z 0-9 _ .').optional()),
  targetType: z.preprocess(emptyToUndefined, z.string().trim().max(40, 'target type is too long').regex(/^[a-z_]+$/, 'target type may contain only a-z _').optional()),
  targetId: z.preprocess(emptyToUndefined, z.string().trim().max(200, 'target id is too long').optional()),
  since: z.preprocess(emptyToUndefined, z.string().max(40, 'from is too long').optional()),
  until: z.preprocess(emptyToUndefined, z.string().max(40, 'to is too long').optional()),
  beforeId: z.preprocess(emptyToUndefined, wholeNumber('beforeId', 1, Number.MAX_SAFE_INTEGER).optional()),
});

const reasonForm = z.object({
  reason: z.string({ error: () => 'a reason is required' }).trim().min(1, 'a reason is required').max(MAX_REASON, `the reason is longer than ${MAX_REASON} characters`),
});

const violationId = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, 'the violation id must be a positive whole number')
  .transform(Number)
  .pipe(z.number().max(Number.MAX_SAFE_INTEGER, 'the violation id is too large'));

/** Answers a row command: the row fragment (htmx) or a redirect; a refusal keeps its 4xx. */
async function rowAnswer(c: Context, deps: ResolvedDeps, back: string, message: RowMessage, status: Status, row: () => Promise<Child>): Promise<Response> {
  if (!isHtmx(c)) {
    if (!message.ok) return sendError(c, deps, status, message.text);
    return c.redirect(back, 303);
  }
  const access = accessOf(c);
  return sendFragment(
    c,
    <>
      {await row()}
      <Partial target={STATUS_BAR_ID}>
        <StatusBar status={statusFor(deps.api, access.principal)} access={access} />
      </Partial>
    </>,
    status,
  );
}

/** Routes of the Security area. */
export function securityRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // The area's address: its first page, as the navigation links it.
  app.get('/security', (c) => c.redirect('/security/keys', 302));

  app.get(
    '/security/keys',
    withAdmin(deps, async (c, admin) => {
      const q = parseQuery(c, keysFilter);
      if (!q.ok) return sendError(c, deps, 400, `Invalid filter: ${q.message}.`);
      const [keys, history] = await Promise.all([admin.listKeys(q.data), admin.keyHistory({ ...(q.data.userId ? { userId: q.data.userId } : {}), limit: 100 })]);
      return sendPage(c, deps, { title: 'Exchange keys', active: 'security', live: null }, <KeysPage keys={keys} history={history} filter={q.data} now={deps.now()} access={accessOf(c)} />);
    }),
  );

  for (const action of ['revoke', 'disable', 'enable'] as const) {
    app.post(
      `/security/keys/:id/${action}`,
      withAdmin(deps, async (c, admin) => {
        const id = pathId.safeParse(c.req.param('id'));
        if (!id.success) return sendError(c, deps, 400, `Invalid key id: ${id.error.issues[0]?.message ?? 'malformed'}.`);
        const existing = (await admin.listKeys()).find((k) => k.id === id.data);
        if (!existing) return sendError(c, deps, 404, `No exchange key with id "${id.data}".`);
        const form = await parseForm(c, reasonForm);
        let r: AdminResult<ExchangeKeyInfo>;
        if (!form.ok) r = { ok: false, code: 'invalid', error: form.message };
        else {
          const run = { revoke: admin.revokeKey, disable: admin.disableKey, enable: admin.enableKey }[action];
          r = await run(id.data, callerOf(c), form.data.reason);
        }
        deps.log.info({ cmd: `exchange_key.${action}`, key: id.data, ok: r.ok }, 'console command');
        const message: RowMessage = r.ok ? { ok: true, text: r.message } : { ok: false, text: `Not ${action}d: ${r.error}.` };
        return rowAnswer(c, deps, '/security/keys', message, resultStatus(r), async () => {
          const k = (await admin.listKeys()).find((x) => x.id === id.data) ?? existing;
          return <KeyRowView k={k} now={deps.now()} access={accessOf(c)} message={message} />;
        });
      }),
    );
  }

  app.get(
    '/security/violations',
    withAdmin(deps, async (c, admin) => {
      const q = parseQuery(c, violationsFilter);
      if (!q.ok) return sendError(c, deps, 400, `Invalid filter: ${q.message}.`);
      const [rows, pauses] = await Promise.all([
        admin.listViolations({ ...(q.data.status !== 'all' ? { status: q.data.status } : {}), ...(q.data.userId ? { userId: q.data.userId } : {}) }),
        admin.auditLog({ action: 'risk.pause', limit: 50 }),
      ]);
      return sendPage(
        c,
        deps,
        { title: 'Risk violations', active: 'security', live: null },
        <ViolationsPage
          rows={rows}
          pauses={pauses.entries}
          botNames={Object.fromEntries(deps.api.listBots().map((b) => [b.id, b.name]))}
          filter={q.data}
          now={deps.now()}
          access={accessOf(c)}
        />,
      );
    }),
  );

  app.post(
    '/security/violations/:id/release',
    withAdmin(deps, async (c, admin) => {
      const id = violationId.safeParse(c.req.param('id'));
      if (!id.success) return sendError(c, deps, 400, `Invalid violation id: ${id.error.issues[0]?.message ?? 'malformed'}.`);
      const find = async () => (await admin.listViolations({ limit: 1000 })).find((v) => v.id === id.data);
      const existing = await find();
      if (!existing) return sendError(c, deps, 404, `No risk violation #${id.data}.`);
      const form = await parseForm(c, reasonForm);
      const r = form.ok ? await admin.releaseViolation(id.data, callerOf(c), form.data.reason) : ({ ok: false, code: 'invalid', error: form.message } as const);
      deps.log.info({ cmd: 'risk.release', violation: id.data, ok: r.ok }, 'console command');
      const message: RowMessage = r.ok ? { ok: true, text: r.message } : { ok: false, text: `Not released: ${r.error}.` };
      return rowAnswer(c, deps, '/security/violations', message, resultStatus(r), async () => (
        <ViolationRowView v={(await find()) ?? existing} now={deps.now()} access={accessOf(c)} message={message} />
      ));
    }),
  );

  app.get(
    '/security/sign-ins',
    withAdmin(deps, async (c, admin) => {
      const q = parseQuery(c, signInsFilter);
      if (!q.ok) return sendError(c, deps, 400, `Invalid filter: ${q.message}.`);
      const view = await admin.signInSecurity({ hours: q.data.hours });
      return sendPage(c, deps, { title: 'Sign-in security', active: 'security', live: null }, <SignInsPage view={view} hours={q.data.hours} access={accessOf(c)} />);
    }),
  );

  app.get(
    '/security/audit',
    withAdmin(deps, async (c, admin) => {
      const q = parseQuery(c, auditFilter);
      if (!q.ok) return sendError(c, deps, 400, `Invalid filter: ${q.message}.`);
      const f = q.data;
      const since = f.since === undefined ? undefined : timeParam('from').safeParse(f.since);
      const until = f.until === undefined ? undefined : timeParam('to').safeParse(f.until);
      if (since && !since.success) return sendError(c, deps, 400, `Invalid filter: ${since.error.issues[0]?.message ?? 'bad time'}.`);
      if (until && !until.success) return sendError(c, deps, 400, `Invalid filter: ${until.error.issues[0]?.message ?? 'bad time'}.`);
      const page = await admin.auditLog({
        ...(f.actor ? { actorUserId: f.actor } : {}),
        ...(f.action ? { action: f.action } : {}),
        ...(f.targetType ? { targetType: f.targetType } : {}),
        ...(f.targetId ? { targetId: f.targetId } : {}),
        ...(since?.success ? { since: since.data } : {}),
        // A date-time to the minute means the whole minute.
        ...(until?.success ? { until: until.data + (/T\d{2}:\d{2}$/.test(f.until ?? '') ? 59_999 : 0) } : {}),
        ...(f.beforeId ? { beforeId: f.beforeId } : {}),
        limit: 100,
      });
      const users = (await deps.accounts.store.users.list()).map((u) => ({ id: u.id, label: `${u.displayName} (${u.role})` }));
      const filter: AuditFilterView = { actor: f.actor, action: f.action, targetType: f.targetType, targetId: f.targetId, since: f.since, until: f.until };
      return sendPage(
        c,
        deps,
        { title: 'Audit log', active: 'security', live: null },
        <AuditPage page={page} filter={filter} users={users} paged={f.beforeId !== undefined} now={deps.now()} access={accessOf(c)} />,
      );
    }),
  );

  return app;
}
