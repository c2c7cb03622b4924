/**
 * The whole runtime in-process for integration and browser tests: a node on PGlite (temp dir)
 * or on a fresh PostgreSQL database, the demo fleet, a manual market clock, a simulated actor
 * clock and no market timer, so a test drives every candle itself.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import {
  createLogger,
  createManualClock,
  loadConfig,
  startNode,
  type Config,
  type ManualClock,
  type NodeOptions,
  type RuntimeNode,
} from '../../runtime/index.ts';
import { createStore, migrate, openDatabase, type Store } from '../../runtime/store/index.ts';
import { emptyPostgresDatabase, tempDataDir } from './db.ts';

/** The repository root. */
export const REPO = path.resolve(import.meta.dirname, '../..');

/** The manual clock's start: 30 s into a minute, so the first step closes a candle. */
export const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);

/** A runtime node under a test's control. */
export interface Harness {
  /** The running node (replaced by each `start()`). */
  node: RuntimeNode;
  readonly clock: ManualClock;
  readonly actorClock: SimulatedClock;
  /** The temp copy of the strategy registry folder. */
  readonly strategyDir: string;
  /** The configuration every `start()` uses. */
  readonly config: Config;
  /** Writes to the harness's database while no node runs (e.g. users, managers, traders), then closes it. */
  seed(fn: (store: Store) => Promise<void>): Promise<void>;
  /**
   * Starts a node on the harness's database and runs the first candle to completion;
   * `beforeFirstStep` runs between the start and that candle (e.g. reconciliation).
   */
  start(opts?: { readonly beforeFirstStep?: (node: RuntimeNode) => Promise<void> }): Promise<RuntimeNode>;
  /** Advances the market by `n` minutes, one candle at a time, each settled. */
  minute(n?: number): Promise<void>;
  /** Stops the node and removes the database, data dir and strategy folder. */
  cleanup(): Promise<void>;
}

/** Options of {@link harness}. */
export interface HarnessOptions {
  /** Files of `test/fixtures/strategies/` copied into the registry folder beside the samples. */
  readonly fixtures?: readonly string[];
  /** Create the demo fleet (default true). */
  readonly demoFleet?: boolean;
  /** More environment variables for the configuration (they win over the harness's). */
  readonly env?: Readonly<Record<string, string>>;
  /** The node's live accounts (`NodeOptions.liveAccount`). */
  readonly liveAccount?: NodeOptions['liveAccount'];
}

/** Prepares (does not start) a runtime node on PGlite or PostgreSQL with the demo fleet. */
export async function harness(target: 'pglite' | 'postgres', opts: HarnessOptions = {}): Promise<Harness> {
  const strategyDir = mkdtempSync(path.join(tmpdir(), 'fleet-strategies-'));
  cpSync(path.join(REPO, 'strategies'), strategyDir, { recursive: true });
  for (const f of opts.fixtures ?? []) cpSync(path.join(REPO, 'test/fixtures/strategies', f), path.join(strategyDir, f));
  let dataDir: string | null = null;
  let drop: (() => Promise<void>) | null = null;
  const env: Record<string, string> = {
    STRATEGY_DIR: strategyDir,
    LOG_LEVEL: 'silent',
    POOL_THREADS: '1',
    // These tests check behaviour, not speed: a loaded CI machine must not time strategies out.
    STRATEGY_TIMEOUT_MS: '15000',
    MARKET_BACKFILL_BARS: '300',
    DEMO_FLEET: opts.demoFleet === false ? 'false' : 'true',
  };
  if (target === 'pglite') {
    dataDir = tempDataDir();
    env['DATA_DIR'] = dataDir;
  } else {
    const pg = await emptyPostgresDatabase();
    env['DATABASE_URL'] = pg.databaseUrl;
    drop = pg.drop;
  }
  Object.assign(env, opts.env ?? {});
  const config = loadConfig(env);
  const clock = createManualClock(T0);
  const actorClock = new SimulatedClock();
  actorClock.set(T0);
  const h: Harness = {
    node: undefined as unknown as RuntimeNode,
    clock,
    actorClock,
    strategyDir,
    config,
    async seed(fn) {
      const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      const store = createStore(db.sql, db.close);
      try {
        await migrate(db.sql);
        await fn(store);
      } finally {
        await store.close();
      }
    },
    async start(startOpts = {}) {
      h.node = await startNode({
        config,
        log: createLogger('silent'),
        clock,
        autoRun: false,
        actorClock: actorClock as unknown as NonNullable<Parameters<typeof startNode>[0]['actorClock']>,
        ...(opts.liveAccount ? { liveAccount: opts.liveAccount } : {}),
      });
      await startOpts.beforeFirstStep?.(h.node);
      await h.node.step();
      await h.node.settle();
      return h.node;
    },
    async minute(n = 1) {
      for (let i = 0; i < n; i++) {
        clock.advance(60_000);
        await h.node.step();
        await h.node.settle();
      }
    },
    async cleanup() {
      await h.node?.stop().catch(() => undefined);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (drop) await drop();
      rmSync(strategyDir, { recursive: true, force: true });
    },
  };
  return h;
}
