/**
 * What every benchmark shares: percentile math, the printed table, JSON results in
 * bench/results/, the machine description, a database per run (PGlite or PostgreSQL), the fleet
 * builder that writes N traders under M managers straight into the store, an in-process node on a
 * manual clock, and a child-process runner for figures that must be the runtime's own.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { SimulatedClock } from 'xstate';
import { createLogger, createManualClock, loadConfig, startNode, type ManualClock, type RuntimeNode } from '../runtime/index.ts';
import { createCandleWindows, SYNTHETIC_MARKETS } from '../runtime/market/index.ts';
import { createStore, migrate, openDatabase, type Sql, type Store, type StrategyVersionRecord } from '../runtime/store/index.ts';
import { createRegistry, createStrategyPool } from '../runtime/strategy/index.ts';

/** The repository root. */
export const REPO = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Where results go (gitignored). */
export const RESULTS_DIR = path.join(REPO, 'bench', 'results');
/** A candle-aligned start time (mid-minute, like the integration tests). */
export const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);
/** One minute in ms. */
export const MINUTE = 60_000;

// ---------------------------------------------------------------- statistics

/** The p-th percentile (0–100) of `values` with linear interpolation between ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

/** Median, p99, min, max and count of a sample. */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
}

/** Summarizes a sample. */
export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: percentile(values, 50),
    p99: percentile(values, 99),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/** One measured line of a benchmark. */
export interface Row {
  readonly metric: string;
  readonly unit: string;
  readonly samples: readonly number[];
  readonly summary: Summary;
  /** Which tail is the bad one: `high` for latencies and sizes, `low` for rates. */
  readonly worse: 'high' | 'low';
  /** e.g. `≤ 3000 ms`; absent for informational rows. */
  readonly target?: string;
  /** Whether the bad tail (p99, or p1 for rates) meets the target; absent without a target. */
  readonly pass?: boolean;
  /** Load average (1 min) when the row was measured. */
  readonly load: number;
  readonly note?: string;
}

/** Builds a row; `limit` makes it a target row (`high`: tail ≤ limit, `low`: tail ≥ limit). */
export function row(
  metric: string,
  unit: string,
  samples: readonly number[],
  opts: { worse?: 'high' | 'low'; limit?: number; target?: string; note?: string } = {},
): Row {
  const worse = opts.worse ?? 'high';
  const summary = summarize(samples);
  const tail = worse === 'high' ? summary.p99 : percentile(samples, 1);
  const base = { metric, unit, samples: [...samples], summary, worse, load: loadavg()[0]! };
  const withNote = opts.note ? { ...base, note: opts.note } : base;
  if (opts.limit === undefined) return withNote;
  const pass = worse === 'high' ? tail <= opts.limit : tail >= opts.limit;
  return { ...withNote, target: opts.target ?? `${worse === 'high' ? '≤' : '≥'} ${opts.limit} ${unit}`, pass };
}

/** The machine the figures come from. */
export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
  readonly platform: string;
  readonly loadavg: readonly number[];
}

/** Describes this machine now. */
export function machine(): Machine {
  return {
    cpus: availableParallelism(),
    model: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** What a benchmark returns. */
export interface BenchResult {
  readonly name: string;
  readonly database: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly rows: readonly Row[];
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A benchmark: a name, what it measures, and how to run it. */
export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(): Promise<BenchResult>;
}

const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
};

/** Renders a result as a fixed-width table with the machine line above it. */
export function table(result: BenchResult, m: Machine, seconds: number): string {
  const head = ['metric', 'n', 'median', 'p99 / p1', 'unit', 'target', 'status', 'load'];
  const lines = result.rows.map((r) => [
    r.metric,
    String(r.summary.n),
    fmt(r.summary.median),
    `${fmt(r.worse === 'high' ? r.summary.p99 : percentile(r.samples, 1))}${r.worse === 'low' ? ' (p1)' : ''}`,
    r.unit,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS',
    r.load.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const pad = (cells: string[]) => cells.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `== ${result.name} · ${result.database} · ${m.cpus} CPUs (${m.model}) · Node ${m.node} · load ${m.loadavg.join(' ')} · ${seconds.toFixed(1)} s`,
    pad(head),
    pad(widths.map((w) => '-'.repeat(w))),
    ...lines.map(pad),
  ];
  const notes = result.rows.filter((r) => r.note).map((r) => `  · ${r.metric}: ${r.note}`);
  return [...out, ...notes].join('\n');
}

/** Writes `bench/results/<name>.json`; returns its path. */
export function writeResult(result: BenchResult, m: Machine, seconds: number): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.name}.json`);
  const body = { ...result, machine: m, loadavgAfter: loadavg(), seconds, finishedAt: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

// ---------------------------------------------------------------- databases

/** Which database a run uses. */
export type DbKind = 'pglite' | 'postgres';

/** The PostgreSQL server to create bench databases on, or null (PGlite only). */
export function postgresServer(): string | null {
  const url = process.env['DATABASE_URL'];
  return url && /^postgres(ql)?:\/\//.test(url) ? url : null;
}

/** The database a single-target benchmark runs on: BENCH_DB, else PostgreSQL when DATABASE_URL is set, else PGlite. */
export function defaultDb(): DbKind {
  const only = process.env['BENCH_DB'];
  if (only === 'pglite' || only === 'postgres') return only;
  return postgresServer() ? 'postgres' : 'pglite';
}

/** The databases a two-target benchmark (fleet, restart) runs on: PostgreSQL when configured, then PGlite; BENCH_DB picks one. */
export function bothDbs(): DbKind[] {
  const only = process.env['BENCH_DB'];
  if (only === 'pglite' || only === 'postgres') return [only];
  return postgresServer() ? ['postgres', 'pglite'] : ['pglite'];
}

/** A fresh, empty database for one run and the environment that points the runtime at it. */
export interface BenchDatabase {
  readonly kind: DbKind;
  /** `DATABASE_URL` or `DATA_DIR` for `loadConfig`. */
  readonly env: Readonly<Record<string, string>>;
  /** Opens it (migrated) from this process; PGlite admits one opener at a time. */
  open(): Promise<{ sql: Sql; store: Store; close(): Promise<void> }>;
  /** Drops the database or removes the data dir. */
  drop(): Promise<void>;
}

let pgliteTemplate: Promise<Blob> | null = null;

/** initdb + migrate once per process; every PGlite bench database starts from this dump. */
function template(): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      await migrate(db.sql);
      return await db.pglite!.dumpDataDir('none');
    } finally {
      await db.close();
    }
  })();
  return pgliteTemplate;
}

async function withAdmin<T>(url: string, fn: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Creates a dedicated database: `bench_<random>` on the PostgreSQL server, or a PGlite temp dir. */
export async function createBenchDatabase(kind: DbKind): Promise<BenchDatabase> {
  if (kind === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fleet-bench-'));
    const tpl = await template();
    return {
      kind,
      env: { DATA_DIR: dataDir },
      async open() {
        const db = await openDatabase({ dataDir, template: tpl });
        await migrate(db.sql);
        return { sql: db.sql, store: createStore(db.sql, db.close), close: db.close };
      },
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const server = postgresServer();
  if (!server) throw new Error('PostgreSQL runs need DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  const name = `bench_${randomBytes(5).toString('hex')}`;
  await withAdmin(server, (a) => a`CREATE DATABASE ${a(name)}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    kind,
    env: { DATABASE_URL: databaseUrl },
    async open() {
      const db = await openDatabase({ databaseUrl, dataDir: '' });
      await migrate(db.sql);
      return { sql: db.sql, store: createStore(db.sql, db.close), close: db.close };
    },
    drop: () => withAdmin(server, (a) => a`DROP DATABASE IF EXISTS ${a(name)} WITH (FORCE)`).then(() => undefined),
  };
}

// ---------------------------------------------------------------- fleet

/** A temp strategy folder holding only the reference momentum strategy. */
export function referenceStrategyDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-bench-strategies-'));
  cpSync(path.join(REPO, 'strategies', 'momentum.ts'), path.join(dir, 'momentum.ts'));
  return dir;
}

/** Registers the folder's strategies exactly as a node's registry does; returns momentum's latest version. */
export async function registerReference(store: Store, strategyDir: string): Promise<StrategyVersionRecord> {
  const windows = createCandleWindows({ symbols: SYNTHETIC_MARKETS.map((m) => m.symbol), capacity: 8 });
  const pool = createStrategyPool({ windows: windows.handle(), knownSymbols: SYNTHETIC_MARKETS.map((m) => m.symbol), threads: 1 });
  try {
    const registry = createRegistry({ dir: strategyDir, repo: store.strategies, pool, clock: { now: () => T0 } });
    await registry.scan();
    const v = registry.latest('momentum');
    if (!v) throw new Error(`momentum did not register from ${strategyDir}: ${JSON.stringify(registry.files())}`);
    return v;
  } finally {
    await pool.close();
  }
}

/** What the fleet builder writes. */
export interface FleetSpec {
  readonly traders: number;
  readonly managers: number;
  /** Persisted state per trader index; default running (no row). */
  readonly stateOf?: (i: number) => 'running' | 'paused' | 'error';
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
/** The id of trader `i` of a bench fleet. */
export const traderId = (i: number): string => `t-${pad(i, 6)}`;
/** The id of manager `j` of a bench fleet. */
export const managerId = (j: number): string => `m-${pad(j, 4)}`;

async function insertChunked(sql: Sql, table: string, rows: Record<string, unknown>[], columns: string[]): Promise<void> {
  const size = Math.floor(60_000 / columns.length);
  for (let i = 0; i < rows.length; i += size) {
    const chunk = rows.slice(i, i + size);
    await sql`INSERT INTO ${sql(table)} ${sql(chunk, ...columns)}`;
  }
}

/**
 * Writes `spec.traders` traders of the reference strategy (lookbacks 10–40, leverage 1–3,
 * 10,000 USDT each) under `spec.managers` managers and one user per 10 traders, with bulk
 * inserts through the store's client; paused or error traders also get their persisted state.
 */
export async function seedFleet(sql: Sql, v: StrategyVersionRecord, spec: FleetSpec, now = T0): Promise<void> {
  const users = Math.max(1, Math.ceil(spec.traders / 10));
  await insertChunked(
    sql,
    'users',
    Array.from({ length: users }, (_, i) => ({ id: `u-${pad(i, 6)}`, email: `u${i}@bench.test`, display_name: `User ${i}`, role: 'user', created_at: now })),
    ['id', 'email', 'display_name', 'role', 'created_at'],
  );
  await insertChunked(
    sql,
    'managers',
    Array.from({ length: spec.managers }, (_, j) => ({
      id: managerId(j),
      name: `Desk ${j}`,
      capital: '0',
      max_restarts: 5,
      restart_window_ms: 600_000,
      created_at: now,
    })),
    ['id', 'name', 'capital', 'max_restarts', 'restart_window_ms', 'created_at'],
  );
  const lookbacks = [10, 20, 30, 40];
  const traders = Array.from({ length: spec.traders }, (_, i) => {
    const id = traderId(i);
    return {
      id,
      manager_id: managerId(i % spec.managers),
      user_id: `u-${pad(Math.floor(i / 10), 6)}`,
      name: `Bot ${i}`,
      strategy_name: v.name,
      strategy_version: v.version,
      params: sql.json({ ...(v.meta.defaults as Record<string, postgres.JSONValue>), lookback: lookbacks[i % lookbacks.length]! }),
      venue: 'paper',
      account_id: `paper:${id}`,
      initial_capital: '10000',
      leverage: 1 + (i % 3),
      risk_limits: sql.json({}),
      created_at: now + i,
      updated_at: now,
    };
  });
  await insertChunked(sql, 'traders', traders, [
    'id', 'manager_id', 'user_id', 'name', 'strategy_name', 'strategy_version', 'params', 'venue',
    'account_id', 'initial_capital', 'leverage', 'risk_limits', 'created_at', 'updated_at',
  ]);
  if (!spec.stateOf) return;
  const states: Record<string, unknown>[] = [];
  for (let i = 0; i < spec.traders; i++) {
    const s = spec.stateOf(i);
    if (s === 'running') continue;
    const state =
      s === 'paused'
        ? { pause: { by: 'bench', reason: 'seeded paused', scope: 'trader', at: now }, error: null, lastCycleAt: null }
        : { pause: null, error: { kind: 'strategy', message: 'seeded error', at: now, retryable: true }, lastCycleAt: null };
    states.push({ actor_id: traderId(i), kind: 'trader', status: s, state: sql.json(state), updated_at: now });
  }
  await insertChunked(sql, 'actor_states', states, ['actor_id', 'kind', 'status', 'state', 'updated_at']);
}

/** A bench database holding a fleet, with the strategy folder its runtime must use. */
export interface FleetDatabase {
  readonly db: BenchDatabase;
  readonly strategyDir: string;
  /** Drops the database and removes the strategy folder. */
  cleanup(): Promise<void>;
}

/** Creates a database, registers the reference strategy and writes the fleet. */
export async function buildFleet(kind: DbKind, spec: FleetSpec): Promise<FleetDatabase> {
  const db = await createBenchDatabase(kind);
  const strategyDir = referenceStrategyDir();
  const opened = await db.open();
  try {
    const v = await registerReference(opened.store, strategyDir);
    if (spec.traders > 0) await seedFleet(opened.sql, v, spec);
  } finally {
    await opened.close();
  }
  return {
    db,
    strategyDir,
    async cleanup() {
      await db.drop();
      rmSync(strategyDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- in-process node

/**
 * The environment a bench node runs with (silent, no demo fleet, 300 bars of history; the
 * runtime's own heap growth unless `HEAP_GROWTH_PERCENT` is set for the run, to compare).
 */
export function nodeEnv(fleet: FleetDatabase, extra: Record<string, string> = {}): Record<string, string> {
  const growth = process.env['HEAP_GROWTH_PERCENT'];
  return {
    ...fleet.db.env,
    STRATEGY_DIR: fleet.strategyDir,
    LOG_LEVEL: 'silent',
    DEMO_FLEET: 'false',
    MARKET_BACKFILL_BARS: '300',
    ...(growth ? { HEAP_GROWTH_PERCENT: growth } : {}),
    ...extra,
  };
}

/** A node on a manual market clock and a simulated actor clock (restarts never fire by themselves). */
export interface BenchNode {
  readonly node: RuntimeNode;
  readonly clock: ManualClock;
  readonly actorClock: SimulatedClock;
}

/** Starts a node in this process from `env`, processes the first candle and waits until it settles. */
export async function startBenchNode(env: Record<string, string>, at = T0): Promise<BenchNode> {
  const config = loadConfig(env);
  const clock = createManualClock(at);
  const actorClock = new SimulatedClock();
  actorClock.set(at);
  const node = await startNode({
    config,
    log: createLogger('silent'),
    clock,
    autoRun: false,
    print: () => undefined,
    actorClock: actorClock as unknown as NonNullable<Parameters<typeof startNode>[0]['actorClock']>,
  });
  return { node, clock, actorClock };
}

/** True when every trader is loaded (none is `starting`). */
export function allLoaded(node: RuntimeNode): boolean {
  for (const v of node.traders().values()) if (v.status === 'starting') return false;
  return true;
}

/** Waits (polling every `everyMs`) until `done()` holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(done: () => boolean, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

/**
 * One rebalance wave: advances the market a minute, steps (ticking every idle trader), and waits
 * until every trader has finished that candle's cycle and every write is stored. Returns the
 * wall time in ms from candle close to the end, and the candle's open time.
 */
export async function wave(b: BenchNode, timeoutMs = 600_000): Promise<{ ms: number; candle: number }> {
  b.clock.advance(MINUTE);
  const t0 = performance.now();
  await b.node.step();
  await b.node.settle(timeoutMs);
  return { ms: performance.now() - t0, candle: b.node.lastCandleAt() ?? 0 };
}

// ---------------------------------------------------------------- child processes

/** A message a bench child sends its parent. */
export type ChildMessage = { readonly kind: 'progress'; readonly text: string } | { readonly kind: 'result'; readonly data: unknown };

/**
 * Runs a bench child script (under tsx, with `--expose-gc` and `extraArgs`; with `--cpu-prof`
 * into BENCH_PROFILE_DIR when set); resolves with its result message.
 */
export async function runChild<T>(
  script: string,
  env: Record<string, string>,
  opts: { extraArgs?: readonly string[]; timeoutMs?: number; onProgress?: (text: string) => void } = {},
): Promise<T> {
  // The child's database is only the one in `env`: the parent's DATABASE_URL names the server.
  const inherited = { ...process.env };
  delete inherited['DATABASE_URL'];
  delete inherited['DATA_DIR'];
  const profileDir = process.env['BENCH_PROFILE_DIR'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  const child = fork(script, [], {
    execArgv: [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), '--expose-gc', ...profile, ...(opts.extraArgs ?? [])],
    env: { ...inherited, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let result: T | undefined;
  let got = false;
  child.on('message', (m: ChildMessage) => {
    if (m.kind === 'progress') opts.onProgress?.(m.text);
    else {
      result = m.data as T;
      got = true;
      // A child that lingers after answering (an open handle) is not waited for long.
      setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 900_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (!got) throw new Error(`${path.basename(script)} exited with code ${code} without a result`);
  return result as T;
}

/** Sends a message to the parent (no-op outside a child); resolves once it is written. */
export function toParent(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

/** Forces a full GC when `--expose-gc` is on (twice: weak callbacks run between). */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** A stretch the event loop was blocked: from when a timer was due to when it ran (µs, CLOCK_MONOTONIC). */
export interface Stall {
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * A lag probe: a timer every `everyMs` that records each stall longer than `minMs`, in the CPU
 * profile's clock, so `bench/profile.ts --stalls` can say what ran meanwhile.
 */
export function stallProbe(everyMs = 10, minMs = 50): { stop(): Stall[] } {
  const stalls: Stall[] = [];
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let due = nowUs() + everyMs * 1000;
  const timer = setInterval(() => {
    const now = nowUs();
    if (now - due > minMs * 1000) stalls.push({ fromUs: due, toUs: now });
    due = now + everyMs * 1000;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return stalls;
    },
  };
}

/** MiB from bytes. */
export const mib = (bytes: number): number => bytes / 1024 / 1024;

/** Prints a progress line to stderr with the elapsed time. */
export function progress(name: string, text: string): void {
  process.stderr.write(`  [${name}] ${text}\n`);
}
