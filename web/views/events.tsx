/**
 * The events page: the latest platform events, newest first.
 */
import type { FC } from 'hono/jsx';
import type { EventRecord } from '../../runtime/store/types.ts';
import { DASH, prettyJson } from '../format.ts';
import { severityTone } from './bot-detail.tsx';
import { Badge, EmptyRow, Panel, Time } from './components.tsx';

/** The choices of the "show" selector. */
export const EVENT_LIMITS = [50, 100, 200, 500, 1000] as const;

/** The selector's choices: the standard ones, plus the page's own limit when it came from the URL. */
export function limitChoices(limit: number): readonly number[] {
  return [...new Set<number>([...EVENT_LIMITS, limit])].sort((a, b) => a - b);
}

/** The events page content (also its own refresh fragment). */
export const EventsPage: FC<{ events: readonly EventRecord[]; limit: number; now: number }> = ({ events, limit, now }) => (
  <div class="page" id="events-page">
    <div class="page-head">
      <h1>Events</h1>
    </div>
    <Panel
      title="Latest events"
      count={events.length}
      tools={
        <form class="filters compact" method="get" action="/events/recent">
          <label class="inline-field">
            <span>Show</span>
            <select name="limit">
              {limitChoices(limit).map((n) => (
                <option value={String(n)} selected={n === limit}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="btn btn-sm">
            Apply
          </button>
          <button
            type="button"
            class="btn btn-sm"
            hx-get={`/events/recent?limit=${limit}`}
            hx-target="#events-page"
            hx-swap="outerHTML"
          >
            Refresh
          </button>
        </form>
      }
    >
      <table class="grid" id="events-table">
        <thead>
          <tr>
            <th class="num">Time (UTC)</th>
            <th>Severity</th>
            <th>Type</th>
            <th>Trader</th>
            <th>Manager</th>
            <th>By</th>
            <th>Message</th>
            <th>Data</th>
          </tr>
        </thead>
        <tbody>
          {events.length === 0 ? (
            <EmptyRow cols={8} text="No events recorded yet." />
          ) : (
            events.map((e) => (
              <tr class={`sev-${e.severity}`}>
                <td class="num">
                  <Time ms={e.at} now={now} full />
                </td>
                <td>
                  <Badge tone={severityTone(e.severity)}>{e.severity}</Badge>
                </td>
                <td class="mono">{e.type}</td>
                <td class="mono">{e.traderId ? <a href={`/bots/${encodeURIComponent(e.traderId)}`}>{e.traderId}</a> : <span class="muted">{DASH}</span>}</td>
                <td class="mono">{e.managerId ?? <span class="muted">{DASH}</span>}</td>
                <td>{e.actor ?? <span class="muted">{DASH}</span>}</td>
                <td>{e.message}</td>
                <td>
                  {e.data && Object.keys(e.data).length > 0 ? (
                    <details class="raw">
                      <summary>data</summary>
                      <pre class="json">{prettyJson(e.data)}</pre>
                    </details>
                  ) : (
                    <span class="muted">{DASH}</span>
                  )}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </Panel>
  </div>
);
