/**
 * The command and query layer every front end uses: the web console today, the JSON API and
 * the Telegram bot later. The runtime implements it over live actor snapshots and the store.
 */
import type { DecimalString, ErrorInfo, PauseInfo, TraderStatus } from './domain.ts';
import type {
  CycleRecord,
  EventRecord,
  OrderRecord,
  StrategyFileRecord,
  StrategyMeta,
} from './store/types.ts';

/** One row of the bots page, built from a live actor snapshot and the latest metrics. */
/** The most events one `recentEvents` call returns (the console's events page offers up to this many). */
export const MAX_RECENT_EVENTS = 1000;

export interface BotRow {
  readonly id: string;
  readonly name: string;
  readonly userId: string;
  readonly userName: string;
  readonly managerId: string;
  readonly managerName: string;
  readonly strategy: string; // name@version
  readonly status: TraderStatus;
  /** The detailed state, e.g. `running.computing`. */
  readonly stateDetail: string;
  readonly pause: PauseInfo | null;
  readonly error: ErrorInfo | null;
  /** Escalated after too many restarts: only an operator's restart brings it back. */
  readonly escalated: boolean;
  readonly portfolioValue: DecimalString | null;
  /** Return on initial capital as a fraction (0.012 = 1.2 %). */
  readonly roe: number | null;
  readonly lastCycleAt: number | null;
}

export interface ManagerRow {
  readonly id: string;
  readonly name: string;
  readonly paused: PauseInfo | null;
  readonly traderCount: number;
  readonly portfolioValue: DecimalString | null;
  readonly roe: number | null;
}

export interface PlatformStatus {
  /** True while Pause All is in force (the order gate is closed). */
  readonly tradingPaused: boolean;
  readonly pause: PauseInfo | null;
  readonly counts: Readonly<Record<TraderStatus, number>>;
  readonly portfolioValue: DecimalString | null;
  readonly roe: number | null;
}

export interface HealthInfo {
  readonly status: 'ok' | 'degraded';
  readonly uptimeMs: number;
  readonly database: 'pglite' | 'postgres';
  readonly databaseOk: boolean;
  readonly traders: number;
  readonly tradingPaused: boolean;
  readonly pool: { readonly threads: number; readonly queued: number; readonly completed: number };
  readonly market: { readonly lastCandleAt: number | null; readonly symbols: number };
  /** Live venues in use: requests, rate-limit budget and hits (empty when no live trader runs). */
  readonly exchanges: readonly ExchangeStats[];
  readonly now: number;
}

export interface BotDetail {
  readonly bot: BotRow;
  readonly params: Readonly<Record<string, unknown>>;
  readonly cycles: readonly CycleRecord[];
  readonly orders: readonly OrderRecord[];
  readonly events: readonly EventRecord[];
  readonly positions: readonly {
    readonly symbol: string;
    readonly side: string;
    readonly amount: DecimalString;
    readonly entryPrice: DecimalString;
    readonly markPrice: DecimalString;
    readonly unrealizedPnl: DecimalString;
    readonly liquidationPrice: DecimalString | null;
    readonly stopLoss: DecimalString | null;
    readonly takeProfit: DecimalString | null;
  }[];
}

export interface StrategyVersionRow {
  readonly name: string;
  readonly version: number;
  readonly hash: string;
  readonly filename: string;
  readonly createdAt: number;
  readonly meta: StrategyMeta;
  /** Traders pinned to this version. */
  readonly traders: number;
}

export interface StrategiesView {
  readonly versions: readonly StrategyVersionRow[];
  readonly files: readonly StrategyFileRecord[];
}

/** Request counters of one live venue (per exchange, across its keys and this node's IP). */
export interface ExchangeStats {
  readonly venue: string;
  /** Exchange keys with an open connection. */
  readonly keys: number;
  /** Traders trading on this venue. */
  readonly traders: number;
  /** Requests granted by the venue's IP budget since start. */
  readonly requests: number;
  /** Weight (or requests) used in the IP budget's current window, and its capacity. */
  readonly weightUsed: number;
  readonly weightCapacity: number;
  /** Rate-limit answers (HTTP 429/418 or the venue's code) since start. */
  readonly rateLimitHits: number;
  /** Requests waiting for budget now. */
  readonly queued: number;
  /** Until when the venue told us to back off (epoch ms), or null. */
  readonly pausedUntil: number | null;
}

/** What a new bot is made of (`createBot`). */
export interface NewBotInput {
  readonly name: string;
  /** The owner: the bot trades for this user (and with one of this user's exchange keys when live). */
  readonly userId: string;
  /** The group (manager) the bot runs under. */
  readonly managerId: string;
  readonly strategy: { readonly name: string; readonly version: number };
  /** Strategy params, validated against the version's schema; null: the version's defaults. */
  readonly params: Readonly<Record<string, unknown>> | null;
  /** `paper` or a live venue: `binanceusdm`, `bybit`, `okx`, `bitget`. */
  readonly venue: string;
  /** Live venues: the owner's exchange key of that venue the bot trades with. Paper: null. */
  readonly keyId: string | null;
  /** USDT as a decimal string: the paper account's starting balance; for a live bot the capital its ROE is measured against. */
  readonly initialCapital: string;
  /** 1 to 125. */
  readonly leverage: number;
  /** Create it paused (an operator resumes it) instead of running at once. */
  readonly startPaused?: boolean;
}

/** The result of `createBot`. */
export type CreateBotResult =
  | { readonly ok: true; readonly message: string; readonly botId: string }
  | { readonly ok: false; readonly code: 'invalid' | 'not_found' | 'conflict'; readonly error: string };

/** A change the console streams over SSE. */
export type LiveChange =
  | { readonly type: 'bot.changed'; readonly bot: BotRow }
  | { readonly type: 'platform.changed'; readonly status: PlatformStatus }
  /** Too many bots changed at once to list: a view refreshes what it shows. */
  | { readonly type: 'fleet.changed' }
  | { readonly type: 'strategies.changed' };

/** The result of a command: done, or refused with a reason a person can read. */
export type CommandResult = { readonly ok: true; readonly message: string } | { readonly ok: false; readonly error: string };

/** Who asks, and why (recorded with every command). */
export interface Actor {
  readonly by: string;
  readonly reason?: string;
  /** The signed-in user's id (recorded in the audit log); absent for the system. */
  readonly userId?: string;
  /** The client address the command came from. */
  readonly ip?: string;
}

/** The reason every pause a user suspension puts on that user's bots carries (and resume looks for). */
export const USER_SUSPENDED_REASON = 'user suspended';

/** What `pauseUser` / `resumeUser` did to each bot of the user. */
export interface UserBotsResult {
  /** Bots that got (or lost) the suspension's pause. */
  readonly changed: readonly string[];
  /** Bots left as they were, and why (e.g. already paused by an operator; stopped). */
  readonly skipped: readonly { readonly id: string; readonly why: string }[];
}

/** The result of a command on every bot of a user. */
export type UserCommandResult =
  | { readonly ok: true; readonly message: string; readonly bots: UserBotsResult }
  | { readonly ok: false; readonly error: string };

/** The platform's command and query surface. */
export interface PlatformApi {
  health(): Promise<HealthInfo>;
  platformStatus(): PlatformStatus;
  listBots(): readonly BotRow[];
  /** One bot's row, or null for an unknown id. */
  getBot(id: string): BotRow | null;
  listManagers(): readonly ManagerRow[];
  botDetail(id: string): Promise<BotDetail | null>;
  pauseBot(id: string, who: Actor): Promise<CommandResult>;
  resumeBot(id: string, who: Actor): Promise<CommandResult>;
  restartBot(id: string, who: Actor): Promise<CommandResult>;
  pauseManager(id: string, who: Actor): Promise<CommandResult>;
  resumeManager(id: string, who: Actor): Promise<CommandResult>;
  /**
   * Puts a `trader`-scope pause with the reason {@link USER_SUSPENDED_REASON} on every bot of a
   * user that has no trader-scope pause yet, whatever its state (running, paused by its group or
   * a risk policy, in error): none of them trades again until `resumeUser`.
   */
  pauseUser(userId: string, who: Actor): Promise<UserCommandResult>;
  /**
   * Lifts the suspension's pause from the bots of a user that carry it (and only those); a bot
   * that also holds a group, platform or risk pause stays paused by that pause.
   */
  resumeUser(userId: string, who: Actor): Promise<UserCommandResult>;
  pauseAll(who: Actor): Promise<CommandResult>;
  resumeAll(who: Actor): Promise<CommandResult>;
  strategies(): Promise<StrategiesView>;
  /** Pins a trader to a strategy version; params are validated against the version's schema. */
  assignStrategy(
    traderId: string,
    ref: { readonly name: string; readonly version: number },
    params: Readonly<Record<string, unknown>> | null,
    who: Actor,
  ): Promise<CommandResult>;
  /**
   * Creates a bot: stores its record (a paper bot gets its own paper account funded with
   * `initialCapital`) and starts its trader under the manager, running or paused. Refuses an
   * unknown user, manager, strategy version or key, params the version's schema rejects, a key
   * of another user or venue, a revoked/disabled/invalid key, and a name already used by one of
   * the user's bots. Audited.
   */
  createBot(input: NewBotInput, who: Actor): Promise<CreateBotResult>;
  /**
   * Settles a live bot that reconciliation paused (scope `risk`, by `reconcile`): `accept` takes
   * the venue's positions and foreign open orders as the bot's new baseline; `recheck` compares
   * again after the operator corrected the account on the venue. When nothing is left to decide
   * the bot resumes; otherwise the command is refused with the differences. Audited.
   */
  resolveReconciliation(traderId: string, decision: 'accept' | 'recheck', who: Actor): Promise<CommandResult>;
  /** The latest `limit` events, newest first; `limit` is clamped to 1…{@link MAX_RECENT_EVENTS}. */
  recentEvents(limit: number): Promise<readonly EventRecord[]>;
  /** Subscribes to live changes; returns the unsubscribe function. */
  subscribe(listener: (change: LiveChange) => void): () => void;
}
