/**
 * The bot detail page: live summary, params, positions, decision records (why each order was
 * placed), orders, events, and the form that pins the bot to a strategy version.
 */
import type { FC } from 'hono/jsx';
import type { BotDetail, BotRow, StrategyVersionRow } from '../../runtime/api.ts';
import type { TargetWeights } from '../../runtime/domain.ts';
import type { CycleRecord, EventRecord, OrderRecord } from '../../runtime/store/types.ts';
import { DASH, formatAmount, formatDateTime, formatMoney, formatWeight, prettyJson, signClass } from '../format.ts';
import { readPlan, verdictTone } from '../plan.ts';
import type { Verdict } from '../plan.ts';
import { filterQuery } from '../bot-filter.ts';
import type { RowMessage } from './bots.tsx';
import type { Access } from '../access.ts';
import { BotActions } from './bots.tsx';
import { Badge, CsrfField, EmptyRow, Money, Panel, Pct, PriceCell, StateBadge, Time, errorText, pauseText } from './components.tsx';

/** DOM id of the live summary block. */
export const BOT_SUMMARY_ID = 'bot-summary';

const botPath = (id: string) => `/bots/${encodeURIComponent(id)}`;

/**
 * What an operator decides about a bot that reconciliation paused: take the venue's positions
 * and orders as they are, or re-check after correcting the account on the venue.
 */
const ReconcileDecision: FC<{ bot: BotRow; csrf: string }> = ({ bot, csrf }) => (
  <form class="reconcile-decision" hx-post={`${botPath(bot.id)}/reconcile`} hx-target={`#${BOT_SUMMARY_ID}`} hx-swap="outerHTML" method="post" action={`${botPath(bot.id)}/reconcile`}>
    <CsrfField token={csrf} />
    <input type="hidden" name="view" value="summary" />
    <p class="small">
      The venue's account differs from what this bot's orders explain. <strong>Accept</strong> takes the venue's positions and
      open orders as the bot's new starting point; <strong>Re-check</strong> compares again after you corrected the account on
      the venue. Either resumes the bot when nothing is left to decide.
    </p>
    <div class="form-row">
      <input type="text" name="reason" maxlength={500} placeholder="Reason (recorded in the audit log)" aria-label="Reason" />
      <button type="submit" class="btn btn-sm btn-primary" name="decision" value="accept" data-action="reconcile-accept">
        Accept venue state
      </button>
      <button type="submit" class="btn btn-sm" name="decision" value="recheck" data-action="reconcile-recheck">
        Re-check
      </button>
    </div>
  </form>
);

/** The summary block at the top of the detail page (refreshed live and after commands). */
export const BotSummary: FC<{ bot: BotRow; now: number; access: Access; message?: RowMessage | undefined }> = ({ bot, now, access, message }) => (
  <section id={BOT_SUMMARY_ID} class="panel summary" data-bot-id={bot.id}>
    <div class="summary-head">
      <div>
        <h1>
          {bot.name} <span class="mono muted h-sub">{bot.id}</span>
        </h1>
        <div class="summary-state">
          <StateBadge bot={bot} />
          {bot.stateDetail && bot.stateDetail !== bot.status ? <span class="mono muted">{bot.stateDetail}</span> : null}
        </div>
      </div>
      <div class="summary-actions">
        <BotActions bot={bot} target={`#${BOT_SUMMARY_ID}`} view="summary" access={access} />
        {message ? (
          <div class={`row-msg ${message.ok ? 'ok' : 'err'}`} role={message.ok ? 'status' : 'alert'}>
            {message.text}
          </div>
        ) : null}
      </div>
    </div>
    {bot.pause ? <div class="notice notice-warn">{pauseText(bot.pause)}</div> : null}
    {bot.pause?.by === 'reconcile' && bot.status === 'paused' && access.bot(bot).resume ? <ReconcileDecision bot={bot} csrf={access.csrf} /> : null}
    {bot.error ? <div class="notice notice-bad">{errorText(bot.error)}</div> : null}
    {bot.escalated ? (
      <div class="notice notice-bad">Escalated after too many restarts: only an operator restart brings it back.</div>
    ) : null}
    <dl class="kv-grid">
      <div>
        <dt>User</dt>
        <dd>
          {bot.userName || DASH} <span class="mono muted">{bot.userId}</span>
        </dd>
      </div>
      <div>
        <dt>Manager</dt>
        <dd>
          <a href={`/bots?${filterQuery({ page: 1, manager: bot.managerId })}`}>{bot.managerName || bot.managerId}</a>
        </dd>
      </div>
      <div>
        <dt>Strategy</dt>
        <dd class="mono">{bot.strategy}</dd>
      </div>
      <div>
        <dt>Portfolio value</dt>
        <dd class="num">
          <Money value={bot.portfolioValue} />
        </dd>
      </div>
      <div>
        <dt>ROE</dt>
        <dd class="num">
          <Pct value={bot.roe} />
        </dd>
      </div>
      <div>
        <dt>Last cycle (UTC)</dt>
        <dd class="num">
          <Time ms={bot.lastCycleAt} now={now} full />
        </dd>
      </div>
    </dl>
  </section>
);

const VerdictBadge: FC<{ v: Verdict | null }> = ({ v }) =>
  v ? (
    <span>
      <Badge tone={verdictTone(v.verdict)} title={v.reason ?? undefined}>
        {v.verdict}
      </Badge>
      {v.reason ? <span class="sub-inline">{v.reason}</span> : null}
    </span>
  ) : (
    <span class="muted">{DASH}</span>
  );

const Targets: FC<{ targets: TargetWeights | null }> = ({ targets }) => {
  if (!targets) return <p class="muted small">No target weights recorded.</p>;
  const entries = Object.entries(targets);
  if (entries.length === 0) return <p class="muted small">Flat: no targets (all weights zero).</p>;
  return (
    <table class="grid grid-compact">
      <thead>
        <tr>
          <th>Symbol</th>
          <th class="num">Weight</th>
          <th class="num">Stop loss</th>
          <th class="num">Take profit</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([symbol, t]) => (
          <tr>
            <td class="mono">{symbol}</td>
            <td class={`num ${signClass(t.weight)}`}>{formatWeight(t.weight)}</td>
            <td class="num">{t.stopLoss ?? DASH}</td>
            <td class="num">{t.takeProfit ?? DASH}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};

const Plan: FC<{ plan: unknown }> = ({ plan }) => {
  const view = readPlan(plan);
  if (!view) {
    return (
      <details class="raw" open>
        <summary>Plan (raw)</summary>
        <pre class="json">{prettyJson(plan)}</pre>
      </details>
    );
  }
  return (
    <>
      {view.orders.length === 0 ? (
        <p class="muted small">No orders planned.</p>
      ) : (
        <table class="grid grid-compact plan">
          <thead>
            <tr>
              <th>Symbol</th>
              <th>Side</th>
              <th>Type</th>
              <th class="num">Amount</th>
              <th class="num">Price</th>
              <th>Flags</th>
              <th>Risk decision</th>
              <th>Outcome</th>
              <th>Client order id</th>
            </tr>
          </thead>
          <tbody>
            {view.orders.map((o) => (
              <tr>
                <td class="mono">{o.symbol ?? DASH}</td>
                <td class={o.side === 'buy' ? 'pos' : o.side === 'sell' ? 'neg' : undefined}>{o.side ?? DASH}</td>
                <td>{o.type ?? DASH}</td>
                <td class="num">{formatAmount(o.amount)}</td>
                <td class="num">{formatAmount(o.price)}</td>
                <td class="small">
                  {[o.reduceOnly ? 'reduce-only' : null, o.stopLoss ? `SL ${o.stopLoss}` : null, o.takeProfit ? `TP ${o.takeProfit}` : null]
                    .filter(Boolean)
                    .join(' · ') || DASH}
                </td>
                <td>
                  <VerdictBadge v={o.risk} />
                </td>
                <td>
                  <VerdictBadge v={o.outcome} />
                </td>
                <td class="mono small">{o.clientOrderId ?? DASH}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.dropped.length > 0 ? (
        <ul class="dropped small">
          {view.dropped.map((d) => (
            <li>
              <span class="mono">{d.symbol ?? DASH}</span> dropped: {d.reason}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
};

const cycleTone = (s: CycleRecord['status']) => (s === 'completed' ? 'ok' : s === 'failed' ? 'bad' : s === 'started' ? 'info' : 'warn');

const Cycle: FC<{ c: CycleRecord; now: number; open: boolean }> = ({ c, now, open }) => (
  <details class="cycle" open={open} data-cycle-id={c.cycleId}>
    <summary>
      <span class="mono">{c.cycleId}</span>
      <Badge tone={cycleTone(c.status)}>{c.status}</Badge>
      <span class="muted">
        <Time ms={c.startedAt} now={now} full />
      </span>
      <span class="mono muted">{c.strategyRef}</span>
      {c.error ? <span class="err-text trunc">{c.error}</span> : null}
    </summary>
    <div class="cycle-body">
      <dl class="kv-inline small">
        <div>
          <dt>Candles</dt>
          <dd class="mono">
            {c.candleFrom === null && c.candleTo === null
              ? DASH
              : `${formatDateTime(c.candleFrom)} → ${formatDateTime(c.candleTo)}`}
          </dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>
            <Time ms={c.finishedAt} now={now} full />
          </dd>
        </div>
        <div>
          <dt>Params</dt>
          <dd class="mono">{JSON.stringify(c.params)}</dd>
        </div>
      </dl>
      {c.error ? <div class="notice notice-bad">{c.error}</div> : null}
      <div class="cycle-cols">
        <div>
          <h4>Target weights</h4>
          <Targets targets={c.targets} />
        </div>
        <div class="grow">
          <h4>Planned orders</h4>
          <Plan plan={c.plan} />
        </div>
      </div>
    </div>
  </details>
);

const orderTone = (s: OrderRecord['status']) =>
  s === 'closed' ? 'ok' : s === 'open' || s === 'pending' ? 'info' : s === 'canceled' ? 'neutral' : 'bad';

const Orders: FC<{ orders: readonly OrderRecord[]; now: number }> = ({ orders, now }) => (
  <table class="grid grid-compact">
    <thead>
      <tr>
        <th class="num">Time (UTC)</th>
        <th>Symbol</th>
        <th>Side</th>
        <th>Type</th>
        <th class="num">Amount</th>
        <th class="num">Price</th>
        <th class="num">Filled</th>
        <th class="num">Avg</th>
        <th class="num">Fee</th>
        <th>Status</th>
        <th>Reason</th>
        <th>Client id</th>
      </tr>
    </thead>
    <tbody>
      {orders.length === 0 ? (
        <EmptyRow cols={12} text="No orders yet." />
      ) : (
        orders.map((o) => (
          <tr>
            <td class="num">
              <Time ms={o.createdAt} now={now} />
            </td>
            <td class="mono">{o.symbol}</td>
            <td class={o.side === 'buy' ? 'pos' : 'neg'}>{o.side}</td>
            <td>
              {o.type}
              {o.reduceOnly ? <span class="sub-inline">reduce-only</span> : null}
            </td>
            <td class="num">{formatAmount(o.amount)}</td>
            <td class="num">{formatAmount(o.price ?? null)}</td>
            <td class="num">{formatAmount(o.filled)}</td>
            <PriceCell value={o.average} />
            <td class="num">{formatAmount(o.fee)}</td>
            <td>
              <Badge tone={orderTone(o.status)}>{o.status}</Badge>
            </td>
            <td class="small">{o.reason ?? <span class="muted">{DASH}</span>}</td>
            <td class="mono small">{o.clientOrderId}</td>
          </tr>
        ))
      )}
    </tbody>
  </table>
);

/** Tone of an event's severity. */
export const severityTone = (s: EventRecord['severity']) =>
  s === 'critical' || s === 'error' ? 'bad' : s === 'warning' ? 'warn' : s === 'info' ? 'info' : 'neutral';

const Events: FC<{ events: readonly EventRecord[]; now: number }> = ({ events, now }) => (
  <table class="grid grid-compact">
    <thead>
      <tr>
        <th class="num">Time (UTC)</th>
        <th>Severity</th>
        <th>Type</th>
        <th>By</th>
        <th>Message</th>
      </tr>
    </thead>
    <tbody>
      {events.length === 0 ? (
        <EmptyRow cols={5} text="No events yet." />
      ) : (
        events.map((e) => (
          <tr>
            <td class="num">
              <Time ms={e.at} now={now} />
            </td>
            <td>
              <Badge tone={severityTone(e.severity)}>{e.severity}</Badge>
            </td>
            <td class="mono">{e.type}</td>
            <td>{e.actor ?? <span class="muted">{DASH}</span>}</td>
            <td>{e.message}</td>
          </tr>
        ))
      )}
    </tbody>
  </table>
);

/**
 * The version select and params textarea of the assign form (swapped when the version changes):
 * a bot's (`botId`), or the new-bot form's (`fieldsUrl` and `target` say where the fragment comes
 * from and goes). `paramsText` keeps what was typed when a refused form is shown again.
 */
export const AssignFields: FC<{
  botId?: string;
  fieldsUrl?: string;
  target?: string;
  versions: readonly StrategyVersionRow[];
  selected: string | null;
  paramsText?: string | undefined;
}> = ({ botId, fieldsUrl, target, versions, selected, paramsText }) => {
  const current = versions.find((v) => `${v.name}@${v.version}` === selected) ?? versions[0];
  const names = [...new Set(versions.map((v) => v.name))];
  return (
    <>
      <label class="field">
        <span>Strategy version</span>
        <select
          name="ref"
          required
          hx-get={fieldsUrl ?? `${botPath(botId ?? '')}/assign-fields`}
          hx-target={target ?? '#assign-fields'}
          hx-swap="innerHTML"
        >
          {names.map((name) => (
            <optgroup label={name}>
              {versions
                .filter((v) => v.name === name)
                .map((v) => {
                  const ref = `${v.name}@${v.version}`;
                  return (
                    <option value={ref} selected={current !== undefined && ref === `${current.name}@${current.version}`}>
                      {ref} · {v.hash.slice(0, 8)}
                    </option>
                  );
                })}
            </optgroup>
          ))}
        </select>
      </label>
      {current ? <p class="small muted">{current.meta.description || 'No description.'}</p> : null}
      <label class="field">
        <span>Params (JSON object; empty uses the version's defaults)</span>
        <textarea name="params" rows={8} class="mono" spellcheck={false}>
          {paramsText ?? (current ? prettyJson(current.meta.defaults) : '{}')}
        </textarea>
      </label>
    </>
  );
};

/** The assign-strategy form. */
export const AssignForm: FC<{
  botId: string;
  versions: readonly StrategyVersionRow[];
  selected: string | null;
  csrf: string;
  unavailable?: string | undefined;
}> = ({ botId, versions, selected, csrf, unavailable }) => {
  if (unavailable) return <div class="notice notice-bad">Strategy versions are unavailable: {unavailable}</div>;
  if (versions.length === 0) return <p class="muted">No strategy versions are registered yet.</p>;
  return (
    <form
      id="assign-form"
      class="form"
      method="post"
      action={`${botPath(botId)}/strategy`}
      hx-post={`${botPath(botId)}/strategy`}
      hx-target="#assign-result"
      hx-swap="innerHTML"
    >
      <CsrfField token={csrf} />
      <div id="assign-fields">
        <AssignFields botId={botId} versions={versions} selected={selected} />
      </div>
      <div class="form-row">
        <label class="field grow">
          <span>Reason (optional)</span>
          <input name="reason" maxlength={500} />
        </label>
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary">
          Assign version
        </button>
        <div id="assign-result" class="form-result" aria-live="polite"></div>
      </div>
    </form>
  );
};

/** The bot detail page content. */
export const BotDetailPage: FC<{
  detail: BotDetail;
  versions: readonly StrategyVersionRow[];
  versionsError?: string | undefined;
  now: number;
  access: Access;
}> = ({ detail, versions, versionsError, now, access }) => {
  const bot = detail.bot;
  return (
    <div class="page" id="bot-page">
      <div class="crumbs">
        <a href="/bots">Bots</a> › <span>{bot.name}</span>
      </div>
      <BotSummary bot={bot} now={now} access={access} />
      <div class="cols">
        <Panel title="Params">
          <pre class="json">{prettyJson(detail.params)}</pre>
        </Panel>
        <Panel title="Positions" count={detail.positions.length}>
          <table class="grid grid-compact">
            <thead>
              <tr>
                <th>Symbol</th>
                <th>Side</th>
                <th class="num">Amount</th>
                <th class="num">Entry</th>
                <th class="num">Mark</th>
                <th class="num">uPnL</th>
                <th class="num">Liq.</th>
                <th class="num">SL</th>
                <th class="num">TP</th>
              </tr>
            </thead>
            <tbody>
              {detail.positions.length === 0 ? (
                <EmptyRow cols={9} text="No open positions." />
              ) : (
                detail.positions.map((p) => (
                  <tr>
                    <td class="mono">{p.symbol}</td>
                    <td class={p.side === 'long' ? 'pos' : 'neg'}>{p.side}</td>
                    <td class="num">{formatAmount(p.amount)}</td>
                    <PriceCell value={p.entryPrice} />
                    <td class="num">{formatAmount(p.markPrice)}</td>
                    <td class={`num ${signClass(p.unrealizedPnl)}`}>{formatMoney(p.unrealizedPnl)}</td>
                    <td class="num">{formatAmount(p.liquidationPrice)}</td>
                    <td class="num">{formatAmount(p.stopLoss)}</td>
                    <td class="num">{formatAmount(p.takeProfit)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </Panel>
      </div>
      <Panel title="Recent cycles" count={detail.cycles.length}>
        <p class="small muted panel-note">
          Each cycle is a decision record: the candles the strategy saw, the target weights it returned, and every planned
          order with its risk decision and outcome.
        </p>
        {detail.cycles.length === 0 ? (
          <p class="muted">No cycles recorded yet.</p>
        ) : (
          detail.cycles.map((c, i) => <Cycle c={c} now={now} open={i === 0} />)
        )}
      </Panel>
      <Panel title="Recent orders" count={detail.orders.length}>
        <Orders orders={detail.orders} now={now} />
      </Panel>
      <div class="cols">
        <Panel title="Recent events" count={detail.events.length}>
          <Events events={detail.events} now={now} />
        </Panel>
        {access.bot(bot).assign ? (
          <Panel title="Assign strategy version">
            <AssignForm botId={bot.id} versions={versions} selected={bot.strategy} csrf={access.csrf} unavailable={versionsError} />
          </Panel>
        ) : null}
      </div>
    </div>
  );
};
