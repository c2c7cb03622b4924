/**
 * The real process, killed: `runtime/main.ts` is spawned on a scaled market clock, trades, has
 * one bot paused through the console, is SIGKILLed while cycles run, restarts on the same
 * database, trades on and stops with SIGTERM. The books it leaves must still agree: the pause
 * survived, nothing is pending, the paper venue and the platform know the same orders, and
 * every paper wallet equals its deposit plus realized P&L minus fees to the last digit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthInfo } from '../../runtime/api.ts';
import { Dec } from '../../runtime/exchange/precision.ts';
import { LOCK_FILE, openDatabase, type Sql } from '../../runtime/store/index.ts';
import { dbTargets, emptyPostgresDatabase, openPglite, tempDataDir } from '../support/db.ts';
import { REPO } from '../support/runtime.ts';

const PAUSED = 't-0002';
const PAUSE_BY = 'crash-test';
const PAUSE_REASON = 'this pause must survive a crash';
const MINUTE = 60_000;
const DEMO_IDS = ['t-0001', 't-0002', 't-0003', 't-0004', 't-0005', 't-0006', 't-0007', 't-0008'];
/** The admin the process creates on first start (used only when the console asks for a sign-in). */
const ADMIN_EMAIL = 'crash-admin@test.example';
const ADMIN_PASSWORD = 'crash test admin password';
/** Statuses of a platform order the venue answered (everything but pending and failed). */
const VENUE_STATUSES = new Set(['open', 'closed', 'canceled', 'rejected']);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value; fails with `what` and the process log after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | null | undefined>, proc: Proc | null, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (proc?.exited) throw new Error(`the process exited (${proc.exitInfo()}) while waiting for ${what}\n${proc.tail()}`);
    const v = await probe().catch((err: unknown) => {
      last = err instanceof Error ? err.message : String(err);
      return null;
    });
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last: ${last})` : ''}\n${proc?.tail() ?? ''}`);
    await sleep(25);
  }
}

/** One spawned runtime process and its output. */
interface Proc {
  readonly child: ChildProcess;
  readonly url: string;
  exited: boolean;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo(): string;
  tail(): string;
  logs(): Array<Record<string, unknown>>;
}

function launch(env: Record<string, string>, port: number): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], {
    cwd: REPO,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let info = '';
  const proc: Proc = {
    child,
    url: `http://127.0.0.1:${port}`,
    exited: false,
    exit: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exited = true;
        info = `code ${code}, signal ${signal}`;
        resolve({ code, signal });
      });
    }),
    exitInfo: () => info,
    tail: () => out.split('\n').slice(-40).join('\n'),
    logs: () =>
      out.split('\n').flatMap((l) => {
        try {
          return l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
  };
  return proc;
}

async function health(p: Proc): Promise<HealthInfo | null> {
  const res = await fetch(`${p.url}/health`);
  return res.ok ? ((await res.json()) as HealthInfo) : null;
}

/** A console client: signed in as the admin when the console asks for a sign-in. */
interface ConsoleClient {
  readonly cookie: string;
  readonly csrf: string;
  /** Whether the console asked for a sign-in (commands are then recorded under the account). */
  readonly signedIn: boolean;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const csrfOf = (html: string) => /<meta name="csrf-token" content="([^"]*)"/.exec(html)?.[1] ?? '';

async function openConsole(p: Proc): Promise<ConsoleClient> {
  const open = await fetch(`${p.url}/bots`, { redirect: 'manual' });
  if (open.status === 200) return { cookie: '', csrf: csrfOf(await open.text()), signedIn: false };
  const res = await fetch(`${p.url}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: p.url },
    body: form({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD, next: '/bots' }),
    redirect: 'manual',
  });
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).join('; ');
  if (res.status !== 303 || !cookie) throw new Error(`sign-in as ${ADMIN_EMAIL} failed: ${res.status} ${await res.text()}`);
  const bots = await fetch(`${p.url}/bots`, { headers: { cookie }, redirect: 'manual' });
  if (bots.status !== 200) throw new Error(`GET /bots after sign-in: ${bots.status}`);
  return { cookie, csrf: csrfOf(await bots.text()), signedIn: true };
}

async function page(p: Proc, c: ConsoleClient, route: string): Promise<string> {
  const res = await fetch(`${p.url}${route}`, { headers: c.cookie ? { cookie: c.cookie } : {}, redirect: 'manual' });
  if (res.status !== 200) throw new Error(`GET ${route}: ${res.status}`);
  return res.text();
}

/** Posts a console form the way the browser does (same Origin, the session's CSRF token). */
function post(p: Proc, c: ConsoleClient, route: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${p.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: p.url, ...(c.cookie ? { cookie: c.cookie } : {}) },
    body: form(c.csrf ? { ...fields, _csrf: c.csrf } : fields),
    redirect: 'manual',
  });
}

async function botState(p: Proc, c: ConsoleClient, id: string): Promise<string | null> {
  const html = await page(p, c, `/bots/${id}`);
  return /id="bot-summary"[\s\S]*?data-state="([a-z]+)"/.exec(html)?.[1] ?? null;
}

/** A bot's state once it has loaded (past `starting`). */
function loadedState(p: Proc, c: ConsoleClient, id: string): Promise<string> {
  return until(`${id} loaded`, async () => {
    const s = await botState(p, c, id);
    return s === 'starting' ? null : s;
  }, p);
}

/** Waits until the market has closed a candle at or after `openTime`; returns the health then. */
function candleAtLeast(p: Proc, openTime: number, timeoutMs = 20_000): Promise<HealthInfo> {
  return until(`a candle at ${new Date(openTime).toISOString()}`, async () => {
    const h = await health(p);
    return h && h.market.lastCandleAt !== null && h.market.lastCandleAt >= openTime ? h : null;
  }, p, timeoutMs);
}

interface Books {
  traders: { id: string; account_id: string; initial_capital: string }[];
  pausedState: { status: string; state: { pause: { by: string; reason: string; at: number } | null } } | null;
  orders: { client_order_id: string; trader_id: string; status: string; filled: string; fee: string; created_at: number }[];
  paperOrders: { account_id: string; client_order_id: string; order_data: { status: string; filled: string; fee: string } }[];
  accounts: { account_id: string; state: { wallet: string; initialWallet: string } }[];
  fills: { account_id: string; client_order_id: string; realized_pnl: string; fee: string; trigger: string }[];
}

async function readBooks(sql: Sql): Promise<Books> {
  const [pausedState] = await sql`SELECT status, state FROM actor_states WHERE actor_id = ${PAUSED}`;
  return {
    traders: [...(await sql`SELECT id, account_id, initial_capital::text AS initial_capital FROM traders ORDER BY id`)] as Books['traders'],
    pausedState: (pausedState ?? null) as Books['pausedState'],
    orders: [
      ...(await sql`SELECT client_order_id, trader_id, status, filled::text AS filled, fee::text AS fee, created_at FROM orders`),
    ] as Books['orders'],
    paperOrders: [...(await sql`SELECT account_id, client_order_id, order_data FROM paper_orders`)] as Books['paperOrders'],
    accounts: [...(await sql`SELECT account_id, state FROM paper_accounts ORDER BY account_id`)] as Books['accounts'],
    fills: [
      ...(await sql`SELECT account_id, client_order_id, realized_pnl::text AS realized_pnl, fee::text AS fee, trigger FROM fills`),
    ] as Books['fills'],
  };
}

describe.each(dbTargets())('a SIGKILLed runtime process on $name', ({ name }) => {
  let strategyDir: string;
  let dataDir: string | null = null;
  let databaseUrl: string | null = null;
  let drop: (() => Promise<void>) | null = null;
  let env: Record<string, string>;
  const procs: Proc[] = [];
  /** Who the pause is recorded under: the form's name, or (signed in) the account's. */
  let pauseBy: string | null = null;
  let books: Books;

  beforeAll(async () => {
    strategyDir = mkdtempSync(path.join(tmpdir(), 'fleet-crash-strategies-'));
    cpSync(path.join(REPO, 'strategies'), strategyDir, { recursive: true });
    const base: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS') base[k] = v;
    }
    env = {
      ...base,
      HOST: '127.0.0.1',
      MARKET_TIME_SCALE: '120',
      MARKET_BACKFILL_BARS: '300',
      LOG_LEVEL: 'info',
      STRATEGY_DIR: strategyDir,
      POOL_THREADS: '1',
      STRATEGY_TIMEOUT_MS: '15000',
      DEMO_FLEET: 'true',
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      REQUIRE_2FA_ROLES: 'none',
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    if (name === 'pglite') {
      dataDir = tempDataDir('fleet-crash-');
      env['DATA_DIR'] = dataDir;
    } else {
      const pg = await emptyPostgresDatabase();
      databaseUrl = pg.databaseUrl;
      drop = pg.drop;
      env['DATABASE_URL'] = databaseUrl;
      env['DATA_DIR'] = path.join(strategyDir, 'unused-data');
    }
  });

  /** Kills what an earlier, failed step left running (only processes this file started). */
  const killLeftovers = async () => {
    for (const p of procs) {
      if (!p.exited) {
        p.child.kill('SIGKILL');
        await p.exit;
      }
    }
  };

  afterAll(async () => {
    await killLeftovers();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (drop) await drop();
    rmSync(strategyDir, { recursive: true, force: true });
  });

  it('trades, pauses a bot through the console and is SIGKILLed while cycles run', async () => {
    const p = launch(env, await freePort());
    procs.push(p);
    const started = await until('/health with 8 traders', async () => {
      const h = await health(p);
      return h && h.traders === 8 ? h : null;
    }, p, 30_000);
    expect(started.database).toBe(name);
    // A few candles of trading before the pause.
    await candleAtLeast(p, started.market.lastCandleAt! + 3 * MINUTE);

    const c = await openConsole(p);
    const res = await post(p, c, `/bots/${PAUSED}/pause`, { by: PAUSE_BY, reason: PAUSE_REASON });
    expect(res.status).toBe(303);
    pauseBy = c.signedIn ? null : PAUSE_BY;
    expect(await botState(p, c, PAUSED)).toBe('paused');

    // Let the others trade on for a few simulated minutes, then kill right after a candle
    // closes, while that candle's cycles are computing and sending orders.
    const after = await health(p);
    await candleAtLeast(p, after!.market.lastCandleAt! + 3 * MINUTE);
    const seen = (await health(p))!.market.lastCandleAt!;
    await until('the next candle', async () => {
      const h = await health(p);
      return h && h.market.lastCandleAt! > seen ? true : null;
    }, p);
    p.child.kill('SIGKILL');
    expect(await p.exit).toEqual({ code: null, signal: 'SIGKILL' });
    if (dataDir) expect(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(p.child.pid));
  }, 60_000);

  it('restarts on the same database over the dead process lock, keeps the pause, trades on and stops on SIGTERM', async () => {
    await killLeftovers();
    const p = launch(env, await freePort());
    procs.push(p);
    const h = await until('/health with 8 traders after the restart', async () => {
      const x = await health(p);
      return x && x.traders === 8 ? x : null;
    }, p, 30_000);
    expect(h.tradingPaused).toBe(false);
    // Rebuilt traders pass through `starting` while they load; then each is back in its state.
    const c = await openConsole(p);
    expect(await loadedState(p, c, PAUSED)).toBe('paused');
    expect(await loadedState(p, c, 't-0001')).toBe('running');
    await candleAtLeast(p, h.market.lastCandleAt! + 4 * MINUTE);
    // The console's uptime is the process's, on the wall clock: this run's market clock resumed
    // minutes ahead of it (the first run's scaled minutes), which once showed "up 0s" throughout.
    const uptime = /class="uptime"[^>]*>\s*up ([^<]*?)\s*</.exec(await page(p, c, '/bots'))?.[1];
    expect(uptime).toMatch(/^(?:[1-9]\d*s|[1-9]\d*m \d+s)$/);

    p.child.kill('SIGTERM');
    expect(await p.exit).toEqual({ code: 0, signal: null });
    // Neither run logged an error, the killed one included.
    const errors = procs.flatMap((x) => x.logs()).filter((l) => typeof l['level'] === 'number' && l['level'] >= 50);
    expect(errors).toEqual([]);
    if (dataDir) expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);

    const db = dataDir ? await openPglite(dataDir) : await openDatabase({ databaseUrl: databaseUrl!, dataDir: '' });
    try {
      books = await readBooks(db.sql);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('has the same 8 traders and the paused bot still paused, with no order after its pause', () => {
    expect(books.traders.map((t) => t.id)).toEqual(DEMO_IDS);
    expect(books.pausedState?.status).toBe('paused');
    const pause = books.pausedState!.state.pause!;
    expect(pause.reason).toBe(PAUSE_REASON);
    if (pauseBy) expect(pause.by).toBe(pauseBy);
    else expect(pause.by).toBeTruthy();
    const mine = books.orders.filter((o) => o.trader_id === PAUSED);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.filter((o) => o.created_at > pause.at)).toEqual([]);
    // The others went on trading after the pause, across the crash.
    expect(books.orders.filter((o) => o.trader_id !== PAUSED && o.created_at > pause.at).length).toBeGreaterThan(0);
  });

  it('leaves no pending order and the same orders on the venue and in the platform, one to one', () => {
    expect(books.orders.filter((o) => o.status === 'pending')).toEqual([]);
    const accountOf = new Map(books.traders.map((t) => [t.id, t.account_id]));
    const platform = new Map<string, Books['orders'][number]>();
    for (const o of books.orders) {
      if (VENUE_STATUSES.has(o.status)) platform.set(`${accountOf.get(o.trader_id)} ${o.client_order_id}`, o);
    }
    const venue = new Map(books.paperOrders.map((o) => [`${o.account_id} ${o.client_order_id}`, o]));
    expect(venue.size).toBeGreaterThan(0);
    for (const t of books.traders) {
      const mineP = [...platform.keys()].filter((k) => k.startsWith(`${t.account_id} `)).sort();
      const mineV = [...venue.keys()].filter((k) => k.startsWith(`${t.account_id} `)).sort();
      expect(mineV, `orders of ${t.account_id}`).toEqual(mineP);
    }
    expect([...venue.keys()].sort()).toEqual([...platform.keys()].sort());
    for (const [key, v] of venue) {
      const o = platform.get(key)!;
      expect(o.status, key).toBe(v.order_data.status);
      expect(new Dec(o.filled).eq(v.order_data.filled), `${key} filled ${o.filled} vs ${v.order_data.filled}`).toBe(true);
      expect(new Dec(o.fee).eq(v.order_data.fee), `${key} fee ${o.fee} vs ${v.order_data.fee}`).toBe(true);
    }
    // Every order fill belongs to an order the venue accepted.
    for (const f of books.fills.filter((x) => x.trigger === 'order')) expect(venue.has(`${f.account_id} ${f.client_order_id}`)).toBe(true);
  });

  it('keeps every paper wallet equal to its deposit plus realized P&L minus fees, exactly', () => {
    expect(books.accounts.map((a) => a.account_id)).toEqual(books.traders.map((t) => t.account_id).sort());
    for (const t of books.traders) {
      const acc = books.accounts.find((a) => a.account_id === t.account_id)!;
      expect(new Dec(acc.state.initialWallet).eq(t.initial_capital)).toBe(true);
      const net = books.fills
        .filter((f) => f.account_id === t.account_id)
        .reduce((sum, f) => sum.plus(f.realized_pnl).minus(f.fee), new Dec(0));
      const expected = new Dec(t.initial_capital).plus(net);
      expect(new Dec(acc.state.wallet).eq(expected), `${t.id}: wallet ${acc.state.wallet}, expected ${expected.toFixed()}`).toBe(true);
    }
  });
});
