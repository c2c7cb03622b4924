/**
 * The sign-in pages: email and password, then the second factor (a TOTP code or a recovery
 * code) for accounts with two-factor authentication.
 */
import type { FC } from 'hono/jsx';
import { MAX_PASSWORD_LENGTH } from '../../runtime/accounts/index.ts';
import { CsrfField } from './components.tsx';

/** A notice above a form: an error (alert) or information. */
export const FormNotice: FC<{ error?: string | undefined; info?: string | undefined; id?: string }> = ({ error, info, id }) =>
  error ? (
    <div class="notice notice-bad" role="alert" id={id ?? 'form-error'}>
      {error}
    </div>
  ) : info ? (
    <div class="notice notice-info" role="status" id={id ? `${id}-info` : 'form-info'}>
      {info}
    </div>
  ) : null;

/** The sign-in form. */
export const SignInPage: FC<{ next: string; email?: string | undefined; error?: string | undefined; info?: string | undefined }> = ({
  next,
  email,
  error,
  info,
}) => (
  <section class="auth-card" id="sign-in-page">
    <h1>Sign in</h1>
    <FormNotice error={error} info={info} id="sign-in-error" />
    <form method="post" action="/sign-in" class="form" id="sign-in-form">
      <input type="hidden" name="next" value={next} />
      <label class="field">
        <span>Email</span>
        <input type="email" name="email" required maxlength={254} autocomplete="username" value={email ?? ''} autofocus />
      </label>
      <label class="field">
        <span>Password</span>
        <input type="password" name="password" required maxlength={MAX_PASSWORD_LENGTH} autocomplete="current-password" />
      </label>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" id="sign-in-submit">
          Sign in
        </button>
      </div>
    </form>
  </section>
);

/** The second-factor form (TOTP or recovery code). */
export const SecondFactorPage: FC<{ next: string; csrf: string; email: string; error?: string | undefined }> = ({ next, csrf, email, error }) => (
  <section class="auth-card" id="second-factor-page">
    <h1>Two-factor sign-in</h1>
    <p class="muted">
      Enter the 6-digit code from your authenticator app for <b>{email}</b>, or one of your recovery codes.
    </p>
    <FormNotice error={error} id="second-factor-error" />
    <form method="post" action="/sign-in/2fa" class="form" id="second-factor-form">
      <CsrfField token={csrf} />
      <input type="hidden" name="next" value={next} />
      <label class="field">
        <span>Code</span>
        <input
          name="code"
          required
          maxlength={20}
          autocomplete="one-time-code"
          inputmode="text"
          pattern="[0-9A-Za-z \-]{6,20}"
          class="mono code-input"
          autofocus
        />
      </label>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" id="second-factor-submit">
          Verify
        </button>
      </div>
    </form>
    <form method="post" action="/sign-out" class="inline-form">
      <CsrfField token={csrf} />
      <button type="submit" class="btn btn-link">
        Cancel and sign in as someone else
      </button>
    </form>
  </section>
);
