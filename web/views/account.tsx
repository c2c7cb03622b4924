/**
 * The account page (profile, two-factor authentication, password, sessions), the 2FA
 * enrolment page with its QR code, and the one-time display of recovery codes.
 */
import type { FC } from 'hono/jsx';
import type { AccountRecord, SessionRecord } from '../../runtime/accounts/index.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../runtime/accounts/index.ts';
import { DASH } from '../format.ts';
import { CsrfField, Panel, Time } from './components.tsx';
import { FormNotice } from './auth.tsx';

/** A one-line outcome of an account form. */
export interface AccountMessage {
  readonly form: 'password' | 'disable-2fa' | 'recovery' | 'sessions' | 'general';
  readonly ok: boolean;
  readonly text: string;
}

const Msg: FC<{ message: AccountMessage | undefined; form: AccountMessage['form'] }> = ({ message, form }) =>
  message && message.form === form ? (
    <div class={`notice ${message.ok ? 'notice-ok' : 'notice-bad'}`} role={message.ok ? 'status' : 'alert'} data-form={form}>
      {message.text}
    </div>
  ) : null;

const CodeField: FC<{ label?: string }> = ({ label }) => (
  <label class="field">
    <span>{label ?? 'Current code from your authenticator app'}</span>
    <input name="code" required maxlength={20} autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]{6,8}" class="mono code-input" />
  </label>
);

/** Everything the account page shows. */
export interface AccountView {
  readonly user: AccountRecord;
  readonly groups: readonly string[];
  readonly sessions: readonly SessionRecord[];
  readonly currentSessionId: string | null;
  readonly recoveryCodesLeft: number;
  /** The role requires 2FA (it cannot be disabled). */
  readonly twoFactorRequired: boolean;
  readonly csrf: string;
  readonly now: number;
  readonly message?: AccountMessage | undefined;
}

/** The account page. */
export const AccountPage: FC<{ view: AccountView }> = ({ view }) => {
  const { user, csrf, message } = view;
  return (
    <div class="page" id="account-page">
      <div class="page-head">
        <h1>Your account</h1>
      </div>
      <Msg message={message} form="general" />
      <div class="cols">
        <Panel title="Profile">
          <dl class="kv-grid">
            <div>
              <dt>Name</dt>
              <dd id="account-name">{user.displayName}</dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd id="account-email">{user.email}</dd>
            </div>
            <div>
              <dt>Role</dt>
              <dd>
                <span class={`badge role-badge role-${user.role}`} id="account-role">
                  {user.role}
                </span>
              </dd>
            </div>
            <div>
              <dt>Groups</dt>
              <dd class="mono">{view.groups.length ? view.groups.join(', ') : DASH}</dd>
            </div>
            <div>
              <dt>Last sign-in (UTC)</dt>
              <dd>
                <Time ms={user.lastSignInAt} now={view.now} full /> {user.lastSignInIp ? <span class="muted mono">from {user.lastSignInIp}</span> : null}
              </dd>
            </div>
          </dl>
        </Panel>
        <Panel title="Two-factor authentication" id="twofa-panel">
          {user.totpEnabled ? (
            <>
              <p>
                <span class="badge tone-ok" id="twofa-status" data-enabled="true">
                  enabled
                </span>{' '}
                {view.recoveryCodesLeft} recovery code{view.recoveryCodesLeft === 1 ? '' : 's'} left.
              </p>
              <Msg message={message} form="recovery" />
              <form method="post" action="/account/2fa/recovery-codes" class="form" id="recovery-form">
                <CsrfField token={csrf} />
                <CodeField />
                <button type="submit" class="btn">
                  Replace recovery codes
                </button>
              </form>
              <Msg message={message} form="disable-2fa" />
              {view.twoFactorRequired ? (
                <p class="small muted">Your role ({user.role}) requires two-factor authentication: it cannot be disabled.</p>
              ) : (
                <form method="post" action="/account/2fa/disable" class="form" id="disable-2fa-form">
                  <CsrfField token={csrf} />
                  <CodeField />
                  <button type="submit" class="btn btn-danger">
                    Disable two-factor authentication
                  </button>
                </form>
              )}
            </>
          ) : (
            <>
              <p>
                <span class="badge tone-warn" id="twofa-status" data-enabled="false">
                  not enabled
                </span>
              </p>
              <p class="small muted">Protect your account with a code from an authenticator app at every sign-in.</p>
              <a class="btn btn-primary" href="/account/2fa" id="enrol-2fa">
                Set up two-factor authentication
              </a>
            </>
          )}
        </Panel>
      </div>
      <div class="cols">
        <Panel title="Change password">
          <Msg message={message} form="password" />
          <form method="post" action="/account/password" class="form" id="password-form">
            <CsrfField token={csrf} />
            <label class="field">
              <span>Current password</span>
              <input type="password" name="current" required maxlength={MAX_PASSWORD_LENGTH} autocomplete="current-password" />
            </label>
            <label class="field">
              <span>New password (at least {MIN_PASSWORD_LENGTH} characters)</span>
              <input type="password" name="next" required minlength={MIN_PASSWORD_LENGTH} maxlength={MAX_PASSWORD_LENGTH} autocomplete="new-password" />
            </label>
            <label class="field">
              <span>New password again</span>
              <input type="password" name="confirm" required minlength={MIN_PASSWORD_LENGTH} maxlength={MAX_PASSWORD_LENGTH} autocomplete="new-password" />
            </label>
            <button type="submit" class="btn btn-primary">
              Change password
            </button>
          </form>
        </Panel>
        <Panel title="Signed-in sessions" count={view.sessions.length}>
          <Msg message={message} form="sessions" />
          <table class="grid grid-compact" id="sessions-table">
            <thead>
              <tr>
                <th>Signed in (UTC)</th>
                <th>Last seen</th>
                <th>Address</th>
                <th>Browser</th>
              </tr>
            </thead>
            <tbody>
              {view.sessions.map((s) => (
                <tr class={s.id === view.currentSessionId ? 'current-session' : undefined}>
                  <td>
                    <Time ms={s.createdAt} now={view.now} full />{' '}
                    {s.id === view.currentSessionId ? <span class="badge tone-ok">this one</span> : null}
                  </td>
                  <td>
                    <Time ms={s.lastSeenAt} now={view.now} />
                  </td>
                  <td class="mono">{s.ip || DASH}</td>
                  <td class="trunc small" title={s.userAgent}>
                    {s.userAgent || DASH}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {view.sessions.length > 1 ? (
            <form method="post" action="/account/sessions/revoke-others" class="form" id="revoke-others-form">
              <CsrfField token={csrf} />
              <button type="submit" class="btn">
                Sign out every other session
              </button>
            </form>
          ) : null}
        </Panel>
      </div>
    </div>
  );
};

/** Groups a base32 secret in fours for typing by hand. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

/** The 2FA enrolment page: scan the QR code (or type the secret), then prove it with a code. */
export const EnrolPage: FC<{ qrDataUrl: string; secret: string; csrf: string; required: boolean; role: string; error?: string | undefined }> = ({
  qrDataUrl,
  secret,
  csrf,
  required,
  role,
  error,
}) => (
  <div class="page" id="enrol-page">
    <div class="page-head">
      <h1>Set up two-factor authentication</h1>
    </div>
    {required ? (
      <div class="notice notice-warn" id="enrol-required">
        Your role ({role}) requires two-factor authentication. Set it up to continue to the console.
      </div>
    ) : null}
    <Panel title="1. Scan this code with your authenticator app">
      <div class="enrol-grid">
        <img src={qrDataUrl} alt="QR code of your two-factor secret" width={220} height={220} class="qr" id="totp-qr" />
        <div>
          <p class="small muted">Can't scan it? Enter this key by hand (time-based, 6 digits, 30 seconds):</p>
          <code class="secret mono" id="totp-secret" data-secret={secret}>
            {groupSecret(secret)}
          </code>
        </div>
      </div>
    </Panel>
    <Panel title="2. Enter the code it shows">
      <FormNotice error={error} id="enrol-error" />
      <form method="post" action="/account/2fa/verify" class="form" id="enrol-form">
        <CsrfField token={csrf} />
        <CodeField label="6-digit code" />
        <button type="submit" class="btn btn-primary" id="enrol-submit">
          Verify and enable
        </button>
      </form>
    </Panel>
  </div>
);

/** The recovery codes, shown once after enrolment or replacement. */
export const RecoveryCodesPage: FC<{ codes: readonly string[]; fresh: 'enabled' | 'replaced' }> = ({ codes, fresh }) => (
  <div class="page" id="recovery-codes-page">
    <div class="page-head">
      <h1>{fresh === 'enabled' ? 'Two-factor authentication is on' : 'New recovery codes'}</h1>
    </div>
    <Panel title="Your recovery codes">
      <p>
        Each code signs you in once if you lose your authenticator. <b>Save them now: they will not be shown again.</b>
        {fresh === 'replaced' ? ' Your previous codes no longer work.' : ''}
      </p>
      <ol class="recovery-codes mono" id="recovery-codes">
        {codes.map((c) => (
          <li>{c}</li>
        ))}
      </ol>
      <p>
        <a class="btn btn-primary" href="/account" id="recovery-continue">
          I have saved them
        </a>
      </p>
    </Panel>
  </div>
);
