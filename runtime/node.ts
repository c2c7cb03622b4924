/**
 * The composition root of one runtime node: opens the store, loads the market, the strategy
 * registry and pool, the paper exchange and the order gate, rebuilds the actor tree from the
 * persisted states, and drives rebalance cycles on every closed candle. The actors hold no I/O:
 * every effect they name is provided here.
 */
import { randomBytes } from 'node:crypto';
import { createActor, type AnyActorRef, type Subscription } from 'xstate';
import {
  traderEffect,
  managerMachine,
  observeSafely,
  supervisorMachine,
  traderMachine,
  traderStateDetail,
  traderStatus,
  DEFAULT_POLICY,
  type CancelSignal,
  type ComputeTargetsInput,
  type ExecuteRebalanceInput,
  type LoadTraderInput,
  type ManagerContext,
  type ManagerInput,
  type PauseSet,
  type SupervisorContext,
  type TraderContext,
  type TraderInput,
  type TraderSnapshot,
} from '../actors/index.ts';
import { createAccounts, createAccountsStore, ensureDemoAccounts, type Accounts } from './accounts/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { loadKeyring } from './crypto/index.ts';
import { manageHeapGrowth } from './memory.ts';
import type { Config } from './config.ts';
import { seedDemoFleet } from './demo.ts';
import { createAdminApi, type AdminApi } from './admin.ts';
import {
  errorMessage,
  ErrorKind,
  Ids,
  parseStrategyRef,
  type ErrorInfo,
  type PauseInfo,
  type TraderStatus,
} from './domain.ts';
import { createBatcher, createGroupCommit, createLocalBus, type Batcher, type EventBus } from './events/index.ts';
import { createOrderGate, createPaperVenue, type Exchange, type Order, type OrderGate } from './exchange/index.ts';
import type { Logger } from './log.ts';
import { createCandleWindows } from './market/window.ts';
import { createMarketFeed, createStaleDataGuard } from './market-feed.ts';
import { createRateLimits } from './exchange/ccxt/index.ts';
import { createLiveAccounts, isLiveVenue, traderFailureCommands } from './live.ts';
import { acceptVenueState, reconcileTrader } from './reconciliation.ts';
import { createBotCommand } from './bots.ts';
import { createMetricsCollector, type MetricsCollector } from './metrics/index.ts';
import { executeRebalance, TradingHalted, type RebalanceReport } from './rebalance/execute.ts';
import { exitLevelsFromOrders, type ManagedExits, type PriceRange } from './rebalance/index.ts';
import { loadCcxt, venueCapabilities } from './exchange/ccxt/index.ts';
import {
  createRiskPolicyEngine,
  createRiskPolicyStore,
  resolveLimits,
  samplesFromMetrics,
  violationCommands,
  type RiskPolicyEngine,
} from './risk/index.ts';
import { createKeyStore, keyEventAudit, type KeyStore } from './keys/index.ts';
import { createComputeScheduler, StrategyFailure, type ComputeScheduler } from './scheduler.ts';
import { processTurns } from './turns.ts';
import { openDatabase, migrate, createStore } from './store/index.ts';
import type {
  ActorStateRecord,
  CycleRecord,
  EventRecord,
  ManagerRecord,
  MetricRecord,
  OrderRecord,
  OrdersRepo,
  Store,
  TraderRecord,
} from './store/types.ts';
import { createRegistry, createStrategyPool, type Registry, type StrategyPool } from './strategy/index.ts';
import { createPlatformApi } from './platform.ts';
import type { PlatformApi } from './api.ts';

/** How long `stop()` waits for the cycles in progress to finish before stopping the actors. */
const STOP_DRAIN_MS = 5_000;
/** A load's reconciliation stands for the trader's first cycle when that cycle starts this soon after it. */
const RECONCILED_FRESH_MS = 30_000;
/** How often changed bot rows go to the console, and how many rows before a whole refresh. */
const LIVE_PUBLISH_MS = 200;
const LIVE_ROWS_MAX = 50;

/** Live facts about one trader that the console and commands read. */
export interface TraderView {
  readonly record: TraderRecord;
  readonly ref: AnyActorRef;
  status: TraderStatus;
  detail: string;
  pause: PauseInfo | null;
  pauses: PauseSet;
  error: ErrorInfo | null;
  lastCycleAt: number | null;
}

/** Options a test or a benchmark may set. */
export interface NodeOptions {
  readonly config: Config;
  readonly log: Logger;
  /** The market and trading clock (scaled or manual); or a factory given the last stored time. */
  readonly clock: Clock | ((resumeFrom: number | null) => Clock);
  /** Drive the market from a timer (default true); tests call `step()` instead. */
  readonly autoRun?: boolean;
  /**
   * The account of a trader on a live venue (any venue but `paper`); the paper exchange serves
   * `paper` traders. A trader whose venue has no account fails its load with a clear reason.
   */
  readonly liveAccount?: (trader: TraderRecord) => Exchange | undefined;
  /** Wall clock of sessions, lockouts and the audit log (default: the system clock, never the market clock). */
  readonly accountsClock?: Clock;
  /** Where the first-run credentials block goes (default stdout). */
  readonly print?: (text: string) => void;
  /** Actor timers (restart backoff); defaults to real timers with `clock.now`. */
  readonly actorClock?: { now(): number; setTimeout(fn: (...a: unknown[]) => void, ms: number): unknown; clearTimeout(id: unknown): void };
  /** Ids of new bots (default `t-` + 12 random hex digits). */
  readonly newTraderId?: () => string;
}

/** A running node. */
export interface RuntimeNode {
  readonly api: PlatformApi;
  readonly store: Store;
  /** Sign-in, sessions, 2FA, the audit log. */
  readonly accounts: Accounts;
  /** The operator modules: users, security and audit, risk policies. */
  readonly admin: AdminApi;
  /** Risk policies and their violations. */
  readonly risk: RiskPolicyEngine;
  /** Exchange keys, sealed at rest. */
  readonly keyStore: KeyStore;
  readonly bus: EventBus;
  readonly gate: OrderGate;
  readonly registry: Registry;
  readonly databaseKind: 'pglite' | 'postgres';
  readonly startedAt: number;
  traders(): ReadonlyMap<string, TraderView>;
  managers(): readonly ManagerRecord[];
  managerRef(id: string): AnyActorRef | undefined;
  supervisor(): AnyActorRef;
  /** Processes every due candle and ticks the traders; resolves when the ticks are sent. */
  step(): Promise<number>;
  /** Resolves when no trader is computing or rebalancing and every write is stored. */
  settle(timeoutMs?: number): Promise<void>;
  /** Makes every pending state and event durable. */
  flush(): Promise<void>;
  pool(): StrategyPool;
  /** A trader's account on its venue (ungated: reads only). */
  account(traderId: string): Exchange | undefined;
  lastCandleAt(): number | null;
  stop(): Promise<void>;
}

/** Builds and starts a runtime node. */
export async function startNode(opts: NodeOptions): Promise<RuntimeNode> {
  const { config, log } = opts;
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  await migrate(db.sql);
  const store = createStore(db.sql, db.close);
  const keyring = loadKeyring({ secretsKey: config.secretsKey, dataDir: config.dataDir, log });
  // The process's heap grows at most this much past the live data between full GCs: a wave's
  // garbage is collected instead of kept (V8 reads the flag at every GC; process-wide). With a
  // memory budget the growth follows the live heap (see memory.ts).
  const heapGrowth = manageHeapGrowth(config.memoryBudgetMb, config.heapGrowthPercent, (percent, r) =>
    log.info(
      { heapGrowthPercent: percent, liveHeapMiB: Math.round(r.liveHeap / 1048576), outsideHeapMiB: Math.round(r.outsideHeap / 1048576) },
      'heap growth set for the memory budget',
    ),
  );
  const accounts = createAccounts({
    store: createAccountsStore(db.sql),
    clock: opts.accountsClock ?? systemClock,
    keyring,
    require2faRoles: config.require2faRoles,
    sessionIdleMs: config.sessionIdleMs,
    sessionAbsoluteMs: config.sessionAbsoluteMs,
  });
  // Exchange keys sealed under the keyring; re-sealing under the current key is the rotation step.
  const keyStore = createKeyStore({
    sql: db.sql,
    keys: keyring.keys,
    currentKeyId: keyring.current.id,
    clock: opts.accountsClock ?? systemClock,
    log,
    onEvent: (e) => {
      live.keyChanged(e);
      accounts.audit.record(keyEventAudit(e)).catch((err: unknown) => log.error({ err }, 'key audit write failed'));
    },
  });
  // A faster-than-real market clock continues from where the last run stopped, never back.
  const clock = typeof opts.clock === 'function' ? opts.clock(await store.settings.get<number>('clock.now')) : opts.clock;
  const startedAt = clock.now();
  // Live venues: one adapter per exchange key, shared by its traders, behind shared rate limits.
  // Real requests are limited on the wall clock, shared by the market feed and every account.
  const limits = createRateLimits({ clock: systemClock });
  const live = createLiveAccounts({
    keyStore,
    limits,
    clock: systemClock,
    log,
    validateEveryMs: 15 * 60_000,
    ...(config.exchangeApiUrl ? { apiBaseUrl: () => config.exchangeApiUrl } : {}),
    onTraderFailure: (id, error) => {
      const v = views.get(id);
      const c = traderFailureCommands(id, error, clock.now(), v?.record);
      emit(c.event);
      v?.ref.send(c.send.event);
    },
  });
  const liveAccount = opts.liveAccount ?? ((t: TraderRecord) => live.get(t));
  await keyStore.rotate(keyring.current.id);
  // Risk policies run on market time: a trading day is a day of candles.
  const risk = createRiskPolicyEngine({ store: createRiskPolicyStore(db.sql), clock, log });
  const bus = createLocalBus((err) => log.error({ err }, 'bus listener failed'));

  const events: Batcher<EventRecord> = createBatcher({
    write: (rows) => store.events.appendMany(rows),
    intervalMs: 250,
    maxRows: 2000,
    onError: (err, n) => log.error({ err, rows: n }, 'event write failed; will retry'),
  });
  const emit = (e: EventRecord) => {
    events.push(e);
    bus.publish({ kind: 'event', event: e });
  };
  const states: Batcher<ActorStateRecord> = createBatcher({
    write: (rows) => store.actorStates.saveMany(rows),
    intervalMs: 200,
    maxRows: 2000,
    key: (r) => r.actorId,
    onError: (err, n) => log.error({ err, rows: n }, 'actor state write failed; will retry'),
  });
  const cycles: Batcher<CycleRecord> = createBatcher({
    write: (rows) => store.cycles.upsertMany(rows),
    intervalMs: 300,
    maxRows: 2000,
    key: (r) => r.cycleId,
    onError: (err, n) => log.error({ err, rows: n }, 'cycle write failed; will retry'),
  });

  // Market: shared candle windows the workers map once, fed by the synthetic market or, for a
  // dry run on live data, by a venue's candles.
  const symbols = [...config.marketSymbols];
  const windows = createCandleWindows({ symbols, capacity: Math.max(2048, config.marketBackfillBars + 512) });
  let lastCandle: number | null = null;
  /** Set once the paper exchange exists: every closed candle moves its prices. */
  let onPrices: ((candles: Record<string, { close: string; high: string; low: string }>) => void) | null = null;
  // ccxt is loaded only when something needs a venue client (here a live feed; else the first live key).
  if (config.marketFeed !== 'synthetic') await loadCcxt();
  const feed = createMarketFeed({
    feed: config.marketFeed,
    symbols,
    seed: config.marketSeed,
    clock,
    candles: store.candles,
    windows,
    backfillBars: config.marketBackfillBars,
    limits,
    log,
    ...(config.exchangeApiUrl ? { apiBaseUrl: config.exchangeApiUrl } : {}),
    onCandle: (closed) => {
      lastCandle = closed.openTime;
      onPrices?.(closed.candles);
    },
  });
  const venue = createPaperVenue({
    markets: await feed.markets(),
    clock,
    persist: (batch) => store.paper.saveBatch(batch),
    // No persisted lookup here: it makes acceptance asynchronous, so an order that passed the gate
    // before Pause All could be accepted after it (measured by bench pause-all). The venue keeps
    // the ids it has seen in memory instead; the orders table stays the runtime's own guard.
  });
  onPrices = (candles) => {
    for (const [symbol, c] of Object.entries(candles)) venue.updatePrice(symbol, { close: c.close, high: c.high, low: c.low });
  };
  await feed.backfill();
  lastCandle = feed.lastOpenTime();
  for (const [symbol, price] of Object.entries(feed.prices())) venue.updatePrice(symbol, { close: price });
  venue.restore(await store.paper.loadAccounts(), await store.paper.loadOrders());
  venue.onFill((accountId, fill) => {
    if (fill.trigger === 'order') return;
    const traderId = accountId.startsWith('paper:') ? accountId.slice(6) : accountId;
    emit({
      at: fill.timestamp,
      type: `position.${fill.trigger}`,
      severity: fill.trigger === 'liquidation' ? 'critical' : 'warning',
      traderId,
      actor: 'exchange',
      message: `${fill.symbol} ${fill.trigger} filled ${fill.amount} @ ${fill.price} (P&L ${fill.realizedPnl})`,
      data: { ...fill },
    });
  });

  // Strategies: the pool first (the registry inspects files inside it), then the registry.
  const pool = createStrategyPool({
    windows: windows.handle(),
    knownSymbols: symbols,
    threads: config.poolThreads,
    timeoutMs: config.strategyTimeoutMs,
    maxHeapMb: config.strategyHeapMb,
  });
  const registry = createRegistry({ dir: config.strategyDir, repo: store.strategies, pool, clock, log });
  registry.onChange((c) => {
    const at = clock.now();
    const base = { at, actor: 'registry', data: { filename: c.filename, name: c.name, version: c.version } };
    if (c.status === 'valid') {
      emit({
        ...base,
        type: c.isNew ? 'strategy.registered' : 'strategy.loaded',
        severity: 'info',
        message: `${c.filename}: ${c.name}@${c.version}${c.isNew ? ' registered' : ' unchanged'}`,
      });
    } else if (c.status === 'removed') {
      emit({ ...base, type: 'strategy.removed', severity: 'info', message: `${c.filename} removed from the registry folder (its versions are kept)` });
    } else {
      emit({ ...base, type: 'strategy.broken', severity: 'warning', message: `${c.filename}: ${c.error ?? 'broken'}` });
    }
    bus.publish({ kind: 'live', change: { type: 'strategies.changed' } });
  });
  await registry.scan();
  registry.watch();

  // Read once for the seed's emptiness check and the boot (again only after a seed created some).
  let bootTraders = await store.traders.list();
  if (config.demoFleet) {
    const created = await seedDemoFleet(store, clock, (n) => registry.latest(n), bootTraders.length);
    if (created.length) {
      log.info({ traders: created.length }, 'demo fleet created');
      bootTraders = await store.traders.list();
    }
  }
  await ensureDemoAccounts({
    accounts,
    demo: config.demoFleet,
    groups: await store.managers.list(),
    adminEmail: config.adminEmail,
    adminPassword: config.adminPassword,
    ...(opts.print ? { print: opts.print } : {}),
  });

  const gate = createOrderGate();
  const managerRecords = await store.managers.list();
  const traderRecords = new Map(bootTraders.map((t) => [t.id as string, t]));
  const persisted = new Map((await store.actorStates.list()).map((s) => [s.actorId, s]));
  const firstLoad = new Set(traderRecords.keys());
  for (const t of traderRecords.values()) {
    if (t.venue === 'paper' && !venue.hasAccount(t.accountId)) venue.openAccount(t.accountId, t.initialCapital);
  }
  await venue.flush();

  // Orders recorded but never acknowledged before a crash: resolve each by lookup, never resend.
  for (const o of await store.orders.listPending()) {
    const t = traderRecords.get(o.traderId);
    const ex = t ? (t.venue === 'paper' ? venue.account(t.accountId) : (liveAccount(t) ?? null)) : null;
    const found = ex ? await ex.fetchOrderByClientId(o.clientOrderId, o.symbol) : null;
    if (found) await store.orders.updateFromVenue(o.clientOrderId, found, clock.now());
    else await store.orders.markFailed(o.clientOrderId, 'never reached the venue before a restart (resolved by lookup)', clock.now());
  }

  /** The trader's account, ungated (reads). */
  const accountOf = (t: TraderRecord): Exchange => {
    if (t.venue === 'paper') return venue.account(t.accountId);
    const acct = liveAccount(t);
    if (!acct) throw new Error(`no ${t.venue} account is connected for ${t.name} (${t.accountId})`);
    return acct;
  };
  /** The trader's account behind the order gate (orders). */
  const exchangeOf = (t: TraderRecord): Exchange => gate.wrap(t.id, t.managerId, accountOf(t));
  // Orders recorded and settled by every trader in one turn go to the database as one statement
  // each way; every trader still waits for its own rows before it sends (group commit).
  const insertPending = createGroupCommit(async (rows: OrderRecord[]) => {
    const inserted = await store.orders.insertPendingMany(rows);
    return rows.map((r) => inserted.has(r.clientOrderId));
  });
  const settleOrder = createGroupCommit(async (rows: { clientOrderId: string; order: Order; at: number }[]) => {
    await store.orders.updateManyFromVenue(rows);
    return rows.map(() => undefined);
  });
  const batchedOrders: OrdersRepo = {
    ...store.orders,
    insertPending: (o) => insertPending(o),
    updateFromVenue: (clientOrderId, order, at) => settleOrder({ clientOrderId, order, at }),
  };
  const leverageSet = new Set<string>();
  const dayStart = new Map<string, { day: number; equity: string }>();
  const views = new Map<string, TraderView>();
  /** Cycles between their compute and the end of their rebalance, for the decision record. */
  const openCycles = new Map<string, CycleRecord>();

  const scheduler: ComputeScheduler = createComputeScheduler({
    compiled: (ref) => {
      const p = parseStrategyRef(ref);
      return p ? registry.get(p.name, p.version)?.compiled : undefined;
    },
    computeBatch: (v, items) => pool.computeBatch(v, items),
  });

  /** Set by `stop()`: from then on no effect starts (the actor tree is left inert, see `stop`). */
  let closed = false;
  /** An effect that never settles once the node is stopped, so a late event starts no I/O. */
  const whileOpen =
    <A, R>(run: (args: A) => Promise<R>) =>
    (args: A): Promise<R> =>
      closed ? new Promise<R>(() => {}) : run(args);
  // Actor timers (supervision backoff) are tracked so that `stop()` can cancel them all.
  const baseActorClock = opts.actorClock ?? {
    now: () => clock.now(),
    setTimeout: (fn: (...a: unknown[]) => void, ms: number): unknown => setTimeout(fn, ms),
    clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout),
  };
  const actorTimers = new Set<unknown>();
  const actorClock = {
    now: () => baseActorClock.now(),
    setTimeout: (fn: (...a: unknown[]) => void, ms: number): unknown => {
      const id: unknown = baseActorClock.setTimeout((...a: unknown[]) => {
        actorTimers.delete(id);
        fn(...a);
      }, ms);
      actorTimers.add(id);
      return id;
    },
    clearTimeout: (id: unknown) => {
      actorTimers.delete(id);
      baseActorClock.clearTimeout(id);
    },
  };

  /** When each live trader's load reconciled it, until its first cycle. */
  const loadReconciledAt = new Map<string, number>();
  /**
   * Reconciles a live trader with its venue account; what is flagged pauses it (scope `risk`)
   * and closes the gate to it at once. True when it was paused.
   */
  const reconcileLive = async (t: TraderRecord, ex: Exchange): Promise<boolean> => {
    const r = await reconcileTrader(ex, store, t, { at: clock.now() });
    r.commands.events.forEach(emit);
    for (const a of r.commands.audit) await accounts.audit.record(a);
    for (const send of r.commands.sends) {
      gate.blockTrader(send.traderId);
      queueMicrotask(() => views.get(send.traderId)?.ref.send(send.event));
    }
    return r.commands.sends.length > 0;
  };

  /**
   * Stop-loss / take-profit the runtime watches for a live trader whose venue cannot attach them
   * to the entry order (Binance): the levels of its filled orders, and each symbol's high and low
   * over the closed candles since the level was set, up to this cycle's candle.
   */
  const managedExitsFor = async (t: TraderRecord, candleTime: number): Promise<ManagedExits | undefined> => {
    if (!isLiveVenue(t.venue) || venueCapabilities(t.venue).attachedStops) return undefined;
    const levels = exitLevelsFromOrders(await store.orders.listForTrader(t.id, { statuses: ['closed', 'open'] }));
    const ranges: Record<string, PriceRange> = {};
    for (const [symbol, level] of Object.entries(levels)) {
      if (!windows.has(symbol)) continue;
      // Candles that closed after the level was set (the one it was set in counts: stops fire early rather than late).
      const n = Math.min(windows.capacity, Math.max(1, Math.floor((candleTime - level.since) / 60_000) + 2));
      const highs = windows.readSpan(symbol, 'high', n, candleTime);
      const lows = windows.readSpan(symbol, 'low', n, candleTime);
      const closes = windows.readSpan(symbol, 'close', 1, candleTime);
      if (highs.from === null || closes.values.length === 0) continue;
      let high = -Infinity;
      let low = Infinity;
      for (let i = 0; i < highs.values.length; i++) {
        if (highs.from + (i + 1) * 60_000 <= level.since) continue;
        high = Math.max(high, highs.values[i]!);
        low = Math.min(low, lows.values[i]!);
      }
      if (high === -Infinity) continue;
      ranges[symbol] = { high: String(high), low: String(low), close: String(closes.values[0]) };
    }
    return { levels, ranges };
  };

  /** Runs a version once, flat, with the given params and equity: the strategy's own checks refuse bad params. */
  const dryRunVersion = async (
    ref: { readonly name: string; readonly version: number },
    params: Record<string, unknown>,
    equity: number,
    traderId: string,
  ): Promise<{ ok: true } | { ok: false; error: string }> => {
    const v = registry.get(ref.name, ref.version);
    if (!v) return { ok: false, error: 'unknown version' };
    const res = await pool.computeBatch({ ref: `${v.name}@${v.version}`, compiled: v.compiled }, [
      { traderId, params, now: lastCandle ?? clock.now(), equity, positions: {} },
    ]);
    const r = res.get(traderId);
    if (!r) return { ok: false, error: 'no result from the strategy pool' };
    return r.ok ? { ok: true } : { ok: false, error: r.error.message };
  };

  const traderInput = (t: TraderRecord): TraderInput => {
    const s = persisted.get(t.id);
    const desired: TraderInput['desired'] =
      s?.status === 'paused' ? 'paused' : s?.status === 'error' ? 'error' : s?.status === 'stopped' ? 'stopped' : 'running';
    return {
      traderId: t.id,
      managerId: t.managerId,
      strategyRef: Ids.strategy(t.strategyName, t.strategyVersion),
      desired,
      pause: s?.state.pause ?? null,
      pauses: (s?.state.pauses as PauseSet | undefined) ?? null,
      error: s?.state.error ?? null,
      lastCycleAt: s?.state.lastCycleAt ?? null,
    };
  };

  const supervisorState = persisted.get('supervisor');
  const supervisorPause = (supervisorState?.state.pause as PauseInfo | null | undefined) ?? null;

  const managerInputs: ManagerInput[] = managerRecords.map((m) => {
    const ms = persisted.get(m.id);
    const traders = [...traderRecords.values()].filter((t) => t.managerId === m.id);
    return {
      managerId: m.id,
      policy: { ...DEFAULT_POLICY, maxRestarts: m.maxRestarts, windowMs: m.restartWindowMs },
      traders: traders.map(traderInput),
      pause: (ms?.state.pause as PauseInfo | null | undefined) ?? null,
      pauses: (ms?.state.pauses as PauseSet | undefined) ?? null,
      restarts: (ms?.state.restartLog as Record<string, number[]> | undefined) ?? {},
      escalated: (ms?.state.escalatedTraders as Record<string, boolean> | undefined) ?? {},
    };
  });

  const persistTrader = (v: TraderView) =>
    states.push({
      actorId: v.record.id,
      kind: 'trader',
      status: v.status,
      state: { pause: v.pause, pauses: v.pauses, error: v.error, lastCycleAt: v.lastCycleAt },
      updatedAt: clock.now(),
    });

  const provided = supervisorMachine.provide({
    actions: {
      closeGate: (_, p: PauseInfo) => gate.close({ by: p.by, reason: p.reason, at: p.at }),
      openGate: () => gate.open(),
      managerFailed: (_, p: { managerId: string; message: string }) =>
        emit({
          at: clock.now(),
          type: 'manager.failed',
          severity: 'critical',
          managerId: p.managerId,
          actor: 'supervisor',
          message: `manager ${p.managerId} failed: ${p.message}`,
        }),
    },
    actors: {
      manager: managerMachine.provide({
        actions: {
          traderEscalated: (_, p: { traderId: string; reason: string }) => {
            const t = traderRecords.get(p.traderId);
            emit({
              at: clock.now(),
              type: 'trader.escalated',
              severity: 'critical',
              traderId: p.traderId,
              managerId: t?.managerId ?? null,
              actor: 'supervisor',
              message: `${t?.name ?? p.traderId} escalated: ${p.reason}. Only an operator's restart brings it back.`,
            });
          },
          traderRespawned: (_, p: { traderId: string; ref: AnyActorRef }) => {
            const t = traderRecords.get(p.traderId);
            if (t) observeTrader(t, p.ref);
          },
          restartScheduled: (_, p: { traderId: string; delayMs: number; attempt: number }) => {
            const t = traderRecords.get(p.traderId);
            emit({
              at: clock.now(),
              type: 'trader.restart_scheduled',
              severity: 'warning',
              traderId: p.traderId,
              managerId: t?.managerId ?? null,
              actor: 'supervisor',
              message: `restart ${p.attempt} in ${Math.round(p.delayMs / 1000)} s`,
              data: { delayMs: p.delayMs, attempt: p.attempt },
            });
          },
        },
        actors: {
          trader: traderMachine.provide({
            actions: {
              loadTrader: traderEffect(whileOpen(async ({ input }: { input: LoadTraderInput }) => {
                // The boot load uses the row read with every other trader; a later (re)load reads
                // it again, since an operator may have changed it.
                const cached = firstLoad.delete(input.traderId) ? traderRecords.get(input.traderId) : undefined;
                const t = cached ?? (await store.traders.get(Ids.trader(input.traderId)));
                if (!t) throw new Error(`trader ${input.traderId} is not in the database`);
                traderRecords.set(t.id, t);
                const v = registry.get(t.strategyName, t.strategyVersion) ?? (await store.strategies.getVersion(t.strategyName, t.strategyVersion));
                if (!v) throw new Error(`strategy ${t.strategyName}@${t.strategyVersion} is not registered`);
                if (t.venue === 'paper') {
                  if (!venue.hasAccount(t.accountId)) venue.openAccount(t.accountId, t.initialCapital);
                } else {
                  // A live account is opened (and its key checked), then reconciled with our records.
                  await reconcileLive(t, opts.liveAccount ? accountOf(t) : await live.ensure(t));
                  loadReconciledAt.set(t.id, clock.now());
                }
                const view = views.get(t.id);
                if (view) (view as { record: TraderRecord }).record = t;
                return { strategyRef: Ids.strategy(t.strategyName, t.strategyVersion) };
              })),
              computeTargets: traderEffect(
                whileOpen(async ({ input, signal }: { input: ComputeTargetsInput; signal: CancelSignal }) => {
                  const t = traderRecords.get(input.traderId);
                  if (!t) throw new Error(`trader ${input.traderId} is not loaded`);
                  const ex = accountOf(t);
                  // Every cycle of a live trader starts from the venue's word: a manual change on
                  // the exchange is adopted or flagged (and the trader paused) before it trades.
                  // (The catch-up cycle right after a load was reconciled by the load itself.)
                  const loadedAt = loadReconciledAt.get(t.id);
                  loadReconciledAt.delete(t.id);
                  const justReconciled = loadedAt !== undefined && clock.now() - loadedAt < RECONCILED_FRESH_MS;
                  if (t.venue !== 'paper' && !justReconciled && (await reconcileLive(t, ex))) {
                    await new Promise<void>((r) => setImmediate(r));
                    if (signal.aborted) return {};
                    throw new Error('reconciliation paused the trader');
                  }
                  const [bal, positions] = await Promise.all([ex.fetchBalance(), ex.fetchPositions()]);
                  const equity = Number(bal.equity);
                  const pos: Record<string, { side: 'long' | 'short'; amount: number; entryPrice: number; weight: number }> = {};
                  for (const p of positions) {
                    const notional = Number(p.amount) * Number(p.markPrice);
                    pos[p.symbol] = {
                      side: p.side,
                      amount: Number(p.amount),
                      entryPrice: Number(p.entryPrice),
                      weight: equity > 0 ? ((p.side === 'long' ? 1 : -1) * notional) / (equity * t.leverage) : 0,
                    };
                  }
                  const startedAtMs = clock.now();
                  const base: CycleRecord = {
                    cycleId: input.cycleId,
                    traderId: t.id,
                    strategyRef: input.strategyRef,
                    params: t.params,
                    candleFrom: null,
                    candleTo: null,
                    targets: null,
                    plan: null,
                    status: 'started',
                    error: null,
                    startedAt: startedAtMs,
                    finishedAt: null,
                  };
                  try {
                    const out = await scheduler.request({
                      ref: input.strategyRef,
                      item: { traderId: t.id, params: t.params as Record<string, unknown>, now: input.candleTime, equity, positions: pos },
                      signal,
                    });
                    const rec: CycleRecord = {
                      ...base,
                      candleFrom: out.candleFrom,
                      candleTo: out.candleTo,
                      targets: out.targets,
                      ...(signal.aborted
                        ? { status: 'canceled', error: 'canceled: the trader was paused', finishedAt: clock.now() }
                        : {}),
                    };
                    if (!signal.aborted) openCycles.set(input.cycleId, rec);
                    cycles.push(rec);
                    return out.targets;
                  } catch (err) {
                    cycles.push({ ...base, status: 'failed', error: errorMessage(err), finishedAt: clock.now() });
                    throw err;
                  }
                }),
              ),
              executeRebalance: traderEffect<ExecuteRebalanceInput, unknown>(
                whileOpen(async ({
                  input,
                  signal,
                }: {
                  input: ExecuteRebalanceInput;
                  signal: CancelSignal;
                }) => {
                  const t = traderRecords.get(input.traderId);
                  if (!t) throw new Error(`trader ${input.traderId} is not loaded`);
                  let report: RebalanceReport | null = null;
                  let failure: string | null = null;
                  try {
                    const managedExits = await managedExitsFor(t, input.candleTime);
                    report = await executeRebalance(
                      {
                        clock,
                        orders: batchedOrders,
                        gate,
                        threshold: config.rebalanceThreshold,
                        emit,
                        leverageSet,
                        dayStartEquity: (id, equity) => {
                          const day = Math.floor(input.candleTime / 86_400_000);
                          const cur = dayStart.get(id);
                          if (cur && cur.day === day) return cur.equity;
                          dayStart.set(id, { day, equity });
                          return equity;
                        },
                      },
                      exchangeOf(t),
                      { id: t.id, managerId: t.managerId, leverage: t.leverage, limits: resolveLimits(t.riskLimits) },
                      { cycleId: input.cycleId, targets: input.targets, ...(managedExits ? { managedExits } : {}) },
                      signal,
                    );
                  } catch (err) {
                    failure = errorMessage(err);
                    throw err instanceof TradingHalted ? err : new Error(`rebalance failed: ${failure}`);
                  } finally {
                    const base = openCycles.get(input.cycleId);
                    openCycles.delete(input.cycleId);
                    cycles.push({
                      cycleId: input.cycleId,
                      traderId: t.id,
                      strategyRef: base?.strategyRef ?? Ids.strategy(t.strategyName, t.strategyVersion),
                      params: base?.params ?? t.params,
                      candleFrom: base?.candleFrom ?? null,
                      candleTo: base?.candleTo ?? null,
                      targets: input.targets,
                      plan: report,
                      status: failure ? 'failed' : report?.canceled || signal.aborted ? 'canceled' : 'completed',
                      error: failure,
                      startedAt: base?.startedAt ?? clock.now(),
                      finishedAt: clock.now(),
                    });
                  }
                  return report;
                }),
              ),
            },
          }),
        },
      }),
    },
  });


  const supervisor = createActor(provided, {
    input: { managers: managerInputs, pause: supervisorPause },
    clock: actorClock,
  });
  supervisor.subscribe({
    error: (err) => log.error({ err }, 'supervisor failed'),
  });

  const managerRefs = new Map<string, AnyActorRef>();
  const api = createPlatformApi({
    clock,
    store,
    bus,
    gate,
    registry,
    pool,
    views,
    managers: managerRecords,
    managerRef: (id) => managerRefs.get(id),
    supervisor,
    startedAt,
    databaseKind: db.kind,
    lastCandleAt: () => lastCandle,
    symbols: symbols.length,
    durable: async () => {
      runEffects();
      await states.flush();
      await events.flush();
    },
    dryRun: async (traderId, ref, params) => {
      const t = traderRecords.get(traderId);
      if (!t) return { ok: false, error: 'unknown trader' };
      const bal = await accountOf(t).fetchBalance();
      return dryRunVersion(ref, params, Number(bal.equity), t.id);
    },
    positions: async (traderId) => {
      const t = traderRecords.get(traderId);
      return t ? accountOf(t).fetchPositions() : [];
    },
    onAssigned: (t) => {
      traderRecords.set(t.id, t);
      const view = views.get(t.id);
      if (view) (view as { record: TraderRecord }).record = t;
    },
    audit: accounts.audit,
    createBot: (input, who) => createBot(input, who),
    resolveReconciliation: async (traderId, decision, who) => {
      const v = views.get(traderId);
      if (!v || v.record.venue === 'paper') return { ok: false, error: 'only a live bot is reconciled' };
      const t = v.record;
      try {
        const ex = accountOf(t);
        if (decision === 'accept') await acceptVenueState(ex, store, t.id, { at: clock.now() });
        const r = await reconcileTrader(ex, store, t, { at: clock.now() });
        r.commands.events.filter((e) => e.type === 'reconcile.adopted').forEach(emit);
        if (r.flagged.length > 0) return { ok: false, error: `the venue still differs: ${r.flagged.map((d) => d.message).join('; ')}` };
      } catch (err) {
        return { ok: false, error: `could not reach ${t.venue}: ${errorMessage(err)}` };
      }
      emit({
        at: clock.now(),
        type: 'reconcile.resolved',
        severity: 'info',
        traderId: t.id,
        managerId: t.managerId,
        actor: who.by,
        message: decision === 'accept' ? `${who.by} accepted the venue's positions and orders as ${t.name}'s baseline` : `${who.by} re-checked ${t.name}: the venue matches`,
      });
      v.ref.send({ type: 'trader.resume', by: who.by, scope: 'risk', at: clock.now() });
      return { ok: true, message: decision === 'accept' ? `${t.name}: venue state accepted, reconciliation pause lifted` : `${t.name}: venue matches, reconciliation pause lifted` };
    },
    exchanges: () => live.stats(),
  });

  // Observe every trader snapshot: persist state changes, write events, feed the console.
  const subs: Subscription[] = [];
  const traderSubs = new Map<string, Subscription>();
  const observed = new Set<string>();
  interface PendingEffects {
    readonly view: TraderView;
    readonly before: TraderStatus;
    statusChanged: boolean;
    persist: boolean;
    ready: boolean;
  }
  const pendingEffects = new Map<string, PendingEffects>();
  let effectsScheduled = false;
  /** False until the tree is rebuilt: catch-up ticks wait for it and go out in one sliced wave. */
  let booted = false;
  const awaitingBoot = new Set<string>();
  /**
   * The status each rebuilt trader had when the last process stopped. Coming back to it is not
   * news: no event per trader (a restart used to re-announce every running, paused and failed
   * trader — "failed" again for each one in error), one `node.restored` event for the whole
   * boot instead. A trader that comes back in another state (its load failed) is reported.
   */
  const restoredStatus = new Map<string, TraderStatus>();
  let restoredCount = 0;
  const bootFinished = () => {
    booted = true;
    heapGrowth.booted();
    restoredStatus.clear();
    if (restoredCount === 0) return;
    const counts: Partial<Record<TraderStatus, number>> = {};
    for (const v of views.values()) counts[v.status] = (counts[v.status] ?? 0) + 1;
    const parts = (['running', 'paused', 'error', 'stopped'] as const).filter((k) => counts[k]).map((k) => `${counts[k]} ${k === 'error' ? 'in error' : k}`);
    emit({
      at: clock.now(),
      type: 'node.restored',
      severity: 'info',
      actor: 'system',
      message: `${restoredCount} traders back in their states${parts.length ? `: ${parts.join(', ')}` : ''}`,
      data: { traders: restoredCount, ...counts },
    });
  };
  const runEffects = () => {
    effectsScheduled = false;
    if (pendingEffects.size === 0) return;
    const batch = [...pendingEffects.values()];
    pendingEffects.clear();
    const at = clock.now();
    const ready: TraderView[] = [];
    for (const p of batch) {
      const v = p.view;
      if (p.statusChanged && v.status !== p.before) {
        const restored = restoredStatus.get(v.record.id);
        if (restored !== v.status) emit(statusEvent(v, p.before, at));
        if (restored !== undefined && v.status !== 'starting') restoredStatus.delete(v.record.id);
      }
      if (v.status === 'paused') gate.blockTrader(v.record.id);
      else gate.unblockTrader(v.record.id);
      if (p.persist) persistTrader(v);
      publishBot(v);
      if (p.ready) ready.push(v);
    }
    if (!booted) {
      for (const p of batch) if (p.view.status !== 'starting') awaitingBoot.delete(p.view.record.id);
      if (awaitingBoot.size > 0) return;
      // Every trader has loaded: one sliced catch-up wave on the latest closed candle.
      bootFinished();
      if (lastCandle !== null) tickAll(lastCandle);
      return;
    }
    // A trader that has just loaded or resumed catches up on the latest closed candle at once.
    if (lastCandle !== null) sendTicks(ready, lastCandle);
  };
  /** Skips the cycle of a trader whose symbols have no fresh candles (live feeds only). */
  const staleGuard = createStaleDataGuard(feed);
  let ticking = 0;
  /**
   * Ticks the idle traders that have not run `candleTime`. Each tick starts the trader's cycle
   * (its balance and positions read for the strategy), so they go out a turn's budget at a time.
   */
  const sendTicks = (list: readonly TraderView[], candleTime: number) => {
    ticking += list.length;
    for (const v of list) {
      processTurns.run(() => {
        ticking--;
        if (!closed && v.detail === 'running.idle' && (v.lastCycleAt ?? -1) < candleTime) {
          const t = v.record;
          const g = staleGuard.check(t, registry.get(t.strategyName, t.strategyVersion)?.meta.universe ?? [], candleTime, clock.now());
          if (g.event) emit(g.event);
          if (g.run) v.ref.send({ type: 'trader.tick', candleTime });
        }
      }, 'tick');
    }
  };
  const observeTrader = (record: TraderRecord, ref: AnyActorRef) => {
    traderSubs.get(record.id)?.unsubscribe();
    const prev = views.get(record.id);
    const view: TraderView = prev
      ? Object.assign(prev, { ref })
      : { record, ref, status: 'starting', detail: 'starting', pause: null, pauses: {}, error: null, lastCycleAt: null };
    views.set(record.id, view);
    const onSnap = (snap: TraderSnapshot) => {
      const status = traderStatus(snap);
      const detail = traderStateDetail(snap);
      const ctx: TraderContext = snap.context;
      const first = !observed.has(record.id);
      const changed =
        first || status !== view.status || detail !== view.detail || ctx.lastCycleAt !== view.lastCycleAt || ctx.pause !== view.pause || ctx.pauses !== view.pauses || ctx.error !== view.error;
      if (!changed) return;
      if (first) observed.add(record.id);
      const before = view.status;
      // Back to idle after loading, resuming or finishing a cycle: if a newer candle closed
      // meanwhile (its tick found the trader busy), the trader catches up on it at once.
      const becameReady = detail === 'running.idle' && view.detail !== 'running.idle';
      view.status = status;
      view.detail = detail;
      view.pause = ctx.pause ?? null;
      view.pauses = ctx.pauses;
      view.error = ctx.error ?? null;
      view.lastCycleAt = ctx.lastCycleAt ?? null;
      // Only the view is updated here, on the command's path; events, persistence, gate blocks
      // and the console run once per turn for every trader that changed (see runEffects).
      const p = pendingEffects.get(record.id);
      if (p) {
        p.statusChanged ||= status !== before || first;
        p.persist ||= detail !== 'running.computing' && detail !== 'running.rebalancing';
        p.ready ||= becameReady;
      } else {
        pendingEffects.set(record.id, {
          view,
          before,
          statusChanged: status !== before || first,
          persist: detail !== 'running.computing' && detail !== 'running.rebalancing',
          ready: becameReady,
        });
      }
      if (!effectsScheduled) {
        effectsScheduled = true;
        setImmediate(runEffects);
      }
    };
    traderSubs.set(
      record.id,
      observeSafely(ref as unknown as { subscribe: AnyActorRef['subscribe'] }, (s) => onSnap(s as TraderSnapshot), (err) =>
        log.error({ err, trader: record.id }, 'trader actor failed'),
      ),
    );
    onSnap(ref.getSnapshot() as TraderSnapshot);
  };

  /** Bots whose row changed since the last live publish. */
  const dirtyBots = new Set<string>();
  let publishTimer: NodeJS.Timeout | null = null;
  const publishBot = (view: TraderView) => {
    dirtyBots.add(view.record.id);
    if (publishTimer) return;
    publishTimer = setTimeout(publishDirty, LIVE_PUBLISH_MS);
    publishTimer.unref?.();
  };
  const publishDirty = () => {
    publishTimer = null;
    if (dirtyBots.size > LIVE_ROWS_MAX) {
      bus.publish({ kind: 'live', change: { type: 'fleet.changed' } });
    } else {
      for (const id of dirtyBots) {
        const bot = api.botRow(id);
        if (bot) bus.publish({ kind: 'live', change: { type: 'bot.changed', bot } });
      }
    }
    dirtyBots.clear();
  };
  let platformQueued = false;
  /** Publishes the platform status once per turn however many actors changed. */
  const publishPlatform = () => {
    if (platformQueued) return;
    platformQueued = true;
    setImmediate(() => {
      platformQueued = false;
      bus.publish({ kind: 'live', change: { type: 'platform.changed', status: api.platformStatus() } });
    });
  };

  const observeManager = (m: ManagerRecord, ref: AnyActorRef) => {
    managerRefs.set(m.id, ref);
    let last = '';
    const onSnap = (ctx: ManagerContext) => {
      const key = JSON.stringify([ctx.pauses, ctx.restarts, ctx.escalated]);
      if (key === last) return;
      last = key;
      states.push({
        actorId: m.id,
        kind: 'manager',
        status: ctx.pause ? 'paused' : 'active',
        state: { pause: ctx.pause, pauses: ctx.pauses, restartLog: ctx.restarts, escalatedTraders: ctx.escalated },
        updatedAt: clock.now(),
      });
      if (ctx.pause) gate.blockManager(m.id);
      else gate.unblockManager(m.id);
      publishPlatform();
    };
    subs.push(
      observeSafely(
        ref as unknown as { subscribe: AnyActorRef['subscribe'] },
        (s) => onSnap((s as { context: ManagerContext }).context),
        (err) => log.error({ err, manager: m.id }, 'manager actor failed'),
      ),
    );
    onSnap(ref.getSnapshot().context as ManagerContext);
  };

  supervisor.start();
  let lastSupervisorKey = '';
  const onSupervisor = () => {
    const ctx: SupervisorContext = supervisor.getSnapshot().context;
    const key = JSON.stringify(ctx.pause);
    if (key === lastSupervisorKey) return;
    lastSupervisorKey = key;
    states.push({
      actorId: 'supervisor',
      kind: 'supervisor',
      status: ctx.pause ? 'paused' : 'active',
      state: { pause: ctx.pause },
      updatedAt: clock.now(),
    });
    publishPlatform();
  };
  subs.push(observeSafely(supervisor, onSupervisor, (err) => log.error({ err }, 'supervisor failed')));
  onSupervisor();

  const supervised = supervisor.getSnapshot().context.managers;
  for (const m of managerRecords) {
    const mref = supervised[m.id];
    if (!mref) throw new Error(`manager ${m.id} was not spawned`);
    observeManager(m, mref);
    const kids = (mref.getSnapshot().context as ManagerContext).traders;
    for (const t of traderRecords.values()) {
      if (t.managerId !== m.id) continue;
      const tref = kids[t.id];
      if (tref) {
        awaitingBoot.add(t.id);
        const before = persisted.get(t.id)?.status;
        if (before === 'running' || before === 'paused' || before === 'error' || before === 'stopped') {
          restoredStatus.set(t.id, before);
          restoredCount++;
        }
        observeTrader(t, tref);
      }
    }
  }

  /** Bots created from the console or the API: stored, then started under their manager. */
  const createBot = createBotCommand({
    clock,
    user: async (id) => {
      const u = await accounts.store.users.get(id);
      return u ? { id: u.id, status: u.status } : null;
    },
    managers: () => managerRecords,
    traders: () => traderRecords.values(),
    version: (name, version) => {
      const v = registry.get(name, version);
      return v ? { defaults: v.meta.defaults } : null;
    },
    key: (id) => keyStore.get(id),
    dryRun: (ref, params, equity) => dryRunVersion(ref, params, equity, 'new-bot'),
    newId: opts.newTraderId ?? (() => `t-${randomBytes(6).toString('hex')}`),
    save: (t) => store.traders.upsert(t),
    start: async (t, pause) => {
      traderRecords.set(t.id, t);
      if (t.venue === 'paper' && !venue.hasAccount(t.accountId)) {
        venue.openAccount(t.accountId, t.initialCapital);
        await venue.flush();
      }
      const mref = managerRefs.get(t.managerId);
      if (!mref) throw new Error(`group ${t.managerId} is not running`);
      const input: TraderInput = {
        traderId: t.id,
        managerId: t.managerId,
        strategyRef: Ids.strategy(t.strategyName, t.strategyVersion),
        desired: pause ? 'paused' : 'running',
        pause,
        pauses: pause ? { trader: pause } : null,
        error: null,
        lastCycleAt: null,
      };
      mref.send({ type: 'manager.addTraders', traders: [input] });
      const tref = (mref.getSnapshot().context as ManagerContext).traders[t.id];
      if (!tref) throw new Error(`trader ${t.id} was not spawned`);
      observeTrader(t, tref);
      emit({
        at: clock.now(),
        type: 'trader.created',
        severity: 'info',
        traderId: t.id,
        managerId: t.managerId,
        actor: 'console',
        message: `${t.name} created (${t.strategyName}@${t.strategyVersion}, ${t.venue})${pause ? ', paused' : ''}`,
      });
    },
  });

  const metrics: MetricsCollector = createMetricsCollector({
    clock,
    repo: store.metrics,
    traders: () =>
      [...traderRecords.values()].map((t) => ({
        traderId: t.id,
        managerId: t.managerId,
        userId: t.userId,
        initialCapital: t.initialCapital,
        read: async () => {
          const b = await accountOf(t).fetchBalance();
          return { equity: b.equity, unrealizedPnl: b.unrealizedPnl };
        },
      })),
  });
  api.attachMetrics(metrics);

  // Users, security and audit, risk policies: the operator modules over the same services.
  const admin = createAdminApi({
    clock: opts.accountsClock ?? systemClock,
    platform: api,
    accounts,
    store,
    keyStore,
    risk,
    validateKey: (id, by) => live.validateKey(id, by),
    managerOf: (id) => traderRecords.get(id)?.managerId,
    positions: async (id) => {
      const t = traderRecords.get(id);
      return t ? accountOf(t).fetchPositions() : [];
    },
    recordEvents: async (rows) => {
      rows.forEach(emit);
      await events.flush();
    },
  });

  /** Evaluates the risk policies on this minute's metrics and pauses the traders in breach. */
  const applyRiskPolicies = async (rows: readonly MetricRecord[]) => {
    const samples = samplesFromMetrics(rows, (id) => {
      const t = traderRecords.get(id);
      return t ? { id: t.id, userId: t.userId, leverage: t.leverage, initialCapital: t.initialCapital } : undefined;
    });
    if (samples.length === 0) return;
    const { newViolations } = await risk.evaluate(samples);
    if (newViolations.length === 0) return;
    const c = violationCommands(newViolations, clock.now(), (id) => traderRecords.get(id)?.managerId);
    for (const s of c.sends) {
      gate.blockTrader(s.traderId);
      views.get(s.traderId)?.ref.send(s.event);
    }
    c.events.forEach(emit);
    for (const a of c.audit) await accounts.audit.record(a);
    await Promise.all([states.flush(), events.flush()]);
  };

  // The trading loop: every closed candle ticks the running traders that have not yet run it.
  let lastMetricsMinute = -1;
  /** Metrics and risk policies of the last minute, run beside the wave rather than inside it. */
  let background: Promise<void> = Promise.resolve();
  const tickAll = (candleTime: number) => sendTicks([...views.values()], candleTime);
  const step = async (): Promise<number> => {
    const n = await feed.advance();
    const latest = feed.lastOpenTime();
    if (latest !== null) {
      lastCandle = latest;
      if (n > 0 && booted) tickAll(latest);
      const minute = Math.floor(latest / 60_000);
      if (minute !== lastMetricsMinute) {
        lastMetricsMinute = minute;
        background = background.then(async () => {
          const rows = await metrics.collect().catch((err: unknown) => {
            log.error({ err }, 'metrics collection failed');
            return [];
          });
          await applyRiskPolicies(rows).catch((err: unknown) => log.error({ err }, 'risk policy evaluation failed'));
        });
      }
    }
    if (n > 0) {
      // Stop-loss, take-profit and liquidation fills the new candles triggered become durable now.
      await venue.flush().catch((err: unknown) => log.error({ err }, 'paper exchange flush failed; will retry'));
      await store.settings.set('clock.now', clock.now()).catch((err: unknown) => log.warn({ err }, 'could not store the clock'));
    }
    return n;
  };

  let timer: NodeJS.Timeout | null = null;
  /** The timer's step in progress, so `stop()` can let it finish. */
  let stepping: Promise<void> | null = null;
  const timedStep = () => {
    if (stepping) return;
    stepping = step()
      .then(() => undefined, (err: unknown) => log.error({ err }, 'market step failed'))
      .finally(() => {
        stepping = null;
      });
  };
  if (opts.autoRun !== false) {
    const everyMs = Math.max(100, Math.min(1000, 60_000 / config.marketTimeScale / 4));
    timer = setInterval(timedStep, everyMs);
    timer.unref?.();
    timedStep();
  }

  const flush = async () => {
    runEffects();
    await Promise.all([states.flush(), events.flush(), cycles.flush(), venue.flush()]);
  };

  const settle = async (timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      await background;
      runEffects();
      const busy =
        !booted ||
        ticking > 0 ||
        effectsScheduled ||
        [...views.values()].some((v) => v.detail === 'running.computing' || v.detail === 'running.rebalancing' || v.status === 'starting');
      if (!busy && scheduler.inFlight() === 0) break;
      if (Date.now() > until) throw new Error('runtime did not settle in time');
      await new Promise((r) => setTimeout(r, 10));
    }
    await flush();
  };

  if (awaitingBoot.size === 0) bootFinished();
  // Boot inputs are spent: the actors hold their state now.
  persisted.clear();

  log.info(
    { traders: views.size, managers: managerRecords.length, database: db.kind, tradingPaused: !gate.isOpen() },
    'runtime node started',
  );

  return {
    api,
    store,
    accounts,
    admin,
    risk,
    keyStore,
    bus,
    gate,
    registry,
    databaseKind: db.kind,
    startedAt,
    traders: () => views,
    managers: () => managerRecords,
    managerRef: (id) => managerRefs.get(id),
    supervisor: () => supervisor,
    step,
    settle,
    flush,
    pool: () => pool,
    account: (traderId) => {
      const t = traderRecords.get(traderId);
      return t ? accountOf(t) : undefined;
    },
    lastCandleAt: () => lastCandle,
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      // Let the candle in progress finish first: a cycle cut off between recording an order
      // and storing the venue's answer leaves the order pending until the next start.
      await stepping;
      await settle(STOP_DRAIN_MS).catch((err: unknown) => log.warn({ err }, 'stopping with cycles still in flight'));
      registry.close();
      heapGrowth.stop();
      for (const s of subs) s.unsubscribe();
      for (const s of traderSubs.values()) s.unsubscribe();
      // The tree is not stopped actor by actor: XState copies a parent's children map for every
      // child it stops, 40 s of CPU for 50,000 traders under 100 managers. The actors hold no
      // I/O; with their timers cancelled and every effect inert they are simply dropped.
      closed = true;
      for (const id of actorTimers) baseActorClock.clearTimeout(id);
      actorTimers.clear();
      await flush().catch((err: unknown) => log.error({ err }, 'final flush failed'));
      await pool.close();
      await live.close();
      await feed.close();
      await store.close();
    },
  };
}

function statusEvent(v: TraderView, before: TraderStatus, at: number): EventRecord {
  const t = v.record;
  const base = { at, traderId: t.id, managerId: t.managerId, data: { from: before, to: v.status } };
  switch (v.status) {
    case 'paused':
      return {
        ...base,
        type: 'trader.paused',
        severity: 'warning',
        actor: v.pause?.by ?? 'system',
        message: `${t.name} paused by ${v.pause?.by ?? 'system'}${v.pause?.reason ? `: ${v.pause.reason}` : ''}`,
      };
    case 'error':
      return {
        ...base,
        type: 'trader.failed',
        severity: 'error',
        actor: 'system',
        message: `${t.name} failed: ${v.error?.message ?? 'unknown error'}`,
        data: { ...base.data, kind: v.error?.kind ?? ErrorKind.internal },
      };
    case 'running':
      return { ...base, type: 'trader.running', severity: 'info', actor: 'system', message: `${t.name} running` };
    case 'starting':
      return { ...base, type: 'trader.starting', severity: 'info', actor: 'system', message: `${t.name} starting` };
    case 'stopped':
      return { ...base, type: 'trader.stopped', severity: 'info', actor: 'system', message: `${t.name} stopped` };
  }
}

export { StrategyFailure };
