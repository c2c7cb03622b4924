/**
 * The live stream, `GET /events`: server-sent events fed by `api.subscribe()`. Every message
 * is unnamed (htmx 4 swaps only unnamed messages) and holds `<hx-partial>` fragments that
 * replace elements of the page by id: bot rows, the status bar, the managers table, a bot's summary,
 * the strategies content. Bursts are coalesced per client into at most one message per
 * `coalesceMs`, a comment goes out every `heartbeatMs`, and the subscription ends with the
 * connection.
 */
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { can, visibleManagers, visibleTraders } from '../runtime/accounts/index.ts';
import type { BotRow, LiveChange } from '../runtime/api.ts';
import { assertNever, errorMessage } from '../runtime/domain.ts';
import type { Access } from './access.ts';
import { authOf } from './auth.ts';
import type { BotFilter } from './bot-filter.ts';
import { botFilterSchema, matchesStable, selectBots } from './bot-filter.ts';
import { accessOf, renderHtml } from './respond.tsx';
import { statusFor } from './scope.ts';
import type { AppEnv, ResolvedDeps } from './types.ts';
import { BOT_SUMMARY_ID, BotSummary } from './views/bot-detail.tsx';
import { BOTS_BODY_ID, BotRowView, BotsBody, MANAGERS_BODY_ID, ManagersBody, botRowId } from './views/bots.tsx';
import { SESSION_ENDED_EVENT } from './views/layout.tsx';
import { Partial } from './views/partial.tsx';
import { STATUS_BAR_ID, StatusBar } from './views/status-bar.tsx';
import { STRATEGIES_CONTENT_ID, StrategiesContent } from './views/strategies.tsx';

/** What one client's page shows, so the stream sends only what that page can use. */
export type LiveView =
  | { readonly kind: 'bots'; readonly filter: BotFilter }
  | { readonly kind: 'bot'; readonly id: string }
  | { readonly kind: 'strategies' }
  | { readonly kind: 'status' };

/** Changes gathered since the last message. */
export interface PendingChanges {
  /** Latest row per changed bot. */
  readonly bots: Map<string, BotRow>;
  platform: boolean;
  strategies: boolean;
  /** Re-send everything the view shows (first message of a connection). */
  full: boolean;
}

function emptyPending(): PendingChanges {
  return { bots: new Map(), platform: false, strategies: false, full: false };
}

function hasPending(p: PendingChanges): boolean {
  return p.full || p.platform || p.strategies || p.bots.size > 0;
}

/** Timer functions (injectable for tests). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** What a feed needs: how to render gathered changes, and how to write to its client. */
export interface LiveFeedOptions {
  readonly coalesceMs: number;
  readonly heartbeatMs: number;
  /** Renders the gathered changes as one message body, or null when nothing applies to the view. */
  render(changes: PendingChanges): Promise<string | null>;
  send(data: string, id: string): Promise<void>;
  ping(): Promise<void>;
  onError(err: unknown): void;
  readonly timers?: Timers;
}

/**
 * One client's coalescing buffer: changes accumulate (latest row per bot) and go out as one
 * message when the window closes; writes never overlap, so a slow client only delays, never
 * piles up messages.
 */
export class LiveFeed {
  private pending = emptyPending();
  private timer: unknown = null;
  private heartbeat: unknown = null;
  private busy = false;
  private closed = false;
  private seq = 0;
  private readonly timers: Timers;

  constructor(private readonly opts: LiveFeedOptions) {
    this.timers = opts.timers ?? realTimers;
  }

  /** Starts the heartbeat and queues a full refresh (closes the gap between page render and connect). */
  start(): void {
    this.heartbeat = this.timers.setInterval(() => void this.beat(), this.opts.heartbeatMs);
    this.pending.full = true;
    this.schedule(0);
  }

  /** Records one change. */
  push(change: LiveChange): void {
    if (this.closed) return;
    switch (change.type) {
      case 'bot.changed':
        this.pending.bots.set(change.bot.id, change.bot);
        break;
      case 'platform.changed':
        this.pending.platform = true;
        break;
      case 'strategies.changed':
        this.pending.strategies = true;
        break;
      case 'fleet.changed':
        this.pending.full = true;
        break;
      default:
        assertNever(change, 'live change');
    }
    this.schedule(this.opts.coalesceMs);
  }

  /** Stops timers; later changes are ignored. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    if (this.heartbeat !== null) this.timers.clearInterval(this.heartbeat);
    this.timer = null;
    this.heartbeat = null;
  }

  private schedule(ms: number): void {
    if (this.closed || this.busy || this.timer !== null) return;
    this.timer = this.timers.setTimeout(() => void this.flush(), ms);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    if (this.closed || this.busy || !hasPending(this.pending)) return;
    const changes = this.pending;
    this.pending = emptyPending();
    this.busy = true;
    try {
      const data = await this.opts.render(changes);
      if (data && !this.closed) await this.opts.send(data, String(++this.seq));
    } catch (err) {
      this.opts.onError(err);
    } finally {
      this.busy = false;
      if (hasPending(this.pending)) this.schedule(this.opts.coalesceMs);
    }
  }

  private async beat(): Promise<void> {
    if (this.closed || this.busy) return;
    this.busy = true;
    try {
      await this.opts.ping();
    } catch (err) {
      this.opts.onError(err);
    } finally {
      this.busy = false;
      if (hasPending(this.pending)) this.schedule(this.opts.coalesceMs);
    }
  }
}

const viewQuery = z.object({
  view: z.enum(['bots', 'bot', 'strategies', 'status'], { error: () => 'view must be bots, bot, strategies or status' }).default('status'),
  id: z.string().trim().min(1).max(300).optional(),
});

/** Reads the view a client declares in the stream URL. */
export function parseLiveView(query: Record<string, string>): { ok: true; view: LiveView } | { ok: false; message: string } {
  const v = viewQuery.safeParse(query);
  if (!v.success) return { ok: false, message: v.error.issues.map((i) => i.message).join('; ') };
  switch (v.data.view) {
    case 'bots': {
      const f = botFilterSchema.safeParse(query);
      if (!f.success) return { ok: false, message: f.error.issues.map((i) => i.message).join('; ') };
      return { ok: true, view: { kind: 'bots', filter: f.data } };
    }
    case 'bot':
      if (!v.data.id) return { ok: false, message: 'view=bot needs an id' };
      return { ok: true, view: { kind: 'bot', id: v.data.id } };
    case 'strategies':
      return { ok: true, view: { kind: 'strategies' } };
    case 'status':
      return { ok: true, view: { kind: 'status' } };
    default:
      return assertNever(v.data.view, 'view');
  }
}

/**
 * Renders the out-of-band fragments a view needs for the gathered changes, limited to what the
 * viewer may see (a manager's groups, a user's own bots) and offering only their commands.
 */
export async function renderChanges(deps: ResolvedDeps, view: LiveView, p: PendingChanges, access: Access): Promise<string | null> {
  const { api } = deps;
  const now = deps.now();
  const parts: Child[] = [];
  const who = access.principal;
  const sees = (b: BotRow) => who !== null && can(who, 'bots.read', { kind: 'trader', userId: b.userId, managerId: b.managerId });
  const fleetChanged = p.full || p.platform || p.bots.size > 0;
  if (fleetChanged) parts.push(<Partial target={STATUS_BAR_ID}>{<StatusBar status={statusFor(api, who)} access={access} />}</Partial>);
  switch (view.kind) {
    case 'bots': {
      if (fleetChanged && access.has('groups.read') && who) {
        parts.push(<Partial target={MANAGERS_BODY_ID}>{<ManagersBody managers={visibleManagers(who, api.listManagers())} access={access} />}</Partial>);
      }
      const changed = [...p.bots.values()].filter((b) => sees(b) && matchesStable(b, view.filter));
      if (p.full || changed.length > deps.live.maxRowsPerMessage) {
        const rows = who ? selectBots(visibleTraders(who, api.listBots()), view.filter).rows : [];
        parts.push(<Partial target={BOTS_BODY_ID}>{<BotsBody rows={rows} now={now} access={access} />}</Partial>);
      } else {
        for (const bot of changed) parts.push(<Partial target={botRowId(bot.id)}>{<BotRowView bot={bot} now={now} access={access} />}</Partial>);
      }
      break;
    }
    case 'bot': {
      const bot = p.bots.get(view.id) ?? (p.full ? (api.getBot(view.id) ?? undefined) : undefined);
      if (bot && sees(bot)) parts.push(<Partial target={BOT_SUMMARY_ID}>{<BotSummary bot={bot} now={now} access={access} />}</Partial>);
      break;
    }
    case 'strategies':
      if (p.full || p.strategies) {
        parts.push(<Partial target={STRATEGIES_CONTENT_ID}>{<StrategiesContent view={await api.strategies()} now={now} />}</Partial>);
      }
      break;
    case 'status':
      break;
    default:
      assertNever(view, 'live view');
  }
  if (parts.length === 0) return null;
  return renderHtml(<>{parts}</>);
}

/** Why a viewer may not open a view's stream (null: they may). */
function viewRefusal(deps: ResolvedDeps, view: LiveView, access: Access): { status: 403 | 404; text: string } | null {
  const who = access.principal;
  if (!who) return { status: 403, text: 'Forbidden: sign in first' };
  switch (view.kind) {
    case 'bots':
      return access.has('bots.read') ? null : { status: 403, text: 'Forbidden: your role does not see bots' };
    case 'bot': {
      const bot = deps.api.getBot(view.id);
      return bot && can(who, 'bots.read', { kind: 'trader', userId: bot.userId, managerId: bot.managerId }) ? null : { status: 404, text: `Not found: no trader with id "${view.id}"` };
    }
    case 'strategies':
      return access.has('strategies.read') ? null : { status: 403, text: 'Forbidden: your role does not see strategies' };
    case 'status':
      return null;
    default:
      return assertNever(view, 'live view');
  }
}

/**
 * The `/events` route; a stream ends when its session is revoked (sign-out, Force Logout,
 * suspension) or expires, with a last `session-ended` event.
 */
export function liveRoutes(deps: ResolvedDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/events', (c) => {
    const parsed = parseLiveView(c.req.query());
    if (!parsed.ok) return c.text(`Bad request: ${parsed.message}`, 400);
    const view = parsed.view;
    const access = accessOf(c);
    const refused = viewRefusal(deps, view, access);
    if (refused) return c.text(refused.text, refused.status);
    const sessionId = authOf(c)?.session?.id ?? null;
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      const feed = new LiveFeed({
        coalesceMs: deps.live.coalesceMs,
        heartbeatMs: deps.live.heartbeatMs,
        render: (changes) => renderChanges(deps, view, changes, access),
        send: (data, id) => stream.writeSSE({ data, id }),
        ping: async () => {
          await stream.write(': heartbeat\n\n');
        },
        onError: (err) => deps.log.error({ err: errorMessage(err), view: view.kind }, 'live stream render failed'),
      });
      let unsubscribe: (() => void) | null = null;
      let unwatch: (() => void) | null = null;
      let check: NodeJS.Timeout | null = null;
      try {
        unsubscribe = deps.api.subscribe((change) => {
          try {
            feed.push(change);
          } catch (err) {
            deps.log.error({ err: errorMessage(err) }, 'live change dropped');
          }
        });
        feed.start();
        const end = await new Promise<'gone' | 'session-ended'>((resolve) => {
          if (stream.aborted || stream.closed) return resolve('gone');
          stream.onAbort(() => resolve('gone'));
          c.req.raw.signal.addEventListener('abort', () => resolve('gone'), { once: true });
          if (sessionId) {
            unwatch = deps.accounts.onSessionsRevoked((ids) => {
              if (ids.includes(sessionId)) resolve('session-ended');
            });
            // Another node may revoke it, or it may expire: look again at every heartbeat.
            check = setInterval(() => {
              deps.accounts.isSessionActive(sessionId).then(
                (alive) => {
                  if (!alive) resolve('session-ended');
                },
                (err: unknown) => deps.log.warn({ err: errorMessage(err) }, 'live stream session check failed'),
              );
            }, deps.live.heartbeatMs);
            check.unref?.();
          }
        });
        // The page is told, so it goes to sign-in instead of reconnecting into a 401 (`app.js`).
        if (end === 'session-ended' && !stream.aborted && !stream.closed) {
          feed.close();
          await stream.writeSSE({ event: SESSION_ENDED_EVENT, data: 'Your session has ended. Sign in again.' });
        }
      } catch (err) {
        deps.log.error({ err: errorMessage(err) }, 'live stream failed');
      } finally {
        feed.close();
        unsubscribe?.();
        (unwatch as (() => void) | null)?.();
        if (check) clearInterval(check);
      }
    });
  });
  return app;
}
