/**
 * One's own account: the account page, 2FA enrolment (QR code, verification, recovery codes
 * shown once), disabling 2FA and replacing recovery codes with a fresh code, changing the
 * password, and signing out one's other sessions. Every change is audited by the service.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import QRCode from 'qrcode';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '../../runtime/accounts/index.ts';
import { auditActorOf, authOf } from '../auth.ts';
import { accessOf, sendPage } from '../respond.tsx';
import type { Status } from '../respond.tsx';
import type { AppEnv, RequestAuth, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm, parseQuery, wholeNumber } from '../validate.ts';
import type { AccountMessage } from '../views/account.tsx';
import { AccountPage, EnrolPage, NewTokenPage, RecoveryCodesPage } from '../views/account.tsx';

const codeForm = z.object({
  code: z
    .string({ error: () => 'enter the code from your authenticator app' })
    .trim()
    .min(1, 'enter the code from your authenticator app')
    .max(20, 'the code is too long')
    .regex(/^[0-9 ]+$/, 'the code is the 6 digits your authenticator app shows'),
});

const passwordField = (what: string) =>
  z
    .string({ error: () => `enter the ${what}` })
    .min(1, `enter the ${what}`)
    .max(MAX_PASSWORD_LENGTH, `the ${what} is longer than ${MAX_PASSWORD_LENGTH} characters`);

const passwordForm = z
  .object({ current: passwordField('current password'), next: passwordField('new password'), confirm: passwordField('new password again') })
  .refine((f) => f.next === f.confirm, { message: 'the two new passwords differ' });

const noticeQuery = z.object({ notice: z.preprocess(emptyToUndefined, z.string().max(100).optional()) });

const tokenForm = z.object({
  name: z
    .string({ error: () => 'give the token a name' })
    .trim()
    .min(1, 'give the token a name')
    .max(100, 'the name is longer than 100 characters')
    .regex(/^[^\p{Cc}]*$/u, 'the name must not contain control characters'),
  scope: z.enum(['read', 'write'], { error: () => 'the scope must be read or write' }),
  expiresInDays: z.preprocess(
    emptyToUndefined,
    wholeNumber('the expiry in days', 1, 365).optional(),
  ),
});

const TOKEN_ID = /^tok_[0-9a-f]{1,64}$/;

/** Tokens a user may hold at once (revoked ones do not count). */
const MAX_TOKENS = 20;

function requireSession(c: Context<AppEnv>): RequestAuth & { session: NonNullable<RequestAuth['session']> } {
  const auth = authOf(c);
  if (!auth?.session) throw new Error('account routes need a session (the route table and guard disagree)');
  return auth as RequestAuth & { session: NonNullable<RequestAuth['session']> };
}

/** Routes of the account area. */
export function accountRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { accounts } = deps;

  const renderAccount = async (c: Context<AppEnv>, message?: AccountMessage, status: Status = 200) => {
    const auth = requireSession(c);
    const user = (await accounts.store.users.get(auth.user.id)) ?? auth.user;
    const now = deps.now();
    const [sessions, groups, left, tokens] = await Promise.all([
      accounts.store.sessions.listActiveForUser(user.id, Math.max(now, 0)),
      accounts.store.memberships.groupsOf(user.id),
      accounts.recoveryCodesLeft(user.id),
      accounts.store.apiTokens.listForUser(user.id),
    ]);
    return sendPage(
      c,
      deps,
      { title: 'Account', active: 'account', live: null, status },
      <AccountPage
        view={{
          user,
          groups,
          sessions,
          currentSessionId: auth.session.id,
          recoveryCodesLeft: left,
          tokens,
          twoFactorRequired: accounts.policy.require2faRoles.includes(user.role),
          csrf: accessOf(c).csrf,
          now,
          message,
          exchangeKeys: accessOf(c).has('keys.own'),
        }}
      />,
    );
  };

  const renderEnrol = async (c: Context<AppEnv>, error?: string, status: Status = 200) => {
    const auth = requireSession(c);
    const begun = await accounts.beginTotpEnrolment(auth.user.id);
    if (!begun.ok) return c.redirect('/account', 303);
    const qr = await QRCode.toDataURL(begun.value.uri, { errorCorrectionLevel: 'M', margin: 1, width: 220 });
    return sendPage(
      c,
      deps,
      { title: 'Two-factor authentication', active: 'account', live: null, status },
      <EnrolPage
        qrDataUrl={qr}
        secret={begun.value.secret}
        csrf={accessOf(c).csrf}
        required={accounts.policy.require2faRoles.includes(auth.user.role)}
        role={auth.user.role}
        error={error}
      />,
    );
  };

  app.get('/account', async (c) => {
    const auth = requireSession(c);
    if (auth.mustEnrol2fa) return c.redirect('/account/2fa', 302);
    const q = parseQuery(c, noticeQuery);
    const notice = q.ok ? q.data.notice : undefined;
    const m = notice ? /^recovery-used:(\d+)$/.exec(notice) : null;
    const message: AccountMessage | undefined = m
      ? { form: 'general', ok: false, text: `You signed in with a recovery code; ${m[1]} left. Replace them if you are running low, or if you lost your authenticator, set up 2FA again.` }
      : undefined;
    return renderAccount(c, message);
  });

  app.get('/account/2fa', async (c) => {
    const auth = requireSession(c);
    if (auth.user.totpEnabled) return c.redirect('/account', 302);
    return renderEnrol(c);
  });

  app.post('/account/2fa/verify', async (c) => {
    const auth = requireSession(c);
    const form = await parseForm(c, codeForm);
    if (!form.ok) return renderEnrol(c, `Cannot verify: ${form.message}.`, 400);
    const r = await accounts.confirmTotpEnrolment(auditActorOf(c), auth.user.id, form.data.code);
    if (!r.ok) return auth.user.totpEnabled ? c.redirect('/account', 303) : renderEnrol(c, `Not enabled: ${r.error}.`, 422);
    deps.log.info({ user: auth.user.id }, 'two-factor authentication enabled');
    return sendPage(c, deps, { title: 'Recovery codes', active: 'account', live: null }, <RecoveryCodesPage codes={r.value.recoveryCodes} fresh="enabled" />);
  });

  app.post('/account/2fa/disable', async (c) => {
    const auth = requireSession(c);
    const form = await parseForm(c, codeForm);
    if (!form.ok) return renderAccount(c, { form: 'disable-2fa', ok: false, text: `Not disabled: ${form.message}.` }, 400);
    const r = await accounts.disableTotp(auditActorOf(c), auth.user.id, form.data.code);
    if (!r.ok) return renderAccount(c, { form: 'disable-2fa', ok: false, text: `Not disabled: ${r.error}.` }, 422);
    return renderAccount(c, { form: 'general', ok: true, text: 'Two-factor authentication is disabled.' });
  });

  app.post('/account/2fa/recovery-codes', async (c) => {
    const auth = requireSession(c);
    const form = await parseForm(c, codeForm);
    if (!form.ok) return renderAccount(c, { form: 'recovery', ok: false, text: `Not replaced: ${form.message}.` }, 400);
    const r = await accounts.regenerateRecoveryCodes(auditActorOf(c), auth.user.id, form.data.code);
    if (!r.ok) return renderAccount(c, { form: 'recovery', ok: false, text: `Not replaced: ${r.error}.` }, 422);
    return sendPage(c, deps, { title: 'Recovery codes', active: 'account', live: null }, <RecoveryCodesPage codes={r.value.recoveryCodes} fresh="replaced" />);
  });

  app.post('/account/password', async (c) => {
    const auth = requireSession(c);
    const form = await parseForm(c, passwordForm);
    if (!form.ok) return renderAccount(c, { form: 'password', ok: false, text: `Password not changed: ${form.message}.` }, 400);
    const r = await accounts.changePassword(auditActorOf(c), auth.user.id, form.data.current, form.data.next, auth.session.id);
    if (!r.ok) return renderAccount(c, { form: 'password', ok: false, text: `Password not changed: ${r.error}.` }, 422);
    return renderAccount(c, { form: 'password', ok: true, text: 'Password changed. Your other sessions were signed out.' });
  });

  app.post('/account/sessions/revoke-others', async (c) => {
    const auth = requireSession(c);
    const n = await accounts.revokeAllSessions(auth.user.id, 'signed out from another session', { exceptSessionId: auth.session.id });
    await accounts.audit.record({
      actor: auditActorOf(c),
      action: 'account.sessions_revoked',
      target: { type: 'user', id: auth.user.id },
      message: `${auth.user.email} signed out ${n} other session${n === 1 ? '' : 's'}`,
      after: { sessionsEnded: n },
    });
    return renderAccount(c, { form: 'sessions', ok: true, text: `${n} other session${n === 1 ? '' : 's'} signed out.` });
  });

  app.post('/account/tokens', async (c) => {
    const auth = requireSession(c);
    const form = await parseForm(c, tokenForm);
    if (!form.ok) return renderAccount(c, { form: 'tokens', ok: false, text: `Token not created: ${form.message}.` }, 400);
    const live = (await accounts.store.apiTokens.listForUser(auth.user.id)).filter((t) => t.revokedAt === null && (t.expiresAt === null || t.expiresAt > deps.now()));
    if (live.length >= MAX_TOKENS) return renderAccount(c, { form: 'tokens', ok: false, text: `Token not created: you already have ${MAX_TOKENS} tokens; revoke one first.` }, 409);
    const { name, scope, expiresInDays } = form.data;
    const expiresAt = expiresInDays ? deps.now() + expiresInDays * 86_400_000 : null;
    const { token, record } = await accounts.createApiToken(auth.user.id, name, scope, expiresAt);
    await accounts.audit.record({
      actor: auditActorOf(c),
      action: 'account.api_token_created',
      target: { type: 'api_token', id: record.id },
      message: `${auth.user.email} created the ${scope} API token "${record.name}"`,
      before: null,
      after: { id: record.id, name: record.name, scope, expiresAt },
    });
    return sendPage(c, deps, { title: 'New API token', active: 'account', live: null }, <NewTokenPage token={token} record={record} />);
  });

  app.post('/account/tokens/:id/revoke', async (c) => {
    const auth = requireSession(c);
    const id = c.req.param('id');
    const mine = TOKEN_ID.test(id) ? (await accounts.store.apiTokens.listForUser(auth.user.id)).find((t) => t.id === id) : undefined;
    if (!mine) return renderAccount(c, { form: 'tokens', ok: false, text: `You have no API token "${id.slice(0, 80)}".` }, 404);
    if (mine.revokedAt !== null) return renderAccount(c, { form: 'tokens', ok: false, text: `The token "${mine.name}" is already revoked.` }, 409);
    await accounts.store.apiTokens.revoke(mine.id, deps.now());
    await accounts.audit.record({
      actor: auditActorOf(c),
      action: 'account.api_token_revoked',
      target: { type: 'api_token', id: mine.id },
      message: `${auth.user.email} revoked the API token "${mine.name}"`,
      before: { revokedAt: null },
      after: { revokedAt: deps.now() },
    });
    return renderAccount(c, { form: 'tokens', ok: true, text: `The token "${mine.name}" is revoked: requests with it now get 401.` });
  });

  return app;
}
