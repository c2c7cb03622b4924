/**
 * The bots page: managers (group pause/resume), the filter bar, and the bots table whose
 * rows refresh themselves after a command and over the live stream.
 */
import type { FC } from 'hono/jsx';
import type { BotRow, ManagerRow } from '../../runtime/api.ts';
import { TraderStatus } from '../../runtime/domain.ts';
import type { Access } from '../access.ts';
import type { BotFilter, BotSelection } from '../bot-filter.ts';
import { PAGE_SIZE, filterQuery } from '../bot-filter.ts';
import { DASH, domId } from '../format.ts';
import { EmptyRow, Money, Panel, Pct, StateBadge, Time, errorText, pauseText, FilterSelect } from './components.tsx';

/** DOM id of the bots table body. */
export const BOTS_BODY_ID = 'bots-body';
/** DOM id of the managers table body. */
export const MANAGERS_BODY_ID = 'managers-body';

/** A one-line outcome shown inside a row after a command. */
export interface RowMessage {
  readonly ok: boolean;
  readonly text: string;
}

/** The DOM id of a bot's row. */
export const botRowId = (id: string) => domId('bot', id);
/** The DOM id of a manager's row. */
export const managerRowId = (id: string) => domId('mgr', id);

const botPath = (id: string) => `/bots/${encodeURIComponent(id)}`;
const managerPath = (id: string) => `/managers/${encodeURIComponent(id)}`;

/**
 * Which commands make sense for a bot in its state and are allowed to the viewer (the api and
 * the route guard still have the last word).
 */
export function botCommands(bot: BotRow, access: Access): { pause: boolean; resume: boolean; restart: boolean } {
  const may = access.bot(bot);
  return {
    pause: may.pause && (bot.status === TraderStatus.running || bot.status === TraderStatus.starting),
    resume: may.resume && bot.status === TraderStatus.paused,
    restart: may.restart,
  };
}

/** The command buttons of a bot; `view` tells the server which fragment to send back. */
export const BotActions: FC<{ bot: BotRow; target: string; view: 'row' | 'summary'; access: Access }> = ({ bot, target, view, access }) => {
  const can = botCommands(bot, access);
  const vals = view === 'row' ? undefined : JSON.stringify({ view });
  return (
    <div class="actions">
      {can.pause ? (
        <button type="button" class="btn btn-sm" hx-post={`${botPath(bot.id)}/pause`} hx-target={target} hx-swap="outerHTML" hx-vals={vals} data-action="pause">
          Pause
        </button>
      ) : null}
      {can.resume ? (
        <button type="button" class="btn btn-sm btn-primary" hx-post={`${botPath(bot.id)}/resume`} hx-target={target} hx-swap="outerHTML" hx-vals={vals} data-action="resume">
          Resume
        </button>
      ) : null}
      {can.restart ? (
        <button type="button" class="btn btn-sm" hx-post={`${botPath(bot.id)}/restart`} hx-target={target} hx-swap="outerHTML" hx-vals={vals} data-action="restart">
          Restart
        </button>
      ) : null}
    </div>
  );
};

/** One row of the bots table. */
export const BotRowView: FC<{ bot: BotRow; now: number; access: Access; message?: RowMessage | undefined }> = ({ bot, now, access, message }) => (
  <tr id={botRowId(bot.id)} class={`bot-row row-${bot.status}`} data-bot-id={bot.id}>
    <td class="col-trader">
      <a href={botPath(bot.id)} class="strong">
        {bot.name}
      </a>
      <div class="sub mono">{bot.id}</div>
    </td>
    <td class="col-user">
      {bot.userName || DASH}
      <div class="sub mono">{bot.userId}</div>
    </td>
    <td class="col-manager">
      <a href={`/bots?${filterQuery({ page: 1, manager: bot.managerId })}`}>{bot.managerName || bot.managerId}</a>
    </td>
    <td class="col-strategy mono">{bot.strategy}</td>
    <td class="col-state">
      <StateBadge bot={bot} />
      {bot.pause ? (
        <div class="sub trunc" title={pauseText(bot.pause)}>
          {bot.pause.by}: {bot.pause.reason}
        </div>
      ) : null}
    </td>
    <td class="num">
      <Money value={bot.portfolioValue} />
    </td>
    <td class="num">
      <Pct value={bot.roe} />
    </td>
    <td class="num">
      <Time ms={bot.lastCycleAt} now={now} />
    </td>
    <td class="col-error">
      {bot.error ? (
        <span class="err-text trunc" title={errorText(bot.error)}>
          <span class="err-kind">{bot.error.kind}</span> {bot.error.message}
        </span>
      ) : (
        <span class="muted">{DASH}</span>
      )}
    </td>
    <td class="col-actions">
      <BotActions bot={bot} target="closest tr" view="row" access={access} />
      {message ? (
        <div class={`row-msg ${message.ok ? 'ok' : 'err'}`} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </div>
      ) : null}
    </td>
  </tr>
);

const BOT_COLUMNS = 10;

/** The bots table body (also re-sent whole when a burst changes many rows). */
export const BotsBody: FC<{ rows: readonly BotRow[]; now: number; access: Access; emptyText?: string }> = ({ rows, now, access, emptyText }) => (
  <tbody id={BOTS_BODY_ID}>
    {rows.length === 0 ? (
      <EmptyRow cols={BOT_COLUMNS} text={emptyText ?? 'No traders match.'} />
    ) : (
      rows.map((b) => <BotRowView bot={b} now={now} access={access} />)
    )}
  </tbody>
);

/** One row of the managers table. */
export const ManagerRowView: FC<{ m: ManagerRow; access: Access; message?: RowMessage | undefined }> = ({ m, access, message }) => (
  <tr id={managerRowId(m.id)} class="manager-row" data-manager-id={m.id}>
    <td>
      <a href={`/bots?${filterQuery({ page: 1, manager: m.id })}`} class="strong">
        {m.name}
      </a>
      <div class="sub mono">{m.id}</div>
    </td>
    <td class="num">{m.traderCount}</td>
    <td class="num">
      <Money value={m.portfolioValue} />
    </td>
    <td class="num">
      <Pct value={m.roe} />
    </td>
    <td>
      {m.paused ? (
        <span class="badge state-paused" title={pauseText(m.paused)}>
          paused
        </span>
      ) : (
        <span class="badge tone-ok">active</span>
      )}
      {m.paused ? (
        <div class="sub trunc" title={pauseText(m.paused)}>
          {m.paused.by}: {m.paused.reason}
        </div>
      ) : null}
    </td>
    <td class="col-actions">
      <div class="actions">
        {m.paused ? (
          access.group(m).resume ? (
            <button type="button" class="btn btn-sm btn-primary" hx-post={`${managerPath(m.id)}/resume`} hx-target="closest tr" hx-swap="outerHTML" data-action="resume-group">
              Resume group
            </button>
          ) : null
        ) : access.group(m).pause ? (
          <button type="button" class="btn btn-sm" hx-post={`${managerPath(m.id)}/pause`} hx-target="closest tr" hx-swap="outerHTML" data-action="pause-group">
            Pause group
          </button>
        ) : null}
      </div>
      {message ? (
        <div class={`row-msg ${message.ok ? 'ok' : 'err'}`} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </div>
      ) : null}
    </td>
  </tr>
);

/** The managers table body. */
export const ManagersBody: FC<{ managers: readonly ManagerRow[]; access: Access }> = ({ managers, access }) => (
  <tbody id={MANAGERS_BODY_ID}>
    {managers.length === 0 ? <EmptyRow cols={6} text="No managers." /> : managers.map((m) => <ManagerRowView m={m} access={access} />)}
  </tbody>
);

const FilterBar: FC<{ filter: BotFilter; managers: readonly ManagerRow[] }> = ({ filter, managers }) => (
  <form class="filters" method="get" action="/bots" role="search">
    <FilterSelect label="Manager" name="manager" any="All managers" value={filter.manager} options={managers.map((m) => ({ value: m.id, label: m.name }))} />
    <FilterSelect label="State" name="status" any="Any state" value={filter.status} options={Object.values(TraderStatus)} />
    <label class="inline-field grow">
      <span>Search</span>
      <input type="search" name="q" value={filter.q ?? ''} placeholder="name, id, user, strategy" maxlength={200} />
    </label>
    <button type="submit" class="btn">
      Filter
    </button>
    {filter.manager || filter.status || filter.q ? (
      <a class="btn btn-link" href="/bots">
        Clear
      </a>
    ) : null}
  </form>
);

const Pager: FC<{ sel: BotSelection; filter: BotFilter }> = ({ sel, filter }) => {
  if (sel.total === 0) return null;
  const from = (sel.page - 1) * PAGE_SIZE + 1;
  const to = from + sel.rows.length - 1;
  return (
    <div class="pager">
      <span class="muted">
        {from}–{to} of {sel.total}
      </span>
      {sel.page > 1 ? <a class="btn btn-sm" href={`/bots?${filterQuery(filter, { page: sel.page - 1 })}`}>‹ Prev</a> : null}
      {sel.page < sel.pages ? <a class="btn btn-sm" href={`/bots?${filterQuery(filter, { page: sel.page + 1 })}`}>Next ›</a> : null}
    </div>
  );
};

/** The bots page content; the managers panel shows only to roles that see groups. */
export const BotsPage: FC<{ sel: BotSelection; filter: BotFilter; managers: readonly ManagerRow[]; now: number; access: Access }> = ({
  sel,
  filter,
  managers,
  now,
  access,
}) => {
  const manager = filter.manager ? managers.find((m) => m.id === filter.manager) : undefined;
  return (
    <div class="page" id="bots-page">
      <div class="page-head">
        <h1>{manager ? `Bots · ${manager.name}` : 'Bots'}</h1>
        {access.has('bots.create') ? (
          <a class="btn btn-primary" href="/bots/new" id="new-bot">
            New bot
          </a>
        ) : null}
      </div>
      {access.has('groups.read') ? (
      <Panel title="Managers" count={managers.length}>
        <table class="grid" id="managers-table">
          <thead>
            <tr>
              <th>Manager</th>
              <th class="num">Traders</th>
              <th class="num">Portfolio value</th>
              <th class="num">ROE</th>
              <th>Group state</th>
              <th class="col-actions">Actions</th>
            </tr>
          </thead>
          <ManagersBody managers={managers} access={access} />
        </table>
      </Panel>
      ) : null}
      <Panel title="Traders" count={sel.total} tools={<Pager sel={sel} filter={filter} />}>
        <FilterBar filter={filter} managers={managers} />
        <div class="table-wrap">
          <table class="grid" id="bots-table">
            <thead>
              <tr>
                <th>Trader</th>
                <th>User</th>
                <th>Manager</th>
                <th>Strategy</th>
                <th>State</th>
                <th class="num" title="Portfolio value">PV</th>
                <th class="num" title="Return on initial capital">ROE</th>
                <th class="num" title="Time of the last completed cycle (UTC)">Last cycle</th>
                <th>Last error</th>
                <th class="col-actions">Actions</th>
              </tr>
            </thead>
            <BotsBody rows={sel.rows} now={now} access={access} />
          </table>
        </div>
      </Panel>
    </div>
  );
};
