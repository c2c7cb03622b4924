/**
 * The account page (profile, two-factor authentication, password, sessions), the 2FA
 * enrolment page with its QR code, and the one-time display of recovery codes.
 */
import type { FC } from 'hono/jsx';
import type { AccountRecord, ApiTokenRecord, SessionRecord } from '../../runtime/accounts/index.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../runtime/accounts/index.ts';
import { DASH } from '../format.ts';
import { Badge, CsrfField, EmptyRow, Panel, Time } from './components.tsx';
import { FormNotice } from './auth.tsx';

/** A one-line outcome of an account form. */
export interface AccountMessage {
  readonly form: 'password' | 'disable-2fa' | 'recovery' | 'sessions' | 'tokens' | 'general';
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
  /** The user's API tokens (only their hashes are stored). */
  readonly tokens: readonly ApiTokenRecord[];
  /** The role requires 2FA (it cannot be disabled). */
  readonly twoFactorRequired: boolean;
  readonly csrf: string;
  readonly now: number;
  readonly message?: AccountMessage | undefined;
  /** The user may keep exchange keys of their own (a link to that page). */
  readonly exchangeKeys?: boolean;
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
      {view.exchangeKeys ? (
        <Panel title="Exchange keys" id="account-keys-panel">
          <p class="small muted">
            The API keys of your exchange accounts (Binance USD-M futures, Bybit, OKX, Bitget) your bots trade with: add one, see whether the venue accepts it, check
            it again or delete it.
          </p>
          <p>
            <a class="btn" href="/account/exchange-keys" id="account-keys-link">
              Manage exchange keys
            </a>
          </p>
        </Panel>
      ) : null}
      <TokensPanel view={view} />
    </div>
  );
};

const tokenState = (t: ApiTokenRecord, now: number) =>
  t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';

/** The API tokens panel: the list (revocable) and the form that creates one. */
const TokensPanel: FC<{ view: AccountView }> = ({ view }) => {
  const { tokens, csrf, now, message } = view;
  return (
    <Panel title="API tokens" count={tokens.filter((t) => tokenState(t, now) === 'active').length} id="tokens-panel">
      <p class="small muted">
        A token calls the JSON API (<a href="/api/v1/openapi.json">/api/v1</a>) as you, with your role: <b>read</b> tokens can change nothing. Send it as{' '}
        <code>Authorization: Bearer fleet_…</code>. Only a hash is stored: the token is shown once, when it is created.
      </p>
      <Msg message={message} form="tokens" />
      <table class="grid grid-compact" id="tokens-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Scope</th>
            <th>Created</th>
            <th>Last used</th>
            <th>Expires</th>
            <th>State</th>
            <th class="col-actions"></th>
          </tr>
        </thead>
        <tbody>
          {tokens.length === 0 ? (
            <EmptyRow cols={7} text="No API tokens." />
          ) : (
            tokens.map((t) => {
              const state = tokenState(t, now);
              return (
                <tr data-token-id={t.id} data-state={state}>
                  <td>
                    {t.name}
                    <div class="sub mono">{t.id}</div>
                  </td>
                  <td>
                    <Badge tone={t.scope === 'write' ? 'warn' : 'info'}>{t.scope}</Badge>
                  </td>
                  <td>
                    <Time ms={t.createdAt} now={now} />
                  </td>
                  <td>
                    <Time ms={t.lastUsedAt} now={now} />
                  </td>
                  <td>
                    <Time ms={t.expiresAt} now={now} />
                  </td>
                  <td>
                    <Badge tone={state === 'active' ? 'ok' : 'neutral'}>{state}</Badge>
                  </td>
                  <td class="col-actions">
                    {state === 'active' ? (
                      <form method="post" action={`/account/tokens/${encodeURIComponent(t.id)}/revoke`} class="inline-form">
                        <CsrfField token={csrf} />
                        <button type="submit" class="btn btn-sm btn-danger" data-action="revoke-token">
                          Revoke
                        </button>
                      </form>
                    ) : null}
                  </td>
                </tr>
              );
            })
          )}
        </tbody>
      </table>
      <form method="post" action="/account/tokens" class="filters" id="token-form">
        <CsrfField token={csrf} />
        <label class="inline-field grow">
          <span>Name</span>
          <input name="name" required maxlength={100} placeholder="e.g. grafana, deploy script" />
        </label>
        <label class="inline-field">
          <span>Scope</span>
          <select name="scope">
            <option value="read">read (no changes)</option>
            <option value="write">write (your role's commands)</option>
          </select>
        </label>
        <label class="inline-field">
          <span>Expires in days</span>
          <input name="expiresInDays" inputmode="numeric" maxlength={3} placeholder="never" size={6} />
        </label>
        <button type="submit" class="btn btn-primary" id="token-create">
          Create token
        </button>
      </form>
    </Panel>
  );
};

/** A new API token, shown once. */
export const NewTokenPage: FC<{ token: string; record: ApiTokenRecord }> = ({ token, record }) => (
  <div class="page" id="new-token-page">
    <div class="page-head">
      <h1>API token created</h1>
    </div>
    <Panel title={`${record.name} · ${record.scope}`}>
      <p>
        <b>Copy it now: it will not be shown again.</b> Only a hash of it is stored.
      </p>
      <code class="secret mono" id="new-token">
        {token}
      </code>
      <p class="small muted">
        Use it as <code>Authorization: Bearer {token.slice(0, 10)}…</code> against <code>/api/v1</code>. Revoke it on your account page when it is no longer
        needed.
      </p>
      <p>
        <a class="btn btn-primary" href="/account" id="token-done">
          I have saved it
        </a>
      </p>
    </Panel>
  </div>
);

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
