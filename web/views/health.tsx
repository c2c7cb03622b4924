/**
 * The health page: what `/health` reports, for a person.
 */
import type { FC } from 'hono/jsx';
import type { HealthInfo } from '../../runtime/api.ts';
import { formatDuration } from '../format.ts';
import { Badge, Panel, Time } from './components.tsx';

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
  </div>
);
