/**
 * The Security & Audit pages: exchange keys (status with reason, Revoke / Disable / Enable, the
 * history of every key), risk violations (the automatic pauses they caused, Release), sign-in
 * security (failures, suspicious addresses, 2FA history) and the audit log.
 */
import type { FC } from 'hono/jsx';
import type { AuditEntry, SignInAttempt } from '../../runtime/accounts/index.ts';
import type { AuditLogPage, KeyRow, SignInSecurityView, ViolationRow } from '../../runtime/admin.ts';
import type { KeyEventRecord } from '../../runtime/keys/index.ts';
import { EXCHANGES } from '../../runtime/keys/index.ts';
import type { Access } from '../access.ts';
import { DASH, domId, formatDateTime, prettyJson } from '../format.ts';
import type { RowMessage } from './bots.tsx';
import { Badge, CsrfField, EmptyRow, Panel, Time, pauseText, FilterSelect } from './components.tsx';
import { KeyStatusBadge } from './users.tsx';

/** The tabs of the Security area. */
export type SecurityTab = 'keys' | 'violations' | 'sign-ins' | 'audit';

const TABS: readonly { key: SecurityTab; href: string; label: string; permission: 'keys.read' | 'risk.read' | 'security.read' | 'audit.read' }[] = [
  { key: 'keys', href: '/security/keys', label: 'Exchange keys', permission: 'keys.read' },
  { key: 'violations', href: '/security/violations', label: 'Risk violations', permission: 'risk.read' },
  { key: 'sign-ins', href: '/security/sign-ins', label: 'Sign-in security', permission: 'security.read' },
  { key: 'audit', href: '/security/audit', label: 'Audit log', permission: 'audit.read' },
];

/** The Security area's tab bar (only the tabs the viewer may open). */
export const SecurityTabs: FC<{ active: SecurityTab; access: Access }> = ({ active, access }) => (
  <nav class="tabs" aria-label="Security">
    {TABS.filter((t) => access.has(t.permission)).map((t) => (
      <a href={t.href} class={t.key === active ? 'tab active' : 'tab'} aria-current={t.key === active ? 'page' : undefined}>
        {t.label}
      </a>
    ))}
  </nav>
);

const Msg: FC<{ message?: RowMessage | undefined }> = ({ message }) =>
  message ? (
    <div class={`row-msg wide ${message.ok ? 'ok' : 'err'}`} role={message.ok ? 'status' : 'alert'}>
      {message.text}
    </div>
  ) : null;

/** A command behind a disclosure: a reason field and a confirm button, posted with htmx into the row. */
const ReasonAction: FC<{ action: string; label: string; danger?: boolean; csrf: string; required?: boolean; name: string }> = ({ action, label, danger, csrf, required = true, name }) => (
  <details class="inline-action" data-action={name}>
    <summary class={`btn btn-sm${danger ? ' btn-danger' : ''}`}>{label}</summary>
    <form method="post" action={action} hx-post={action} hx-target="closest tr" hx-swap="outerHTML" class="form reason-form">
      <CsrfField token={csrf} />
      <input name="reason" required={required} maxlength={500} placeholder={required ? 'Reason (required)' : 'Reason'} aria-label={`Reason to ${label.toLowerCase()}`} />
      <button type="submit" class={`btn btn-sm${danger ? ' btn-danger' : ' btn-primary'}`}>
        Confirm
      </button>
    </form>
  </details>
);

/** The DOM id of a key's row. */
export const keyRowId = (id: string) => domId('key', id);

/** One exchange key. */
export const KeyRowView: FC<{ k: KeyRow; now: number; access: Access; message?: RowMessage | undefined }> = ({ k, now, access, message }) => {
  const path = `/security/keys/${encodeURIComponent(k.id)}`;
  const may = access.has('keys.manage');
  return (
    <tr id={keyRowId(k.id)} class={`key-row${k.status === 'revoked' || k.status === 'invalid' ? ' row-error' : k.status === 'disabled' ? ' row-paused' : ''}`} data-key-id={k.id}>
      <td>
        {k.userName ? <a href={`/users/${encodeURIComponent(k.userId)}`}>{k.userName}</a> : <span class="mono">{k.userId}</span>}
        <div class="sub">{k.userEmail ?? k.userId}</div>
      </td>
      <td class="mono">{k.exchange}</td>
      <td>
        {k.label}
        <div class="sub mono">
          …{k.hint} · {k.id}
        </div>
      </td>
      <td>
        <KeyStatusBadge status={k.status} />
        {k.statusReason ? <div class="sub key-reason">{k.statusReason}</div> : null}
      </td>
      <td class="num">
        <Time ms={k.createdAt} now={now} />
      </td>
      <td class="num">
        <Time ms={k.updatedAt} now={now} />
      </td>
      <td class="col-actions">
        {may ? (
          <div class="actions">
            {k.status === 'disabled' ? <ReasonAction action={`${path}/enable`} label="Enable" csrf={access.csrf} name="enable" /> : null}
            {k.status !== 'disabled' && k.status !== 'revoked' ? <ReasonAction action={`${path}/disable`} label="Disable" csrf={access.csrf} name="disable" /> : null}
            {k.status !== 'revoked' ? <ReasonAction action={`${path}/revoke`} label="Revoke" danger csrf={access.csrf} name="revoke" /> : null}
          </div>
        ) : null}
        <Msg message={message} />
      </td>
    </tr>
  );
};

/** The keys page's filter as shown. */
export interface KeyFilterView {
  readonly userId?: string | undefined;
  readonly status?: string | undefined;
  readonly exchange?: string | undefined;
}

const KEY_STATUSES = ['valid', 'invalid', 'disabled', 'revoked', 'unchecked'] as const;

/** The exchange keys page. */
export const KeysPage: FC<{ keys: readonly KeyRow[]; history: readonly KeyEventRecord[]; filter: KeyFilterView; now: number; access: Access }> = ({
  keys,
  history,
  filter,
  now,
  access,
}) => (
  <div class="page" id="keys-page">
    <div class="page-head">
      <h1>Security</h1>
    </div>
    <SecurityTabs active="keys" access={access} />
    <Panel title="Exchange keys" count={keys.length}>
      <form class="filters" method="get" action="/security/keys" role="search">
        <label class="inline-field">
          <span>User id</span>
          <input name="userId" value={filter.userId ?? ''} maxlength={100} placeholder="u-…" />
        </label>
        <FilterSelect label="Status" name="status" any="Any status" value={filter.status} options={KEY_STATUSES} />
        <FilterSelect label="Exchange" name="exchange" any="Any exchange" value={filter.exchange} options={EXCHANGES} />
        <button type="submit" class="btn">
          Filter
        </button>
        {filter.userId || filter.status || filter.exchange ? (
          <a class="btn btn-link" href="/security/keys">
            Clear
          </a>
        ) : null}
      </form>
      <div class="table-wrap">
        <table class="grid" id="keys-table">
          <thead>
            <tr>
              <th>User</th>
              <th>Exchange</th>
              <th>Key</th>
              <th>Status</th>
              <th class="num">Created</th>
              <th class="num">Changed</th>
              <th class="col-actions">Actions</th>
            </tr>
          </thead>
          <tbody id="keys-body">
            {keys.length === 0 ? <EmptyRow cols={7} text="No exchange keys match." /> : keys.map((k) => <KeyRowView k={k} now={now} access={access} />)}
          </tbody>
        </table>
      </div>
      <p class="panel-note small muted">
        Secrets are sealed at rest and never shown: a key is listed by its last four characters. Disable takes a key out of use until it is enabled again;
        Revoke is for good.
      </p>
    </Panel>
    <Panel title="Key history" count={history.length} id="key-history">
      <table class="grid grid-compact">
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Key</th>
            <th>User</th>
            <th>What</th>
            <th>By</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {history.length === 0 ? (
            <EmptyRow cols={6} text="No key history." />
          ) : (
            history.map((e) => (
              <tr>
                <td>
                  <Time ms={e.at} now={now} full />
                </td>
                <td class="mono">{e.keyId}</td>
                <td class="mono">{e.userId}</td>
                <td>
                  <Badge tone={e.action === 'revoked' || e.action === 'deleted' || e.action === 'invalidated' ? 'bad' : e.action === 'disabled' ? 'warn' : e.action === 'validated' ? 'ok' : 'info'}>
                    {e.action}
                  </Badge>
                </td>
                <td>{e.by}</td>
                <td class="small">{e.reason ?? DASH}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </Panel>
  </div>
);

/** The DOM id of a violation's row. */
export const violationRowId = (id: number) => `violation-${id}`;

const POLICY_LABEL: Record<string, string> = { dailyStopLoss: 'daily stop-loss', totalStopLoss: 'total stop-loss', maxLeverage: 'leverage over the cap' };

/** One risk violation. */
export const ViolationRowView: FC<{ v: ViolationRow; now: number; access: Access; message?: RowMessage | undefined }> = ({ v, now, access, message }) => (
  <tr id={violationRowId(v.id)} class={`violation-row${v.status === 'open' ? ' row-error' : ''}`} data-violation-id={String(v.id)} data-status={v.status}>
    <td class="mono">#{v.id}</td>
    <td>
      <Time ms={v.at} now={now} />
    </td>
    <td>
      <a href={`/bots/${encodeURIComponent(v.traderId)}`} class="strong">
        {v.traderName ?? v.traderId}
      </a>
      <div class="sub">
        <a href={`/users/${encodeURIComponent(v.userId)}`}>{v.userName ?? v.userId}</a>
      </div>
    </td>
    <td>
      <Badge tone="bad">{POLICY_LABEL[v.policy] ?? v.policy}</Badge>
      <div class="sub">{v.message}</div>
    </td>
    <td class="num mono">
      {v.observed} / {v.limit}
    </td>
    <td>
      {v.traderStatus ? <span class={`badge state-${v.traderStatus}`}>{v.traderStatus}</span> : <span class="muted">{DASH}</span>}
      {v.pause ? (
        <div class="sub trunc" title={pauseText(v.pause)}>
          {v.pause.by} ({v.pause.scope}): {v.pause.reason}
        </div>
      ) : null}
    </td>
    <td class="col-actions">
      {v.status === 'open' ? (
        access.has('risk.release') ? (
          <ReasonAction action={`/security/violations/${v.id}/release`} label="Release" csrf={access.csrf} name="release" />
        ) : (
          <Badge tone="bad">open</Badge>
        )
      ) : (
        <div>
          <Badge tone="ok">released</Badge>
          <div class="sub">
            by {v.releasedBy ?? DASH} at {formatDateTime(v.releasedAt)}
          </div>
          {v.releaseReason ? <div class="sub">{v.releaseReason}</div> : null}
        </div>
      )}
      <Msg message={message} />
    </td>
  </tr>
);

/** The violations page's filter as shown. */
export interface ViolationFilterView {
  readonly status: 'open' | 'released' | 'all';
  readonly userId?: string | undefined;
}

/** The risk violations page. */
export const ViolationsPage: FC<{
  rows: readonly ViolationRow[];
  pauses: readonly AuditEntry[];
  botNames: Readonly<Record<string, string>>;
  filter: ViolationFilterView;
  now: number;
  access: Access;
}> = ({
  rows,
  pauses,
  botNames,
  filter,
  now,
  access,
}) => (
  <div class="page" id="violations-page">
    <div class="page-head">
      <h1>Security</h1>
    </div>
    <SecurityTabs active="violations" access={access} />
    <Panel title="Risk policy violations" count={rows.length}>
      <form class="filters" method="get" action="/security/violations" role="search">
        <label class="inline-field">
          <span>Status</span>
          <select name="status">
            {(['open', 'released', 'all'] as const).map((s) => (
              <option value={s} selected={filter.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label class="inline-field">
          <span>User id</span>
          <input name="userId" value={filter.userId ?? ''} maxlength={100} placeholder="u-…" />
        </label>
        <button type="submit" class="btn">
          Filter
        </button>
      </form>
      <div class="table-wrap">
        <table class="grid" id="violations-table">
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>Bot / user</th>
              <th>Policy</th>
              <th class="num">Observed / limit</th>
              <th>Bot now</th>
              <th class="col-actions">Release</th>
            </tr>
          </thead>
          <tbody id="violations-body">
            {rows.length === 0 ? (
              <EmptyRow cols={7} text={filter.status === 'open' ? 'No open violations.' : 'No violations match.'} />
            ) : (
              rows.map((v) => <ViolationRowView v={v} now={now} access={access} />)
            )}
          </tbody>
        </table>
      </div>
      <p class="panel-note small muted">
        A violation pauses its bot at once (scope risk). Release re-bases the stop-loss at the bot's latest PV and resumes the bot when nothing else holds it. A
        leverage violation comes back at the next evaluation unless the leverage or the cap changes first.
      </p>
    </Panel>
    <Panel title="Automatic pauses" count={pauses.length} id="auto-pauses">
      <table class="grid grid-compact">
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Bot</th>
            <th>What</th>
          </tr>
        </thead>
        <tbody>
          {pauses.length === 0 ? (
            <EmptyRow cols={3} text="No automatic pauses." />
          ) : (
            pauses.map((e) => (
              <tr>
                <td>
                  <Time ms={e.at} now={now} full />
                </td>
                <td>
                  <a href={`/bots/${encodeURIComponent(e.targetId ?? '')}`}>{botNames[e.targetId ?? ''] ?? e.targetId}</a>
                  <div class="sub mono">{e.targetId}</div>
                </td>
                <td class="small">{e.message}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </Panel>
  </div>
);

const AttemptRows: FC<{ rows: readonly SignInAttempt[]; now: number }> = ({ rows, now }) => (
  <tbody>
    {rows.length === 0 ? (
      <EmptyRow cols={4} text="No failed sign-ins." />
    ) : (
      rows.map((a) => (
        <tr>
          <td>
            <Time ms={a.at} now={now} full />
          </td>
          <td>{a.email}</td>
          <td class="mono">{a.ip}</td>
          <td>
            <Badge tone="bad">{a.reason}</Badge>
          </td>
        </tr>
      ))
    )}
  </tbody>
);

/** The sign-in security page. */
export const SignInsPage: FC<{ view: SignInSecurityView; hours: number; access: Access }> = ({ view, hours, access }) => (
  <div class="page" id="sign-ins-page">
    <div class="page-head">
      <h1>Security</h1>
    </div>
    <SecurityTabs active="sign-ins" access={access} />
    <form class="filters compact" method="get" action="/security/sign-ins">
      <label class="inline-field">
        <span>Period</span>
        <select name="hours">
          {[
            [1, 'last hour'],
            [24, 'last 24 hours'],
            [168, 'last 7 days'],
            [720, 'last 30 days'],
          ].map(([h, label]) => (
            <option value={String(h)} selected={hours === h}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="btn btn-sm">
        Show
      </button>
    </form>
    <Panel title="Suspicious" count={view.suspicious.length} id="suspicious">
      <table class="grid grid-compact">
        <thead>
          <tr>
            <th>Why</th>
            <th>Address</th>
            <th>Account(s)</th>
            <th>When (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {view.suspicious.length === 0 ? (
            <EmptyRow cols={4} text="Nothing suspicious in this period." />
          ) : (
            view.suspicious.map((s) =>
              s.kind === 'many_failures' ? (
                <tr class="row-error" data-kind={s.kind}>
                  <td>
                    <Badge tone="bad">{s.failures} failures within an hour</Badge>
                  </td>
                  <td class="mono">{s.ip}</td>
                  <td class="small">{s.emails.join(', ')}</td>
                  <td class="small">
                    {formatDateTime(s.from)} – {formatDateTime(s.to).slice(11)}
                  </td>
                </tr>
              ) : (
                <tr class="row-paused" data-kind={s.kind}>
                  <td>
                    <Badge tone="warn">new address for the account</Badge>
                  </td>
                  <td class="mono">{s.ip}</td>
                  <td class="small">
                    <a href={`/users/${encodeURIComponent(s.userId)}`}>{s.email}</a>
                    <div class="sub">known: {s.knownIps.join(', ')}</div>
                  </td>
                  <td class="small">{formatDateTime(s.at)}</td>
                </tr>
              ),
            )
          )}
        </tbody>
      </table>
    </Panel>
    <div class="cols">
      <Panel title="Failures by address" count={view.byIp.length} id="failures-by-ip">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>Address</th>
              <th class="num">Failures</th>
              <th class="num">Attempts</th>
              <th>Emails tried</th>
              <th>Last</th>
            </tr>
          </thead>
          <tbody>
            {view.byIp.length === 0 ? (
              <EmptyRow cols={5} text="No failed sign-ins." />
            ) : (
              view.byIp.map((r) => (
                <tr>
                  <td class="mono">{r.ip}</td>
                  <td class="num neg">{r.failures}</td>
                  <td class="num">{r.attempts}</td>
                  <td class="small">{r.emails.join(', ')}</td>
                  <td>
                    <Time ms={r.lastAt} now={view.now} />
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Panel>
      <Panel title="Two-factor history" count={view.twoFactor.length} id="two-factor-history">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>When (UTC)</th>
              <th>What</th>
              <th>Account</th>
              <th>By</th>
            </tr>
          </thead>
          <tbody>
            {view.twoFactor.length === 0 ? (
              <EmptyRow cols={4} text="No two-factor changes." />
            ) : (
              view.twoFactor.map((e) => (
                <tr>
                  <td>
                    <Time ms={e.at} now={view.now} full />
                  </td>
                  <td>
                    <Badge tone={e.action === 'account.2fa_disabled' ? 'warn' : e.outcome === 'ok' ? 'ok' : 'bad'}>{e.action.replace('account.', '')}</Badge>
                    {e.outcome !== 'ok' ? <span class="sub-inline">{e.outcome}</span> : null}
                  </td>
                  <td class="mono">{e.targetId}</td>
                  <td>
                    {e.actorLabel} <span class="mono muted small">{e.ip}</span>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Panel>
    </div>
    <Panel title="Recent failed sign-ins" count={view.failures.length} id="recent-failures">
      <table class="grid grid-compact">
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Email</th>
            <th>Address</th>
            <th>Why</th>
          </tr>
        </thead>
        <AttemptRows rows={view.failures} now={view.now} />
      </table>
    </Panel>
  </div>
);

/** The audit page's filter as shown (times as typed). */
export interface AuditFilterView {
  readonly actor?: string | undefined;
  readonly action?: string | undefined;
  readonly targetType?: string | undefined;
  readonly targetId?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
}

/** The query string of an audit filter plus paging. */
export function auditQuery(f: AuditFilterView, beforeId?: number): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string' && v) p.set(k, v);
  if (beforeId !== undefined) p.set('beforeId', String(beforeId));
  return p.toString();
}

const outcomeTone = (o: string) => (o === 'ok' ? 'ok' : o === 'refused' ? 'warn' : 'bad');

/** The audit log page. */
export const AuditPage: FC<{ page: AuditLogPage; filter: AuditFilterView; users: readonly { id: string; label: string }[]; paged: boolean; now: number; access: Access }> = ({
  page,
  filter,
  users,
  paged,
  now,
  access,
}) => (
  <div class="page" id="audit-page">
    <div class="page-head">
      <h1>Security</h1>
    </div>
    <SecurityTabs active="audit" access={access} />
    <Panel
      title="Audit log"
      count={page.entries.length}
      tools={
        <div class="pager">
          {paged ? (
            <a class="btn btn-sm" href={`/security/audit?${auditQuery(filter)}`}>
              « Newest
            </a>
          ) : null}
          {page.nextBeforeId !== null ? (
            <a class="btn btn-sm" href={`/security/audit?${auditQuery(filter, page.nextBeforeId)}`} id="audit-older">
              Older ›
            </a>
          ) : null}
        </div>
      }
    >
      <form class="filters" method="get" action="/security/audit" role="search" id="audit-filter">
        <FilterSelect label="Who" name="actor" any="Anyone" value={filter.actor} options={users.map((u) => ({ value: u.id, label: u.label }))} />
        <label class="inline-field">
          <span>Action</span>
          <input name="action" value={filter.action ?? ''} maxlength={100} placeholder="user.suspend" />
        </label>
        <label class="inline-field">
          <span>Target type</span>
          <input name="targetType" value={filter.targetType ?? ''} maxlength={40} placeholder="trader, user, exchange_key…" />
        </label>
        <label class="inline-field">
          <span>Target id</span>
          <input name="targetId" value={filter.targetId ?? ''} maxlength={200} />
        </label>
        <label class="inline-field">
          <span>From (UTC)</span>
          <input type="datetime-local" name="since" value={filter.since ?? ''} />
        </label>
        <label class="inline-field">
          <span>To (UTC)</span>
          <input type="datetime-local" name="until" value={filter.until ?? ''} />
        </label>
        <button type="submit" class="btn">
          Filter
        </button>
        {Object.values(filter).some(Boolean) ? (
          <a class="btn btn-link" href="/security/audit">
            Clear
          </a>
        ) : null}
      </form>
      <div class="table-wrap">
        <table class="grid grid-compact" id="audit-table">
          <thead>
            <tr>
              <th>When (UTC)</th>
              <th>Who</th>
              <th>From</th>
              <th>Action</th>
              <th>Target</th>
              <th>What</th>
              <th>Before → after</th>
            </tr>
          </thead>
          <tbody id="audit-body">
            {page.entries.length === 0 ? (
              <EmptyRow cols={7} text="No audit entries match." />
            ) : (
              page.entries.map((e) => (
                <tr data-audit-id={String(e.id ?? '')} data-action={e.action}>
                  <td>
                    <Time ms={e.at} now={now} full />
                  </td>
                  <td>
                    {e.actorLabel}
                    {e.actorUserId ? <div class="sub mono">{e.actorUserId}</div> : <div class="sub">system</div>}
                  </td>
                  <td class="mono small audit-ip">{e.ip || DASH}</td>
                  <td class="audit-action">
                    <span class="mono">{e.action}</span> <Badge tone={outcomeTone(e.outcome)}>{e.outcome}</Badge>
                  </td>
                  <td class="mono small audit-target">
                    {e.targetType}
                    {e.targetId ? `:${e.targetId}` : ''}
                  </td>
                  <td class="small col-desc">{e.message}</td>
                  <td>
                    {e.before === null && e.after === null ? (
                      <span class="muted">{DASH}</span>
                    ) : (
                      <details class="raw">
                        <summary>show</summary>
                        <div class="before-after">
                          <div>
                            <div class="sub">before</div>
                            <pre class="json">{prettyJson(e.before)}</pre>
                          </div>
                          <div>
                            <div class="sub">after</div>
                            <pre class="json">{prettyJson(e.after)}</pre>
                          </div>
                        </div>
                      </details>
                    )}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </Panel>
  </div>
);
