/**
 * The Users pages: the list (search, filter, sort; P&L, drawdown, bots, last sign-in) and a
 * user's detail (summary with Suspend / Reinstate / Force Logout, bots and strategies, risk,
 * open positions, exchange accounts and keys, error log, sessions and sign-ins).
 */
import type { FC } from 'hono/jsx';
import type { LiquidationRisk, UserDetail, UserPage, UserRow, UserSort } from '../../runtime/admin.ts';
import { ROLES } from '../../runtime/accounts/index.ts';
import type { Access } from '../access.ts';
import { DASH, formatAmount, formatDateTime, formatMoney, isoTime, signClass } from '../format.ts';
import { Badge, CsrfField, EmptyRow, Money, Panel, Pct, PriceCell, StateBadge, Time, pauseText, FilterSelect } from './components.tsx';
import type { RowMessage } from './bots.tsx';

/** DOM id of the user summary block. */
export const USER_SUMMARY_ID = 'user-summary';
/** DOM id of the user page (replaced whole after a command: bots, sessions and summary all change). */
export const USER_PAGE_ID = 'user-page';

/** The users list's filter as the page shows it. */
export interface UserFilterView {
  readonly q?: string | undefined;
  readonly role?: string | undefined;
  readonly status?: string | undefined;
  readonly running?: 'yes' | 'no' | undefined;
  readonly sort: UserSort;
  readonly order: 'asc' | 'desc';
  readonly page: number;
}

/** Rows per page of the users list. */
export const USERS_PAGE_SIZE = 50;

const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;

/** A drawdown fraction as an unsigned percentage: `0.031` → `3.10 %`. */
export function formatDrawdown(mdd: number | null | undefined): string {
  if (mdd === null || mdd === undefined || !Number.isFinite(mdd)) return DASH;
  return `${(mdd * 100).toFixed(2)} %`;
}

/** The query string of a users filter (defaults left out). */
export function usersQuery(f: UserFilterView, over: Partial<UserFilterView> = {}): string {
  const m = { ...f, ...over };
  const p = new URLSearchParams();
  if (m.q) p.set('q', m.q);
  if (m.role) p.set('role', m.role);
  if (m.status) p.set('status', m.status);
  if (m.running) p.set('running', m.running);
  if (m.sort !== 'joined') p.set('sort', m.sort);
  if (m.order !== 'desc') p.set('order', m.order);
  if (m.page > 1) p.set('page', String(m.page));
  return p.toString();
}

const StatusBadge: FC<{ status: string }> = ({ status }) => (
  <span class={`badge ${status === 'active' ? 'tone-ok' : 'tone-bad'}`} data-status={status}>
    {status}
  </span>
);

const RiskBadge: FC<{ risk: LiquidationRisk }> = ({ risk }) => (
  <Badge tone={risk === 'high' ? 'bad' : risk === 'medium' ? 'warn' : risk === 'low' ? 'ok' : 'neutral'}>{risk === 'none' ? 'no liquidation price' : risk}</Badge>
);

const SORT_LABELS: Record<UserSort, string> = { joined: 'Joined', email: 'Email', pnl: 'Total P&L', mdd: 'Current MDD', lastSignIn: 'Last sign-in', bots: 'Bots' };

/** A sortable column heading: a link that sorts by it (toggling the order when it is the current one). */
const SortHead: FC<{ f: UserFilterView; sort: UserSort; label?: string; num?: boolean }> = ({ f, sort, label, num }) => {
  const current = f.sort === sort;
  const order = current && f.order === 'desc' ? 'asc' : 'desc';
  return (
    <th class={num ? 'num' : undefined} aria-sort={current ? (f.order === 'asc' ? 'ascending' : 'descending') : undefined}>
      <a href={`/users?${usersQuery(f, { sort, order, page: 1 })}`} class="sort-link" data-sort={sort}>
        {label ?? SORT_LABELS[sort]}
        {current ? (f.order === 'asc' ? ' ▲' : ' ▼') : ''}
      </a>
    </th>
  );
};

/** One row of the users table. */
export const UserRowView: FC<{ u: UserRow; now: number }> = ({ u, now }) => (
  <tr id={`user-${u.id}`} class={`user-row ${u.status === 'suspended' ? 'row-paused' : ''}`} data-user-id={u.id}>
    <td class="col-user">
      <a href={userPath(u.id)} class="strong">
        {u.displayName}
      </a>
      <div class="sub">{u.email}</div>
      <div class="sub mono">{u.id}</div>
    </td>
    <td>
      <span class={`badge role-badge role-${u.role}`}>{u.role}</span>
    </td>
    <td>
      <StatusBadge status={u.status} />
      {u.lockedUntil !== null && u.lockedUntil > now ? <div class="sub">locked</div> : null}
    </td>
    <td class="num">
      <time datetime={isoTime(u.joinedAt)} title={isoTime(u.joinedAt)}>
        {formatDateTime(u.joinedAt).slice(0, 10)}
      </time>
    </td>
    <td class="num" title={`${u.bots.running} running, ${u.bots.paused} paused, ${u.bots.error} in error`}>
      {u.bots.total === 0 ? (
        <span class="muted">{DASH}</span>
      ) : (
        <span>
          <span class="pos">{u.bots.running}</span> / {u.bots.total}
          {u.bots.paused ? <span class="sub-inline">{u.bots.paused} paused</span> : null}
          {u.bots.error ? <span class="sub-inline neg">{u.bots.error} error</span> : null}
        </span>
      )}
    </td>
    <td class="num">
      <Money value={u.totalPnl} signed />
    </td>
    <td class="num">{formatDrawdown(u.mdd)}</td>
    <td class="num">
      <Time ms={u.lastSignInAt} now={now} />
      {u.lastSignInIp ? <div class="sub mono">{u.lastSignInIp}</div> : null}
    </td>
    <td>{u.twoFactor ? <Badge tone="ok">2FA</Badge> : <span class="muted">{DASH}</span>}</td>
  </tr>
);

const UsersFilterBar: FC<{ f: UserFilterView }> = ({ f }) => (
  <form class="filters" method="get" action="/users" role="search" id="users-filter">
    <label class="inline-field grow">
      <span>Search</span>
      <input type="search" name="q" value={f.q ?? ''} placeholder="id, email, name" maxlength={100} />
    </label>
    <FilterSelect label="Role" name="role" any="Any role" value={f.role} options={ROLES} />
    <FilterSelect label="Status" name="status" any="Any status" value={f.status} options={['active', 'suspended']} />
    <FilterSelect
      label="Running bots"
      name="running"
      any="Any"
      value={f.running}
      options={[
        { value: 'yes', label: 'has running bots' },
        { value: 'no', label: 'none running' },
      ]}
    />
    <label class="inline-field">
      <span>Sort</span>
      <select name="sort">
        {(Object.keys(SORT_LABELS) as UserSort[]).map((s) => (
          <option value={s} selected={f.sort === s}>
            {SORT_LABELS[s]}
          </option>
        ))}
      </select>
    </label>
    <label class="inline-field">
      <span>Order</span>
      <select name="order">
        <option value="desc" selected={f.order === 'desc'}>
          high → low
        </option>
        <option value="asc" selected={f.order === 'asc'}>
          low → high
        </option>
      </select>
    </label>
    <button type="submit" class="btn">
      Apply
    </button>
    {f.q || f.role || f.status || f.running ? (
      <a class="btn btn-link" href="/users">
        Clear
      </a>
    ) : null}
  </form>
);

/** The users list page. */
export const UsersPage: FC<{ page: UserPage; filter: UserFilterView; now: number }> = ({ page, filter, now }) => {
  const pages = Math.max(1, Math.ceil(page.total / page.limit));
  const from = page.total === 0 ? 0 : page.offset + 1;
  const to = page.offset + page.rows.length;
  return (
    <div class="page" id="users-page">
      <div class="page-head">
        <h1>Users</h1>
      </div>
      <Panel
        title="All users"
        count={page.total}
        tools={
          page.total > 0 ? (
            <div class="pager">
              <span class="muted">
                {from}–{to} of {page.total}
              </span>
              {filter.page > 1 ? (
                <a class="btn btn-sm" href={`/users?${usersQuery(filter, { page: filter.page - 1 })}`}>
                  ‹ Prev
                </a>
              ) : null}
              {filter.page < pages ? (
                <a class="btn btn-sm" href={`/users?${usersQuery(filter, { page: filter.page + 1 })}`}>
                  Next ›
                </a>
              ) : null}
            </div>
          ) : null
        }
      >
        <UsersFilterBar f={filter} />
        <div class="table-wrap">
          <table class="grid" id="users-table">
            <thead>
              <tr>
                <SortHead f={filter} sort="email" label="User" />
                <th>Role</th>
                <th>Status</th>
                <SortHead f={filter} sort="joined" num />
                <SortHead f={filter} sort="bots" label="Running / bots" num />
                <SortHead f={filter} sort="pnl" num />
                <SortHead f={filter} sort="mdd" num />
                <SortHead f={filter} sort="lastSignIn" num />
                <th>2FA</th>
              </tr>
            </thead>
            <tbody id="users-body">
              {page.rows.length === 0 ? <EmptyRow cols={9} text="No users match." /> : page.rows.map((u) => <UserRowView u={u} now={now} />)}
            </tbody>
          </table>
        </div>
      </Panel>
    </div>
  );
};

/** The summary block of a user, with the commands the viewer may give. */
export const UserSummary: FC<{ detail: UserDetail; now: number; access: Access; message?: RowMessage | undefined }> = ({ detail, now, access, message }) => {
  const u = detail.user;
  const self = access.principal?.userId === u.id;
  const target = `#${USER_PAGE_ID}`;
  const mayOperatorSuspend = access.principal?.role === 'admin' || (u.role !== 'admin' && u.role !== 'operator');
  return (
    <section id={USER_SUMMARY_ID} class="panel summary" data-user-id={u.id} data-status={u.status}>
      <div class="summary-head">
        <div>
          <h1>
            {u.displayName} <span class="mono muted h-sub">{u.id}</span>
          </h1>
          <div class="summary-state">
            <span class={`badge role-badge role-${u.role}`}>{u.role}</span>
            <StatusBadge status={u.status} />
            <span class="muted">{u.email}</span>
          </div>
        </div>
        <div class="summary-actions user-actions">
          {access.has('users.suspend') && !self && mayOperatorSuspend ? (
            u.status === 'active' ? (
              <form method="post" action={`${userPath(u.id)}/suspend`} hx-post={`${userPath(u.id)}/suspend`} hx-target={target} hx-swap="outerHTML" class="form inline-command" id="suspend-form">
                <CsrfField token={access.csrf} />
                <input name="reason" required maxlength={500} placeholder="Reason (required)" aria-label="Reason for the suspension" />
                <button type="submit" class="btn btn-danger" data-action="suspend">
                  Suspend
                </button>
              </form>
            ) : (
              <form method="post" action={`${userPath(u.id)}/unsuspend`} hx-post={`${userPath(u.id)}/unsuspend`} hx-target={target} hx-swap="outerHTML" class="form inline-command" id="unsuspend-form">
                <CsrfField token={access.csrf} />
                <input name="reason" maxlength={500} placeholder="Reason (optional)" aria-label="Reason for reinstating" />
                <button type="submit" class="btn btn-primary" data-action="unsuspend">
                  Reinstate
                </button>
              </form>
            )
          ) : null}
          {access.has('users.force_logout') && !self ? (
            <form method="post" action={`${userPath(u.id)}/force-logout`} hx-post={`${userPath(u.id)}/force-logout`} hx-target={target} hx-swap="outerHTML" class="form inline-command" id="force-logout-form">
              <CsrfField token={access.csrf} />
              <input type="hidden" name="view" value="summary" />
              <button type="submit" class="btn" data-action="force-logout" title={`End all ${detail.sessions.length} sessions`}>
                Force Logout ({detail.sessions.length})
              </button>
            </form>
          ) : null}
          {message ? (
            <div class={`row-msg wide ${message.ok ? 'ok' : 'err'}`} role={message.ok ? 'status' : 'alert'} id="user-message">
              {message.text}
            </div>
          ) : null}
        </div>
      </div>
      {u.status === 'suspended' ? (
        <div class="notice notice-bad" id="suspended-notice">
          Suspended: this account cannot sign in or use the API, and its bots are paused until it is reinstated.
        </div>
      ) : null}
      <dl class="kv-grid">
        <div>
          <dt>Joined (UTC)</dt>
          <dd>
            <Time ms={u.joinedAt} now={now} full />
          </dd>
        </div>
        <div>
          <dt>Last sign-in (UTC)</dt>
          <dd>
            <Time ms={u.lastSignInAt} now={now} full /> {u.lastSignInIp ? <span class="muted mono small">from {u.lastSignInIp}</span> : null}
          </dd>
        </div>
        <div>
          <dt>Two-factor</dt>
          <dd>{u.twoFactor ? <Badge tone="ok">enabled</Badge> : <Badge tone="warn">off</Badge>}</dd>
        </div>
        <div>
          <dt>Failed sign-ins in a row</dt>
          <dd>
            {detail.failedAttempts}
            {u.lockedUntil !== null && u.lockedUntil > now ? <span class="sub-inline neg">locked</span> : null}
          </dd>
        </div>
        <div>
          <dt>Total P&amp;L</dt>
          <dd class="num">
            <Money value={u.totalPnl} signed />
          </dd>
        </div>
        <div>
          <dt>Current MDD</dt>
          <dd class="num" id="user-mdd">
            {formatDrawdown(u.mdd)}
          </dd>
        </div>
        <div>
          <dt>Liquidation risk</dt>
          <dd>
            <RiskBadge risk={detail.risk.liquidation} />
          </dd>
        </div>
        <div>
          <dt>Open violations</dt>
          <dd>
            {detail.risk.openViolations.length === 0 ? (
              <span class="muted">none</span>
            ) : (
              <a href={`/security/violations?userId=${encodeURIComponent(u.id)}`} class="neg">
                {detail.risk.openViolations.length} open
              </a>
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
};

/** The user detail page. */
export const UserDetailPage: FC<{ detail: UserDetail; now: number; access: Access; message?: RowMessage | undefined }> = ({ detail, now, access, message }) => (
  <div class="page" id={USER_PAGE_ID}>
    <div class="crumbs">
      <a href="/users">Users</a> › {detail.user.displayName}
    </div>
    <UserSummary detail={detail} now={now} access={access} message={message} />
    <div class="cols">
      <Panel title="Bots" count={detail.bots.length} id="user-bots">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>Bot</th>
              <th>Strategy</th>
              <th>State</th>
              <th class="num">PV</th>
              <th class="num">ROE</th>
            </tr>
          </thead>
          <tbody>
            {detail.bots.length === 0 ? (
              <EmptyRow cols={5} text="This user owns no bots." />
            ) : (
              detail.bots.map((b) => (
                <tr data-bot-id={b.id}>
                  <td>
                    <a href={`/bots/${encodeURIComponent(b.id)}`} class="strong">
                      {b.name}
                    </a>
                    <div class="sub mono">{b.id}</div>
                  </td>
                  <td class="mono">{b.strategy}</td>
                  <td>
                    <StateBadge bot={b} />
                    {b.pause ? (
                      <div class="sub trunc" title={pauseText(b.pause)}>
                        {b.pause.by}: {b.pause.reason}
                      </div>
                    ) : null}
                  </td>
                  <td class="num">
                    <Money value={b.portfolioValue} />
                  </td>
                  <td class="num">
                    <Pct value={b.roe} />
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
        <p class="small">
          <span class="muted">Active strategies: </span>
          {detail.strategies.length === 0 ? (
            <span class="muted">none running</span>
          ) : (
            detail.strategies.map((s, i) => (
              <span class="mono">
                {i > 0 ? ', ' : ''}
                {s.ref} ×{s.bots}
              </span>
            ))
          )}
        </p>
      </Panel>
      <Panel title="Risk limits" id="user-risk">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>Bot</th>
              <th class="num">Daily stop-loss</th>
              <th class="num">Total stop-loss</th>
              <th class="num">Max leverage</th>
            </tr>
          </thead>
          <tbody>
            {detail.risk.policies.length === 0 ? (
              <EmptyRow cols={4} text="No bots." />
            ) : (
              detail.risk.policies.map((p) => (
                <tr>
                  <td>{p.traderName}</td>
                  <td class="num">
                    {p.policy.dailyStopLossPct} % <span class="sub-inline">{p.policy.sources.dailyStopLossPct}</span>
                  </td>
                  <td class="num">
                    {p.policy.totalStopLossPct} % <span class="sub-inline">{p.policy.sources.totalStopLossPct}</span>
                  </td>
                  <td class="num">
                    {p.policy.maxLeverage}× <span class="sub-inline">{p.policy.sources.maxLeverage}</span>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
        {detail.risk.openViolations.map((v) => (
          <div class="notice notice-bad">
            #{v.id} {v.policy}: {v.message}
          </div>
        ))}
      </Panel>
    </div>
    <Panel title="Open positions" count={detail.positions.length} id="user-positions">
      <div class="table-wrap">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>Bot</th>
              <th>Symbol</th>
              <th>Side</th>
              <th class="num">Amount</th>
              <th class="num">Entry</th>
              <th class="num">Mark</th>
              <th class="num">uPnL</th>
              <th class="num">Liquidation</th>
              <th class="num">Distance</th>
              <th>Risk</th>
            </tr>
          </thead>
          <tbody>
            {detail.positions.length === 0 ? (
              <EmptyRow cols={10} text="No open positions." />
            ) : (
              detail.positions.map((p) => (
                <tr class={p.risk === 'high' ? 'row-error' : undefined}>
                  <td>{p.traderName}</td>
                  <td class="mono">{p.symbol}</td>
                  <td>{p.side}</td>
                  <td class="num">{formatAmount(p.amount)}</td>
                  <PriceCell value={p.entryPrice} />
                  <PriceCell value={p.markPrice} />
                  <td class={`num ${signClass(p.unrealizedPnl)}`}>{formatMoney(p.unrealizedPnl)}</td>
                  <PriceCell value={p.liquidationPrice} />
                  <td class="num">{p.distanceToLiquidation === null ? DASH : `${(p.distanceToLiquidation * 100).toFixed(1)} %`}</td>
                  <td>
                    <RiskBadge risk={p.risk} />
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      {detail.positionErrors.map((e) => (
        <div class="notice notice-warn">
          Positions of {e.traderId} could not be read: {e.error}
        </div>
      ))}
    </Panel>
    <div class="cols">
      <Panel title="Exchange accounts and keys" id="user-keys">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>Bot</th>
              <th>Venue</th>
              <th>Account</th>
            </tr>
          </thead>
          <tbody>
            {detail.exchangeAccounts.length === 0 ? (
              <EmptyRow cols={3} text="No venue accounts." />
            ) : (
              detail.exchangeAccounts.map((a) => (
                <tr>
                  <td>{a.traderName}</td>
                  <td class="mono">{a.venue}</td>
                  <td class="mono">{a.accountId}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>Key</th>
              <th>Exchange</th>
              <th>Status</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {detail.keys.length === 0 ? (
              <EmptyRow cols={4} text="No exchange keys." />
            ) : (
              detail.keys.map((k) => (
                <tr data-key-id={k.id}>
                  <td>
                    {k.label} <span class="mono muted">…{k.hint}</span>
                  </td>
                  <td class="mono">{k.exchange}</td>
                  <td>
                    <KeyStatusBadge status={k.status} />
                    {k.statusReason ? <div class="sub">{k.statusReason}</div> : null}
                  </td>
                  <td>
                    <Time ms={k.createdAt} now={now} />
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
        {access.has('keys.read') ? (
          <p class="small">
            <a href={`/security/keys?userId=${encodeURIComponent(detail.user.id)}`}>Manage keys and history ›</a>
          </p>
        ) : null}
      </Panel>
      <Panel title="Error log" count={detail.errors.length} id="user-errors">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>When</th>
              <th>Bot</th>
              <th>What</th>
            </tr>
          </thead>
          <tbody>
            {detail.errors.length === 0 ? (
              <EmptyRow cols={3} text="No errors." />
            ) : (
              detail.errors.map((e) => (
                <tr>
                  <td>
                    <Time ms={e.at} now={now} />
                  </td>
                  <td class="mono">{e.traderId ?? DASH}</td>
                  <td>
                    <Badge tone={e.severity === 'critical' ? 'bad' : 'warn'}>{e.type}</Badge> <span class="err-text">{e.message}</span>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Panel>
    </div>
    <div class="cols">
      <Panel title="Active sessions" count={detail.sessions.length} id="user-sessions">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>Signed in</th>
              <th>Last seen</th>
              <th>Address</th>
              <th>Browser</th>
            </tr>
          </thead>
          <tbody>
            {detail.sessions.length === 0 ? (
              <EmptyRow cols={4} text="No active sessions." />
            ) : (
              detail.sessions.map((s) => (
                <tr>
                  <td>
                    <Time ms={s.createdAt} now={now} />
                  </td>
                  <td>
                    <Time ms={s.lastSeenAt} now={now} />
                  </td>
                  <td class="mono">{s.ip || DASH}</td>
                  <td class="trunc small" title={s.userAgent}>
                    {s.userAgent || DASH}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Panel>
      <Panel title="Recent sign-ins" count={detail.signIns.length} id="user-sign-ins">
        <table class="grid grid-compact">
          <thead>
            <tr>
              <th>When</th>
              <th>Address</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {detail.signIns.length === 0 ? (
              <EmptyRow cols={3} text="No sign-in attempts kept." />
            ) : (
              detail.signIns.map((a) => (
                <tr>
                  <td>
                    <Time ms={a.at} now={now} />
                  </td>
                  <td class="mono">{a.ip}</td>
                  <td>{a.ok ? <Badge tone="ok">{a.reason}</Badge> : <Badge tone="bad">{a.reason}</Badge>}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Panel>
    </div>
  </div>
);

/** A key status badge: valid green, invalid red, revoked red, disabled amber, unchecked blue. */
export const KeyStatusBadge: FC<{ status: string }> = ({ status }) => (
  <span
    class={`badge ${status === 'valid' ? 'tone-ok' : status === 'invalid' || status === 'revoked' ? 'tone-bad' : status === 'disabled' ? 'tone-warn' : 'tone-info'}`}
    data-key-status={status}
  >
    {status}
  </span>
);
