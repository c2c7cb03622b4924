/**
 * The health page: what `/health` reports, for a person.
 */
import type { FC } from 'hono/jsx';
import type { ExchangeStats, HealthInfo } from '../../runtime/api.ts';
import { formatDuration } from '../format.ts';
import { Badge, EmptyRow, Panel, Time } from './components.tsx';

const count = (n: number) => n.toLocaleString('en-US');

/** The live venues in use: requests, the IP budget's use, rate-limit hits, queue and back-off. */
export const ExchangesPanel: FC<{ exchanges: readonly ExchangeStats[]; now: number }> = ({ exchanges, now }) => (
  <Panel title="Exchanges" count={exchanges.length} id="exchanges-panel">
    <div class="table-wrap">
      <table class="grid" id="exchanges-table">
        <thead>
          <tr>
            <th>Venue</th>
            <th class="num" title="Exchange keys with an open connection">Keys</th>
            <th class="num" title="Traders trading on this venue">Traders</th>
            <th class="num" title="Requests granted since start">Requests</th>
            <th class="num" title="Weight (or requests) used in the current window of this address's budget">Weight used / capacity</th>
            <th class="num" title="Rate-limit answers (429, 418 or the venue's code) since start">Rate-limit hits</th>
            <th class="num" title="Requests waiting for budget now">Queued</th>
            <th>Backing off until (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {exchanges.length === 0 ? (
            <EmptyRow cols={8} text="No live venue in use (paper trading only)." />
          ) : (
            exchanges.map((x) => {
              const share = x.weightCapacity > 0 ? x.weightUsed / x.weightCapacity : 0;
              const backingOff = x.pausedUntil !== null && x.pausedUntil > now;
              return (
                <tr data-venue={x.venue} class={backingOff ? 'row-error' : share >= 0.8 ? 'row-paused' : undefined}>
                  <td class="mono">{x.venue}</td>
                  <td class="num">{count(x.keys)}</td>
                  <td class="num">{count(x.traders)}</td>
                  <td class="num">{count(x.requests)}</td>
                  <td class="num">
                    {count(x.weightUsed)} / {count(x.weightCapacity)} <span class="muted">({Math.round(share * 100)} %)</span>
                  </td>
                  <td class="num">{x.rateLimitHits > 0 ? <Badge tone="warn">{count(x.rateLimitHits)}</Badge> : '0'}</td>
                  <td class="num">{count(x.queued)}</td>
                  <td>{backingOff ? <Time ms={x.pausedUntil} now={now} full /> : <span class="muted">not backing off</span>}</td>
                </tr>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  </Panel>
);

/** The health page content. */
export const HealthPage: FC<{ health: HealthInfo | null; error?: string | undefined; consoleUptimeMs: number; now: number }> = ({
  health,
  error,
  consoleUptimeMs,
  now,
}) => (
  <div class="page" id="health-page">
    <div class="page-head">
      <h1>Health</h1>
      <a class="btn btn-sm" href="/health">
        Raw JSON
      </a>
    </div>
    {error || !health ? (
      <div class="notice notice-bad">Health check failed: {error ?? 'no answer'}</div>
    ) : (
      <Panel title="Platform" tools={<Badge tone={health.status === 'ok' ? 'ok' : 'bad'}>{health.status}</Badge>}>
        <dl class="kv-grid">
          <div>
            <dt>Status</dt>
            <dd>
              <Badge tone={health.status === 'ok' ? 'ok' : 'bad'}>{health.status}</Badge>
            </dd>
          </div>
          <div>
            <dt>Runtime uptime</dt>
            <dd class="num">{formatDuration(health.uptimeMs)}</dd>
          </div>
          <div>
            <dt>Console uptime</dt>
            <dd class="num">{formatDuration(consoleUptimeMs)}</dd>
          </div>
          <div>
            <dt>Database</dt>
            <dd>
              {health.database} <Badge tone={health.databaseOk ? 'ok' : 'bad'}>{health.databaseOk ? 'ok' : 'down'}</Badge>
            </dd>
          </div>
          <div>
            <dt>Traders</dt>
            <dd class="num">{health.traders}</dd>
          </div>
          <div>
            <dt>Trading</dt>
            <dd>{health.tradingPaused ? <Badge tone="bad">paused</Badge> : <Badge tone="ok">enabled</Badge>}</dd>
          </div>
          <div>
            <dt>Compute pool</dt>
            <dd class="num">
              {health.pool.threads} threads · {health.pool.queued} queued · {health.pool.completed} done
            </dd>
          </div>
          <div>
            <dt>Market data</dt>
            <dd>
              {health.market.symbols} symbols · last candle <Time ms={health.market.lastCandleAt} now={now} full />
            </dd>
          </div>
          <div>
            <dt>Checked at (UTC)</dt>
            <dd>
              <Time ms={health.now} now={now} full />
            </dd>
          </div>
        </dl>
      </Panel>
    )}
    {health ? <ExchangesPanel exchanges={health.exchanges ?? []} now={now} /> : null}
  </div>
);
