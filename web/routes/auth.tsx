/**
 * Sign-in, the second factor and sign-out. Failures answer 4xx with a sentence (never which of
 * email or password was wrong); lockouts and the per-address limit answer 429 with Retry-After.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '../../runtime/accounts/index.ts';
import type { SignInRefusal } from '../../runtime/accounts/index.ts';
import { authOf, clearSessionCookie, safeNext, sessionToken, setSessionCookie } from '../auth.ts';
import { accessOf, sendBarePage } from '../respond.tsx';
import type { Status } from '../respond.tsx';
import type { AppEnv, ResolvedDeps } from '../types.ts';
import { emptyToUndefined, parseForm, parseQuery } from '../validate.ts';
import { SecondFactorPage, SignInPage } from '../views/auth.tsx';

const nextField = z.preprocess(emptyToUndefined, z.string({ error: () => 'next must be a path' }).max(500, 'next is too long').optional());

const signInForm = z.object({
  email: z
    .string({ error: () => 'enter your email' })
    .trim()
    .min(1, 'enter your email')
    .max(254, 'the email is too long')
    .pipe(z.email({ error: () => 'enter a valid email address' })),
  password: z
    .string({ error: () => 'enter your password' })
    .min(1, 'enter your password')
    .max(MAX_PASSWORD_LENGTH, `the password is longer than ${MAX_PASSWORD_LENGTH} characters`),
  next: nextField,
});

const codeForm = z.object({
  code: z
    .string({ error: () => 'enter the code' })
    .trim()
    .min(1, 'enter the code')
    .max(20, 'the code is too long')
    .regex(/^[0-9A-Za-z -]+$/, 'a code is 6 digits, or a recovery code like abcde-12345'),
  next: nextField,
});

const nextQuery = z.object({ next: nextField });
/** `ended=1`: the console sent an open page here because its session ended (`app.js`). */
const signInQuery = nextQuery.extend({ ended: z.literal('1').optional().catch(undefined) });

const REFUSAL_STATUS: Record<SignInRefusal | 'expired', Status> = {
  invalid: 401,
  locked: 429,
  rate_limited: 429,
  suspended: 403,
  expired: 401,
};

/** The raw email field, for refilling the form after a refusal (only when it is a plain short string). */
async function typedEmail(c: Context): Promise<string | undefined> {
  try {
    const v = (await c.req.parseBody())['email'];
    return typeof v === 'string' && v.length <= 254 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Routes of sign-in and sign-out. */
export function authRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { accounts } = deps;
  const client = (c: Context<AppEnv>) => ({ ip: c.get('clientIp'), userAgent: c.req.header('user-agent') ?? '' });

  // `/login` is where people look for a console's sign-in page; its query (`next`) goes along.
  app.get('/login', (c) => c.redirect(`/sign-in${new URL(c.req.url).search}`, 302));

  app.get('/sign-in', (c) => {
    const q = parseQuery(c, signInQuery);
    const next = safeNext(q.ok ? q.data.next : undefined);
    const auth = authOf(c);
    if (auth && !auth.pending) return c.redirect(next, 302);
    const info = q.ok && q.data.ended ? 'Your session has ended. Sign in again to go on.' : undefined;
    return sendBarePage(c, 'Sign in', <SignInPage next={next} info={info} />);
  });

  app.post('/sign-in', async (c) => {
    const form = await parseForm(c, signInForm);
    if (!form.ok) {
      return sendBarePage(c, 'Sign in', <SignInPage next="/bots" email={await typedEmail(c)} error={`Cannot sign in: ${form.message}.`} />, 400);
    }
    const next = safeNext(form.data.next);
    const result = await accounts.signIn(form.data.email, form.data.password, client(c));
    if (!result.ok) {
      deps.log.warn({ ip: c.get('clientIp'), refusal: result.refusal }, 'sign-in refused');
      if (result.retryAfterMs) c.header('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
      return sendBarePage(c, 'Sign in', <SignInPage next={next} email={form.data.email} error={result.message} />, REFUSAL_STATUS[result.refusal]);
    }
    // Whatever session this browser had ends: the new one gets a new token (no fixation).
    const old = sessionToken(c);
    if (old) await accounts.signOut(old);
    setSessionCookie(c, deps, result.issued.token, result.issued.session);
    deps.log.info({ user: result.user.id, ip: c.get('clientIp'), secondFactor: result.needsSecondFactor }, 'password accepted');
    if (result.needsSecondFactor) return c.redirect(`/sign-in/2fa?next=${encodeURIComponent(next)}`, 303);
    return c.redirect(next, 303);
  });

  app.get('/sign-in/2fa', (c) => {
    const auth = authOf(c);
    if (!auth) return c.redirect('/sign-in', 302);
    const q = parseQuery(c, nextQuery);
    const next = safeNext(q.ok ? q.data.next : undefined);
    if (!auth.pending) return c.redirect(next, 302);
    return sendBarePage(c, 'Two-factor sign-in', <SecondFactorPage next={next} csrf={accessOf(c).csrf} email={auth.user.email} />);
  });

  app.post('/sign-in/2fa', async (c) => {
    const auth = authOf(c);
    if (!auth?.session) return c.redirect('/sign-in', 303);
    if (!auth.pending) return c.redirect('/bots', 303);
    const csrf = accessOf(c).csrf;
    const form = await parseForm(c, codeForm);
    if (!form.ok) {
      return sendBarePage(c, 'Two-factor sign-in', <SecondFactorPage next="/bots" csrf={csrf} email={auth.user.email} error={`Cannot verify: ${form.message}.`} />, 400);
    }
    const next = safeNext(form.data.next);
    const result = await accounts.verifySecondFactor(auth.session, form.data.code, client(c));
    if (!result.ok) {
      deps.log.warn({ user: auth.user.id, ip: c.get('clientIp'), refusal: result.refusal }, 'second factor refused');
      if (result.retryAfterMs) c.header('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
      if (result.refusal === 'invalid') {
        return sendBarePage(c, 'Two-factor sign-in', <SecondFactorPage next={next} csrf={csrf} email={auth.user.email} error={result.message} />, 401);
      }
      // Locked or expired: the pending session is over; start again from the password.
      clearSessionCookie(c, deps);
      return sendBarePage(c, 'Sign in', <SignInPage next={next} email={auth.user.email} error={result.message} />, REFUSAL_STATUS[result.refusal]);
    }
    setSessionCookie(c, deps, result.issued.token, result.issued.session);
    deps.log.info({ user: result.user.id, ip: c.get('clientIp'), recoveryCode: result.usedRecoveryCode }, 'signed in with a second factor');
    if (result.usedRecoveryCode) {
      return c.redirect(`/account?notice=${encodeURIComponent(`recovery-used:${result.recoveryCodesLeft ?? 0}`)}`, 303);
    }
    return c.redirect(next, 303);
  });

  app.post('/sign-out', async (c) => {
    const token = sessionToken(c);
    if (token) await accounts.signOut(token);
    clearSessionCookie(c, deps);
    if (c.req.header('HX-Request') === 'true') {
      c.header('HX-Redirect', '/sign-in');
      return c.body(null, 204);
    }
    return c.redirect('/sign-in', 303);
  });

  return app;
}
