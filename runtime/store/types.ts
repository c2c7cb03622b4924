/**
 * Records and repository interfaces of the system of record. `createStore(sql)` implements
 * them over porsager's `postgres` client, which talks to PostgreSQL or to embedded PGlite
 * through pglite-socket alike. Times are epoch milliseconds from the injected clock.
 */
import type {
  DecimalString,
  ErrorInfo,
  ManagerId,
  MarketSymbol,
  PauseInfo,
  TargetWeights,
  TraderId,
  TraderStatus,
  UserId,
} from '../domain.ts';
import type { Fill, Order, OrderRequest } from '../exchange/port.ts';

export interface UserRecord {
  readonly id: UserId;
  readonly email: string;
  readonly displayName: string;
  readonly role: string;
  readonly createdAt: number;
}

export interface ManagerRecord {
  readonly id: ManagerId;
  readonly name: string;
  readonly capital: DecimalString;
  readonly maxRestarts: number;
  readonly restartWindowMs: number;
  readonly createdAt: number;
}

/** Pre-trade limits per trader; absent fields take the platform defaults. */
export interface RiskLimits {
  readonly maxOpenPositions?: number;
  readonly maxLeverage?: number;
  /** Quote units. */
  readonly maxOrderNotional?: number;
  /** Fraction of day-start equity, e.g. 0.05. */
  readonly dailyLossLimit?: number;
}

export interface TraderRecord {
  readonly id: TraderId;
  readonly managerId: ManagerId;
  readonly userId: UserId;
  readonly name: string;
  readonly strategyName: string;
  readonly strategyVersion: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly venue: string;
  readonly accountId: string;
  readonly initialCapital: DecimalString;
  readonly leverage: number;
  readonly riskLimits: RiskLimits;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What is persisted of an actor so that a restart rebuilds it in the same state. */
export interface ActorStateRecord {
  readonly actorId: string;
  readonly kind: 'supervisor' | 'manager' | 'trader';
  readonly status: TraderStatus | 'active' | 'paused';
  /** Actor-specific persisted data (pause info, error, restart log, …). */
  readonly state: PersistedActorState;
  readonly updatedAt: number;
}

/** The persisted part of an actor's context. */
export interface PersistedActorState {
  readonly pause?: PauseInfo | null;
  readonly error?: ErrorInfo | null;
  /** Restart times (ms) inside the supervision window. */
  readonly restarts?: readonly number[];
  readonly escalated?: boolean;
  readonly lastCycleAt?: number | null;
  readonly [k: string]: unknown;
}

export type Severity = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export interface EventRecord {
  readonly id?: number;
  readonly at: number;
  /** Dot-namespaced, past tense for facts: `trader.paused`, `order.denied`. */
  readonly type: string;
  readonly severity: Severity;
  readonly traderId?: string | null;
  readonly managerId?: string | null;
  /** Who caused it: an operator's name, `system`, `risk`. */
  readonly actor?: string | null;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** JSON-safe description of a strategy version (what the console and traders need). */
export interface StrategyMeta {
  readonly description: string;
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly universe: readonly MarketSymbol[];
  readonly timeframe: string;
  readonly lookback: number;
  /** JSON Schema of the params (from zod). */
  readonly paramsSchema: unknown;
}

export interface StrategyVersionRecord {
  readonly name: string;
  readonly version: number;
  readonly hash: string;
  readonly filename: string;
  readonly language: 'ts' | 'js';
  readonly source: string;
  /** Self-contained ESM bundle the workers import. */
  readonly compiled: string;
  readonly meta: StrategyMeta;
  readonly createdAt: number;
}

export interface StrategyFileRecord {
  readonly filename: string;
  readonly hash: string;
  readonly status: 'valid' | 'broken';
  readonly name: string | null;
  readonly version: number | null;
  readonly error: string | null;
  readonly updatedAt: number;
}

/** A candle as stored; numbers as decimal strings. */
export interface CandleRecord {
  readonly symbol: MarketSymbol;
  readonly timeframe: string;
  readonly openTime: number;
  readonly open: DecimalString;
  readonly high: DecimalString;
  readonly low: DecimalString;
  readonly close: DecimalString;
  readonly volume: DecimalString;
}

export type OrderRecordStatus =
  | 'pending' // recorded, not yet acknowledged by the venue
  | 'open'
  | 'closed'
  | 'canceled'
  | 'rejected'
  | 'failed'; // the venue never accepted it (resolved by lookup)

export interface OrderRecord extends OrderRequest {
  readonly traderId: TraderId;
  readonly cycleId: string;
  readonly status: OrderRecordStatus;
  readonly exchangeOrderId: string | null;
  readonly filled: DecimalString;
  readonly average: DecimalString | null;
  readonly fee: DecimalString;
  readonly reason: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A decision record: everything needed to answer "why did this bot place that order?". */
export interface CycleRecord {
  readonly cycleId: string;
  readonly traderId: TraderId;
  readonly strategyRef: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly candleFrom: number | null;
  readonly candleTo: number | null;
  readonly targets: TargetWeights | null;
  /** The plan with each order's risk decision and outcome (JSON). */
  readonly plan: unknown;
  readonly status: 'started' | 'completed' | 'failed' | 'canceled';
  readonly error: string | null;
  readonly startedAt: number;
  readonly finishedAt: number | null;
}

export interface MetricRecord {
  /** `user`: the sum of one user's traders. */
  readonly scope: 'trader' | 'manager' | 'platform' | 'user';
  readonly scopeId: string;
  readonly at: number;
  readonly pv: DecimalString;
  readonly roe: number;
  readonly upnl: DecimalString;
  readonly sharpe: number | null;
  readonly mdd: number;
}

export interface UsersRepo {
  upsert(u: UserRecord): Promise<void>;
  list(): Promise<UserRecord[]>;
}

export interface ManagersRepo {
  upsert(m: ManagerRecord): Promise<void>;
  list(): Promise<ManagerRecord[]>;
}

export interface TradersRepo {
  upsert(t: TraderRecord): Promise<void>;
  list(): Promise<TraderRecord[]>;
  get(id: TraderId): Promise<TraderRecord | null>;
  /** Pins a trader to a strategy version (and optionally new params). */
  assignStrategy(id: TraderId, name: string, version: number, params: Record<string, unknown>, at: number): Promise<void>;
}

export interface ActorStatesRepo {
  /** Upserts many in one statement. */
  saveMany(rows: readonly ActorStateRecord[]): Promise<void>;
  list(): Promise<ActorStateRecord[]>;
}

export interface EventsRepo {
  /** Inserts many in one statement. */
  appendMany(rows: readonly EventRecord[]): Promise<void>;
  /** Newest first. */
  recent(opts: { limit: number; traderId?: string; types?: readonly string[] }): Promise<EventRecord[]>;
}

export interface StrategiesRepo {
  /** Inserts a version unless (name, hash) exists; returns the stored version either way. */
  insertVersion(v: Omit<StrategyVersionRecord, 'version'>): Promise<StrategyVersionRecord>;
  getVersion(name: string, version: number): Promise<StrategyVersionRecord | null>;
  listVersions(): Promise<StrategyVersionRecord[]>;
  upsertFile(f: StrategyFileRecord): Promise<void>;
  deleteFile(filename: string): Promise<void>;
  listFiles(): Promise<StrategyFileRecord[]>;
}

export interface CandlesRepo {
  /** Inserts or ignores (same symbol, timeframe, open time). */
  insertMany(rows: readonly CandleRecord[]): Promise<void>;
  /** Ascending by open time, the last `limit` at or before `until` (inclusive). */
  range(symbol: MarketSymbol, timeframe: string, opts: { until?: number; limit: number }): Promise<CandleRecord[]>;
  /** Newest open time per symbol, or null when none. */
  latestOpenTime(symbol: MarketSymbol, timeframe: string): Promise<number | null>;
}

export interface OrdersRepo {
  /** Records an order before it is sent. Returns false when the client id already exists. */
  insertPending(o: OrderRecord): Promise<boolean>;
  /**
   * Records many orders before they are sent, in one statement; returns the client ids it
   * inserted (an id already stored, or repeated in `records`, keeps its first row and is absent
   * unless this call inserted it).
   */
  insertPendingMany(records: readonly OrderRecord[]): Promise<Set<string>>;
  get(clientOrderId: string): Promise<OrderRecord | null>;
  /** Updates the venue's view of an order. */
  updateFromVenue(clientOrderId: string, o: Order, at: number): Promise<void>;
  /** `updateFromVenue` for many orders in one statement; the last row wins for a repeated id. */
  updateManyFromVenue(rows: readonly { readonly clientOrderId: string; readonly order: Order; readonly at: number }[]): Promise<void>;
  markFailed(clientOrderId: string, reason: string, at: number): Promise<void>;
  listPending(): Promise<OrderRecord[]>;
  recentForTrader(traderId: TraderId, limit: number): Promise<OrderRecord[]>;
  countForTrader(traderId: TraderId): Promise<number>;
  /**
   * A trader's orders, oldest first: only those in `statuses` when given, only those created
   * after `since` (ms, exclusive) when given. Reconciliation reads the expectation from it.
   */
  listForTrader(traderId: TraderId, opts?: { readonly statuses?: readonly OrderRecordStatus[]; readonly since?: number }): Promise<OrderRecord[]>;
}

export interface FillsRepo {
  /** Fills of an account, oldest first. */
  listForAccount(accountId: string, limit: number): Promise<Fill[]>;
  /** Sum of realized P&L minus fees, for reconciliation. */
  netForAccount(accountId: string): Promise<DecimalString>;
}

/** One atomic write of the paper exchange's books: accounts, accepted orders and fills. */
export interface PaperBatch {
  readonly accounts: readonly { readonly accountId: string; readonly state: unknown; readonly updatedAt: number }[];
  readonly orders: readonly { readonly accountId: string; readonly order: Order }[];
  readonly fills: readonly { readonly accountId: string; readonly fill: Fill }[];
}

export interface PaperRepo {
  /** Writes the batch in one transaction (all or nothing). */
  saveBatch(batch: PaperBatch): Promise<void>;
  loadAccounts(): Promise<{ accountId: string; state: unknown }[]>;
  loadOrders(): Promise<{ accountId: string; order: Order }[]>;
  /**
   * One stored order of an account by client id, or null. Lookups made in the same turn of the
   * event loop share one query (the paper venue's `lookupPersisted`).
   */
  findOrder(accountId: string, clientOrderId: string): Promise<Order | null>;
}

export interface CyclesRepo {
  upsertMany(rows: readonly CycleRecord[]): Promise<void>;
  recentForTrader(traderId: TraderId, limit: number): Promise<CycleRecord[]>;
  get(cycleId: string): Promise<CycleRecord | null>;
}

export interface MetricsRepo {
  insertMany(rows: readonly MetricRecord[]): Promise<void>;
  latest(scope: MetricRecord['scope']): Promise<MetricRecord[]>;
  series(scope: MetricRecord['scope'], scopeId: string, since: number): Promise<MetricRecord[]>;
}

export interface SettingsRepo {
  get<T>(key: string): Promise<T | null>;
  set(key: string, value: unknown): Promise<void>;
}

/** The whole store. */
export interface Store {
  readonly users: UsersRepo;
  readonly managers: ManagersRepo;
  readonly traders: TradersRepo;
  readonly actorStates: ActorStatesRepo;
  readonly events: EventsRepo;
  readonly strategies: StrategiesRepo;
  readonly candles: CandlesRepo;
  readonly orders: OrdersRepo;
  readonly fills: FillsRepo;
  readonly paper: PaperRepo;
  readonly cycles: CyclesRepo;
  readonly metrics: MetricsRepo;
  readonly settings: SettingsRepo;
  /** Closes connections (and the embedded database when this store owns it). */
  close(): Promise<void>;
}
