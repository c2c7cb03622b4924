/**
 * The Risk page: the platform's default limits (daily stop-loss %, total stop-loss %, maximum
 * leverage) and the limits set per user and per trader, editable by administrators and operators.
 */
import type { FC } from 'hono/jsx';
import type { PoliciesView } from '../../runtime/admin.ts';
import type { PolicyRecord } from '../../runtime/risk/index.ts';
import type { Access } from '../access.ts';
import { DASH } from '../format.ts';
import type { RowMessage } from './bots.tsx';
import { CsrfField, EmptyRow, Panel, Time } from './components.tsx';

/** DOM id of the risk page (replaced whole after a change). */
export const RISK_PAGE_ID = 'risk-page';

const pct = (v: number | null) => (v === null ? <span class="muted">inherits</span> : `${v} %`);
const lev = (v: number | null) => (v === null ? <span class="muted">inherits</span> : `${v}×`);

/** The three limit inputs; `required` for the platform row (it must set all three). */
const LimitFields: FC<{ p?: Pick<PolicyRecord, 'dailyStopLossPct' | 'totalStopLossPct' | 'maxLeverage'> | undefined; required: boolean }> = ({ p, required }) => (
  <>
    <label class="inline-field">
      <span>Daily stop-loss %</span>
      <input name="dailyStopLossPct" inputmode="decimal" value={p?.dailyStopLossPct ?? ''} required={required} maxlength={12} placeholder={required ? '' : 'inherit'} size={8} />
    </label>
    <label class="inline-field">
      <span>Total stop-loss %</span>
      <input name="totalStopLossPct" inputmode="decimal" value={p?.totalStopLossPct ?? ''} required={required} maxlength={12} placeholder={required ? '' : 'inherit'} size={8} />
    </label>
    <label class="inline-field">
      <span>Max leverage</span>
      <input name="maxLeverage" inputmode="decimal" value={p?.maxLeverage ?? ''} required={required} maxlength={12} placeholder={required ? '' : 'inherit'} size={8} />
    </label>
  </>
);

const OverrideTable: FC<{
  rows: readonly (PolicyRecord & { readonly name: string | null })[];
  scope: 'user' | 'trader';
  now: number;
  access: Access;
}> = ({ rows, scope, now, access }) => (
  <table class="grid grid-compact" id={`${scope}-policies`}>
    <thead>
      <tr>
        <th>{scope === 'user' ? 'User' : 'Bot'}</th>
        <th class="num">Daily stop-loss</th>
        <th class="num">Total stop-loss</th>
        <th class="num">Max leverage</th>
        <th>Changed</th>
        {access.has('risk.policies') ? <th class="col-actions"></th> : null}
      </tr>
    </thead>
    <tbody>
      {rows.length === 0 ? (
        <EmptyRow cols={6} text={`No ${scope} has limits of its own: every ${scope === 'user' ? 'user' : 'bot'} inherits.`} />
      ) : (
        rows.map((p) => (
          <tr data-scope-id={p.scopeId}>
            <td>
              <a href={scope === 'user' ? `/users/${encodeURIComponent(p.scopeId)}` : `/bots/${encodeURIComponent(p.scopeId)}`}>{p.name ?? p.scopeId}</a>
              <div class="sub mono">{p.scopeId}</div>
            </td>
            <td class="num">{pct(p.dailyStopLossPct)}</td>
            <td class="num">{pct(p.totalStopLossPct)}</td>
            <td class="num">{lev(p.maxLeverage)}</td>
            <td class="small">
              <Time ms={p.updatedAt} now={now} /> by {p.updatedBy}
            </td>
            {access.has('risk.policies') ? (
              <td class="col-actions">
                <form method="post" action="/risk/policies/clear" hx-post="/risk/policies/clear" hx-target={`#${RISK_PAGE_ID}`} hx-swap="outerHTML" class="inline-form">
                  <CsrfField token={access.csrf} />
                  <input type="hidden" name="scope" value={scope} />
                  <input type="hidden" name="scopeId" value={p.scopeId} />
                  <button type="submit" class="btn btn-sm" data-action="clear-policy">
                    Remove
                  </button>
                </form>
              </td>
            ) : null}
          </tr>
        ))
      )}
    </tbody>
  </table>
);

/** The Risk page. */
export const RiskPage: FC<{
  view: PoliciesView;
  users: readonly { id: string; label: string }[];
  bots: readonly { id: string; label: string }[];
  now: number;
  access: Access;
  message?: RowMessage | undefined;
}> = ({ view, users, bots, now, access, message }) => {
  const edit = access.has('risk.policies');
  const form = (scope: 'platform' | 'user' | 'trader', children: unknown, id: string) => (
    <form method="post" action="/risk/policies" hx-post="/risk/policies" hx-target={`#${RISK_PAGE_ID}`} hx-swap="outerHTML" class="filters policy-form" id={id}>
      <CsrfField token={access.csrf} />
      <input type="hidden" name="scope" value={scope} />
      {children}
    </form>
  );
  return (
    <div class="page" id={RISK_PAGE_ID}>
      <div class="page-head">
        <h1>Risk policies</h1>
      </div>
      {message ? (
        <div class={`notice ${message.ok ? 'notice-ok' : 'notice-bad'}`} role={message.ok ? 'status' : 'alert'} id="risk-message">
          {message.text}
        </div>
      ) : null}
      <Panel title="Platform defaults">
        <p class="small muted">
          Every bot is held to these unless its user or the bot itself has limits of its own (a bot's own limit wins over its user's, which wins over the
          platform's). A breach pauses the bot and opens a violation on the Security page.
        </p>
        <dl class="kv-inline policy-defaults" id="platform-policy">
          <div>
            <dt>Daily stop-loss</dt>
            <dd>{pct(view.platform.dailyStopLossPct)}</dd>
          </div>
          <div>
            <dt>Total stop-loss</dt>
            <dd>{pct(view.platform.totalStopLossPct)}</dd>
          </div>
          <div>
            <dt>Max leverage</dt>
            <dd>{lev(view.platform.maxLeverage)}</dd>
          </div>
          <div>
            <dt>Changed</dt>
            <dd class="small">
              {view.platform.updatedAt > 0 ? <Time ms={view.platform.updatedAt} now={now} /> : DASH} by {view.platform.updatedBy}
            </dd>
          </div>
        </dl>
        {edit
          ? form(
              'platform',
              <>
                <input type="hidden" name="scopeId" value="platform" />
                <LimitFields p={view.platform} required />
                <button type="submit" class="btn btn-primary" data-action="save-platform">
                  Save defaults
                </button>
              </>,
              'platform-policy-form',
            )
          : null}
      </Panel>
      <div class="cols">
        <Panel title="Per user" count={view.users.length}>
          <OverrideTable rows={view.users} scope="user" now={now} access={access} />
          {edit
            ? form(
                'user',
                <>
                  <label class="inline-field">
                    <span>User</span>
                    <select name="scopeId" required>
                      {users.map((u) => (
                        <option value={u.id}>{u.label}</option>
                      ))}
                    </select>
                  </label>
                  <LimitFields required={false} />
                  <button type="submit" class="btn" data-action="save-user">
                    Set
                  </button>
                </>,
                'user-policy-form',
              )
            : null}
        </Panel>
        <Panel title="Per bot" count={view.traders.length}>
          <OverrideTable rows={view.traders} scope="trader" now={now} access={access} />
          {edit
            ? form(
                'trader',
                <>
                  <label class="inline-field">
                    <span>Bot</span>
                    <select name="scopeId" required>
                      {bots.map((b) => (
                        <option value={b.id}>{b.label}</option>
                      ))}
                    </select>
                  </label>
                  <LimitFields required={false} />
                  <button type="submit" class="btn" data-action="save-trader">
                    Set
                  </button>
                </>,
                'trader-policy-form',
              )
            : null}
        </Panel>
      </div>
    </div>
  );
};
