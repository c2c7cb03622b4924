/**
 * The strategies page: registered versions with their pinned traders and params schema, and
 * the registry's files with the error text of broken ones. Refreshed live on `strategies.changed`.
 */
import type { FC } from 'hono/jsx';
import type { StrategiesView } from '../../runtime/api.ts';
import { DASH, prettyJson, shortHash } from '../format.ts';
import { Badge, EmptyRow, Panel, Time } from './components.tsx';

/** DOM id of the refreshable strategies content. */
export const STRATEGIES_CONTENT_ID = 'strategies-content';

/** The refreshable part of the page. */
export const StrategiesContent: FC<{ view: StrategiesView; now: number }> = ({ view, now }) => {
  const broken = view.files.filter((f) => f.status === 'broken').length;
  return (
    <div id={STRATEGIES_CONTENT_ID} class="stack">
      <Panel title="Versions" count={view.versions.length}>
        <table class="grid" id="versions-table">
          <thead>
            <tr>
              <th>Name</th>
              <th class="num">Version</th>
              <th>Hash</th>
              <th>File</th>
              <th class="num">Created (UTC)</th>
              <th class="num">Traders</th>
              <th>Description</th>
              <th>Params schema</th>
            </tr>
          </thead>
          <tbody>
            {view.versions.length === 0 ? (
              <EmptyRow cols={8} text="No strategy versions registered." />
            ) : (
              view.versions.map((v) => (
                <tr data-ref={`${v.name}@${v.version}`}>
                  <td class="strong nowrap">{v.name}</td>
                  <td class="num">{v.version}</td>
                  <td class="mono" title={v.hash}>
                    {shortHash(v.hash)}
                  </td>
                  <td class="mono nowrap">{v.filename}</td>
                  <td class="num">
                    <Time ms={v.createdAt} now={now} full />
                  </td>
                  <td class="num">
                    {v.traders > 0 ? <a href={`/bots?q=${encodeURIComponent(`${v.name}@${v.version}`)}`}>{v.traders}</a> : v.traders}
                  </td>
                  <td class="col-desc">
                    {v.meta.description || <span class="muted">{DASH}</span>}
                    <div class="sub">
                      {v.meta.timeframe} · lookback {v.meta.lookback} · {v.meta.universe.join(', ') || 'no universe'}
                    </div>
                  </td>
                  <td>
                    <details class="raw">
                      <summary>schema</summary>
                      <pre class="json">{prettyJson(v.meta.paramsSchema)}</pre>
                      <div class="small muted">defaults</div>
                      <pre class="json">{prettyJson(v.meta.defaults)}</pre>
                    </details>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Panel>
      <Panel title="Registry files" count={view.files.length} tools={broken > 0 ? <Badge tone="bad">{broken} broken</Badge> : null}>
        <table class="grid" id="files-table">
          <thead>
            <tr>
              <th>File</th>
              <th>Status</th>
              <th>Version</th>
              <th>Hash</th>
              <th class="num">Updated (UTC)</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {view.files.length === 0 ? (
              <EmptyRow cols={6} text="The registry folder has no strategy files." />
            ) : (
              view.files.map((f) => (
                <tr class={`file-${f.status}`} data-file={f.filename}>
                  <td class="mono nowrap">{f.filename}</td>
                  <td>
                    <Badge tone={f.status === 'valid' ? 'ok' : 'bad'}>{f.status}</Badge>
                  </td>
                  <td class="mono">{f.name && f.version !== null ? `${f.name}@${f.version}` : DASH}</td>
                  <td class="mono" title={f.hash}>
                    {shortHash(f.hash)}
                  </td>
                  <td class="num">
                    <Time ms={f.updatedAt} now={now} full />
                  </td>
                  <td>{f.error ? <pre class="error-text">{f.error}</pre> : <span class="muted">{DASH}</span>}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </Panel>
    </div>
  );
};

/** The strategies page content. */
export const StrategiesPage: FC<{ view: StrategiesView; now: number }> = ({ view, now }) => (
  <div class="page" id="strategies-page">
    <div class="page-head">
      <h1>Strategies</h1>
    </div>
    <StrategiesContent view={view} now={now} />
  </div>
);
