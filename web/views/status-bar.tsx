/**
 * The platform status bar on every page: counts per state, total PV and ROE, the TRADING
 * PAUSED banner, and the Pause All / Resume All buttons with their confirmation dialogs.
 */
import type { FC } from 'hono/jsx';
import type { PlatformStatus } from '../../runtime/api.ts';
import { TraderStatus } from '../../runtime/domain.ts';
import type { Access } from '../access.ts';
import { formatDateTime } from '../format.ts';
import { CsrfField, Money, Pct } from './components.tsx';

/** DOM id of the status bar (the target of out-of-band refreshes). */
export const STATUS_BAR_ID = 'status-bar';

const STATES: readonly TraderStatus[] = [
  TraderStatus.running,
  TraderStatus.starting,
  TraderStatus.paused,
  TraderStatus.error,
  TraderStatus.stopped,
];

/** The status bar; the Pause All / Resume All button shows only to those who may use it. */
export const StatusBar: FC<{ status: PlatformStatus; access: Access }> = ({ status, access }) => {
  const pause = status.pause;
  return (
    <header
      id={STATUS_BAR_ID}
      class={`statusbar${status.tradingPaused ? ' is-paused' : ''}`}
      data-trading-paused={status.tradingPaused ? 'true' : 'false'}
    >
      {status.tradingPaused ? (
        <div class="paused-banner" role="alert" id="paused-banner">
          <strong>TRADING PAUSED</strong>
          {pause ? (
            <span class="paused-who">
              by <b class="paused-by">{pause.by}</b> — <span class="paused-reason">{pause.reason}</span>
              <span class="paused-at"> · since {formatDateTime(pause.at)} UTC</span>
            </span>
          ) : (
            <span class="paused-who">no pause details recorded</span>
          )}
        </div>
      ) : null}
      <div class="statusbar-row">
        <div class="counts" aria-label="Traders per state">
          {STATES.map((s) => (
            <a class={`count state-${s}`} href={`/bots?status=${s}`} title={`Show ${s} traders`}>
              <span class="count-n">{status.counts[s] ?? 0}</span>
              <span class="count-label">{s}</span>
            </a>
          ))}
        </div>
        <div class="kpis">
          <div class="kpi">
            <span class="kpi-label">Portfolio value</span>
            <span class="kpi-value num">
              <Money value={status.portfolioValue} />
            </span>
          </div>
          <div class="kpi">
            <span class="kpi-label">ROE</span>
            <span class="kpi-value num">
              <Pct value={status.roe} />
            </span>
          </div>
        </div>
        <div class="statusbar-actions">
          {status.tradingPaused ? (
            access.platform.resumeAll ? (
              <button type="button" class="btn btn-primary" data-dialog-open="resume-all-dialog">
                Resume All Trading
              </button>
            ) : null
          ) : access.platform.pauseAll ? (
            <button type="button" class="btn btn-danger" data-dialog-open="pause-all-dialog">
              Pause All Trading
            </button>
          ) : null}
        </div>
      </div>
    </header>
  );
};

/**
 * The confirmation dialogs for Pause All and Resume All (native `<dialog>`, opened by app.js),
 * for those who may use them. The command is recorded as the signed-in user.
 */
export const PlatformDialogs: FC<{ access: Access }> = ({ access }) => (
  <>
    {access.platform.pauseAll ? (
    <dialog id="pause-all-dialog" class="dialog" aria-labelledby="pause-all-title">
      <form
        method="post"
        action="/platform/pause-all"
        hx-post="/platform/pause-all"
        hx-target={`#${STATUS_BAR_ID}`}
        hx-swap="outerHTML"
        data-dialog-form="true"
      >
        <CsrfField token={access.csrf} />
        <h2 id="pause-all-title">Pause all trading</h2>
        <p class="dialog-text">
          Every trader stops starting cycles and the order gate refuses new orders until someone resumes trading.
          Open positions stay open. Recorded as <b>{access.principal?.displayName ?? ''}</b>.
        </p>
        <label class="field">
          <span>Reason</span>
          <textarea name="reason" required maxlength={500} rows={3}></textarea>
        </label>
        <div id="pause-all-error" class="form-error" role="alert"></div>
        <div class="dialog-actions">
          <button type="button" class="btn" data-dialog-close="true">
            Cancel
          </button>
          <button type="submit" class="btn btn-danger">
            Pause all trading
          </button>
        </div>
      </form>
    </dialog>
    ) : null}
    {access.platform.resumeAll ? (
    <dialog id="resume-all-dialog" class="dialog" aria-labelledby="resume-all-title">
      <form
        method="post"
        action="/platform/resume-all"
        hx-post="/platform/resume-all"
        hx-target={`#${STATUS_BAR_ID}`}
        hx-swap="outerHTML"
        data-dialog-form="true"
      >
        <CsrfField token={access.csrf} />
        <h2 id="resume-all-title">Resume all trading</h2>
        <p class="dialog-text">
          Lifts the platform-wide pause: the order gate opens again and traders paused by Pause All resume. Recorded as{' '}
          <b>{access.principal?.displayName ?? ''}</b>.
        </p>
        <label class="field">
          <span>Reason (optional)</span>
          <textarea name="reason" maxlength={500} rows={2}></textarea>
        </label>
        <div id="resume-all-error" class="form-error" role="alert"></div>
        <div class="dialog-actions">
          <button type="button" class="btn" data-dialog-close="true">
            Cancel
          </button>
          <button type="submit" class="btn btn-primary">
            Resume all trading
          </button>
        </div>
      </form>
    </dialog>
    ) : null}
  </>
);
