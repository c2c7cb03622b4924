/**
 * Live exchange accounts: a trader on a ccxt venue trades with the exchange key its
 * `accountId` names. The key is opened from the key store (sealed at rest) when first needed;
 * one ccxt adapter serves each key, behind the key's and the IP's shared rate limits, and every
 * trader's calls are failure-tracked on their own (a streak of failed calls, or one operational
 * failure, reports the trader once through `onTraderFailure`). Keys are checked against the
 * venue by reading the balance (`validateKey`), on demand and periodically.
 */
import type { ExchangeStats } from './api.ts';
import type { Clock } from './clock.ts';
import { errorMessage, type ErrorInfo } from './domain.ts';
import {
  createCcxtExchange,
  createFailureTracker,
  loadCcxt,
  withFailureTracking,
  type CcxtExchange,
  type CcxtExchangeOptions,
  type CcxtVenue,
  type RateLimits,
} from './exchange/ccxt/index.ts';
import { ExchangeError, type Exchange } from './exchange/index.ts';
import { KeyStoreError, type ExchangeKeyInfo, type KeyAction, type KeyStore } from './keys/index.ts';
import type { EventRecord, TraderRecord } from './store/types.ts';

/** The venues a live account can trade on (ccxt adapters). */
export const LIVE_VENUES: readonly CcxtVenue[] = ['binanceusdm', 'bybit', 'okx', 'bitget'];

/** Whether `venue` is traded through a ccxt adapter (not `paper`). */
export function isLiveVenue(venue: string): venue is CcxtVenue {
  return (LIVE_VENUES as readonly string[]).includes(venue);
}

/** What the live accounts need of the key store. */
export type LiveKeyStore = Pick<KeyStore, 'get' | 'list' | 'credentials' | 'markValid' | 'markInvalid'>;

/** The subset of a pino logger the live accounts write to. */
export interface LiveLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Timers of the periodic key check (injected; defaults to unref'd real timers). */
export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Dependencies of {@link createLiveAccounts}. */
export interface LiveAccountsDeps {
  readonly keyStore: LiveKeyStore;
  /** Shared by every adapter (and the market feed): budgets per key and per IP. */
  readonly limits: RateLimits;
  readonly clock: Clock;
  readonly log: LiveLog;
  /** A base URL replacing a venue's API hosts (tests: the loopback double; `EXCHANGE_API_URL`). */
  readonly apiBaseUrl?: (venue: CcxtVenue) => string | undefined;
  /** Told once per failure streak that a trader must stop: wire it to `trader.fail` (see {@link traderFailureCommands}). */
  readonly onTraderFailure: (traderId: string, error: ErrorInfo) => void;
  /** Consecutive failed calls of one trader that fail it (default 3). */
  readonly failureLimit?: number;
  /** Adapter tunables (timeouts, markets TTL, isolated margin). */
  readonly adapter?: Partial<Pick<CcxtExchangeOptions, 'timeoutMs' | 'marketsTtlMs' | 'isolatedMargin'>>;
  /** Checks every usable key against its venue this often (ms); unset: never on its own. */
  readonly validateEveryMs?: number;
  readonly timers?: IntervalTimers;
}

/** The outcome of checking one key against its venue. */
export interface KeyValidation {
  readonly keyId: string;
  /** `valid`/`invalid` are stored on the key; `unreachable` leaves it as it was; `skipped`: not checkable. */
  readonly status: 'valid' | 'invalid' | 'unreachable' | 'skipped';
  readonly reason: string | null;
}

/** Request counters of one venue, for the console (the platform API's `ExchangeStats`). */
export type LiveVenueStats = ExchangeStats;

/** The live accounts of a node. */
export interface LiveAccounts {
  /**
   * Opens (or reuses) the trader's key and adapter, checking the key first (an unchecked key is
   * validated); rejects with an operational `ExchangeError` for a missing, revoked, disabled or
   * invalid key, a key of another venue or of another user. Starts a new failure streak.
   */
  ensure(trader: TraderRecord): Promise<Exchange>;
  /**
   * The trader's failure-tracked account, synchronously (for `NodeOptions.liveAccount`); undefined
   * for a venue that is not live. Its first call opens the key as `ensure` does, so a bad key fails
   * that call (and reports the trader) even when `ensure` was never awaited.
   */
  get(trader: TraderRecord): Exchange | undefined;
  /** Checks a key by reading its balance and stores the verdict (`markValid` / `markInvalid` with the venue's reason). */
  validateKey(keyId: string, by?: string): Promise<KeyValidation>;
  /** Checks every stored live-venue key that is not revoked or disabled, one after another. */
  validateAll(by?: string): Promise<KeyValidation[]>;
  /** Reacts to a key history row (wire to the key store's `onEvent`): a changed, invalidated, revoked, disabled or deleted key is reopened on next use. */
  keyChanged(e: { readonly keyId: string; readonly action: KeyAction }): void;
  /** Drops a key's adapter; the next call reopens (and re-checks) the key. */
  forget(keyId: string): void;
  stats(): LiveVenueStats[];
  /** Stops the periodic check and drops every adapter. */
  close(): Promise<void>;
}

/** Key history actions after which an open adapter must not be reused. */
const REOPEN_ON: ReadonlySet<KeyAction> = new Set(['changed', 'invalidated', 'revoked', 'disabled', 'deleted']);

interface KeySlot {
  adapter: CcxtExchange | null;
  opening: Promise<CcxtExchange> | null;
}

interface TraderSlot {
  readonly keyId: string;
  readonly venue: CcxtVenue;
  readonly exchange: Exchange;
}

const defaultTimers: IntervalTimers = {
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref?.();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** An operational refusal: the trader stops and a human must act. */
const refuse = (message: string): ExchangeError => new ExchangeError('operational', message);

/** Why a key cannot trade, from its stored status, or null. */
function statusProblem(info: ExchangeKeyInfo): string | null {
  if (info.status === 'revoked' || info.status === 'disabled' || info.status === 'invalid')
    return `exchange key ${info.id} is ${info.status}${info.statusReason ? `: ${info.statusReason}` : ''}`;
  return null;
}

/**
 * Creates the live accounts.
 * @example const live = createLiveAccounts({ keyStore, limits, clock, log, onTraderFailure }); startNode({ …, liveAccount: (t) => live.get(t) })
 */
export function createLiveAccounts(deps: LiveAccountsDeps): LiveAccounts {
  const { keyStore, limits, clock, log } = deps;
  const tracker = createFailureTracker(deps.failureLimit ?? 3);
  const keys = new Map<string, KeySlot>();
  const traders = new Map<string, TraderSlot>();
  const firstChecks = new Map<string, Promise<KeyValidation>>();
  const timers = deps.timers ?? defaultTimers;

  const makeAdapter = (venue: CcxtVenue, keyId: string, c: { readonly apiKey: string; readonly secret: string; readonly passphrase: string | null }): CcxtExchange => {
    const base = deps.apiBaseUrl?.(venue);
    return createCcxtExchange({
      venue,
      // Read by name: the credentials' fields are not enumerable.
      credentials: { apiKey: c.apiKey, secret: c.secret, ...(c.passphrase !== null ? { password: c.passphrase } : {}) },
      limiter: limits.account(venue, keyId),
      clock,
      log,
      ...(base !== undefined ? { apiBaseUrl: base } : {}),
      ...deps.adapter,
    });
  };

  /** The key's credentials, a store refusal turned into an operational error. */
  const credentialsOf = async (keyId: string) => {
    try {
      return await keyStore.credentials(keyId);
    } catch (err) {
      if (err instanceof KeyStoreError) throw refuse(err.message);
      throw err;
    }
  };

  /** The key's shared adapter, opened once (concurrent callers wait for the same opening). */
  const openKey = (keyId: string, venue: CcxtVenue): Promise<CcxtExchange> => {
    let slot = keys.get(keyId);
    if (!slot) {
      slot = { adapter: null, opening: null };
      keys.set(keyId, slot);
    }
    if (slot.adapter) return Promise.resolve(slot.adapter);
    const s = slot;
    s.opening ??= (async () => {
      try {
        const credentials = await credentialsOf(keyId);
        await loadCcxt();
        const adapter = makeAdapter(venue, keyId, credentials);
        // A key forgotten while it was opening is not cached: the next call opens it again.
        if (keys.get(keyId) === s) s.adapter = adapter;
        log.info({ key: keyId, venue }, 'exchange account connected');
        return adapter;
      } finally {
        s.opening = null;
      }
    })();
    return s.opening;
  };

  /** Checks the trader's key (validating an unchecked one) and opens it. */
  const prepare = async (t: TraderRecord, venue: CcxtVenue): Promise<CcxtExchange> => {
    const keyId = t.accountId;
    const info = await keyStore.get(keyId);
    if (!info) throw refuse(`exchange key ${keyId} does not exist (trader ${t.name})`);
    const problem = statusProblem(info);
    if (problem) throw refuse(problem);
    if (info.exchange !== venue) throw refuse(`exchange key ${keyId} is a ${info.exchange} key; ${t.name} trades on ${venue}`);
    if (info.userId !== t.userId) throw refuse(`exchange key ${keyId} belongs to another user than ${t.name}'s`);
    const adapter = await openKey(keyId, venue);
    if (info.status === 'unchecked') {
      // Traders of one key loading together check it once.
      let pending = firstChecks.get(keyId);
      if (!pending) {
        pending = check(info, adapter, 'system').finally(() => firstChecks.delete(keyId));
        firstChecks.set(keyId, pending);
      }
      const v = await pending;
      if (v.status === 'valid') return adapter;
      forget(keyId);
      if (v.status === 'invalid') throw refuse(`exchange key ${keyId} is invalid: ${v.reason ?? 'refused by the venue'}`);
      if (v.status === 'unreachable') throw new ExchangeError('transient', `exchange key ${keyId} could not be checked: ${v.reason ?? 'no answer'}`);
      throw refuse(v.reason ?? `exchange key ${keyId} cannot be used`);
    }
    return adapter;
  };

  /** The trader's account: each call goes to the key's adapter, opening (and checking) it first when needed. */
  const traderSlot = (t: TraderRecord, venue: CcxtVenue): TraderSlot => {
    const existing = traders.get(t.id);
    if (existing && existing.keyId === t.accountId && existing.venue === venue) return existing;
    const keyId = t.accountId;
    const acc = (): Promise<CcxtExchange> => {
      const adapter = keys.get(keyId)?.adapter;
      return adapter ? Promise.resolve(adapter) : prepare(t, venue);
    };
    const account: Exchange = {
      venue,
      loadMarkets: async () => (await acc()).loadMarkets(),
      fetchBalance: async () => (await acc()).fetchBalance(),
      fetchPositions: async () => (await acc()).fetchPositions(),
      fetchOpenOrders: async (symbol) => (await acc()).fetchOpenOrders(symbol),
      fetchPrices: async (symbols) => (await acc()).fetchPrices(symbols),
      createOrder: async (req) => (await acc()).createOrder(req),
      fetchOrderByClientId: async (id, symbol) => (await acc()).fetchOrderByClientId(id, symbol),
      cancelOrder: async (id, symbol) => (await acc()).cancelOrder(id, symbol),
      setLeverage: async (symbol, leverage) => (await acc()).setLeverage(symbol, leverage),
    };
    const slot: TraderSlot = {
      keyId,
      venue,
      exchange: withFailureTracking(account, {
        traderId: t.id,
        tracker,
        clock,
        onError: (error) => {
          log.warn({ trader: t.id, key: keyId, kind: error.kind, reason: error.message }, 'trader stopped by exchange failures');
          deps.onTraderFailure(t.id, error);
        },
      }),
    };
    traders.set(t.id, slot);
    return slot;
  };

  const forget = (keyId: string): void => {
    if (keys.delete(keyId)) log.info({ key: keyId }, 'exchange account disconnected; reopened on next use');
  };

  /** Reads the balance with `adapter` and stores the verdict on the key. */
  async function check(info: ExchangeKeyInfo, adapter: CcxtExchange, by: string): Promise<KeyValidation> {
    const keyId = info.id;
    const record = async (verdict: 'valid' | 'invalid', reason: string | null): Promise<KeyValidation> => {
      try {
        // Unchanged verdicts write no history row: a periodic check would flood it.
        if (verdict === 'valid' && info.status !== 'valid') await keyStore.markValid(keyId, by);
        if (verdict === 'invalid' && (info.status !== 'invalid' || info.statusReason !== reason)) await keyStore.markInvalid(keyId, reason ?? 'refused by the venue', by);
      } catch (err) {
        // Revoked or disabled meanwhile: the operator's command wins over the check.
        if (err instanceof KeyStoreError && err.code === 'bad_state') return { keyId, status: 'skipped', reason: err.message };
        throw err;
      }
      return { keyId, status: verdict, reason };
    };
    try {
      await adapter.fetchBalance();
    } catch (err) {
      const reason = errorMessage(err);
      if (err instanceof ExchangeError && err.kind === 'operational') {
        log.warn({ key: keyId, venue: info.exchange, reason }, 'exchange key checked: refused by the venue');
        return record('invalid', reason);
      }
      log.warn({ key: keyId, venue: info.exchange, reason }, 'exchange key could not be checked');
      return { keyId, status: 'unreachable', reason };
    }
    log.info({ key: keyId, venue: info.exchange }, 'exchange key checked: valid');
    return record('valid', null);
  }

  async function validateKey(keyId: string, by = 'system'): Promise<KeyValidation> {
    const info = await keyStore.get(keyId);
    if (!info) return { keyId, status: 'skipped', reason: `exchange key ${keyId} does not exist` };
    const venue = info.exchange;
    if (!isLiveVenue(venue)) return { keyId, status: 'skipped', reason: `${venue} keys are not checked against a venue` };
    if (info.status === 'revoked' || info.status === 'disabled') return { keyId, status: 'skipped', reason: statusProblem(info) };
    // A key in use is checked through its adapter; any other through a temporary one.
    const open = keys.get(keyId)?.adapter ?? null;
    let adapter: CcxtExchange;
    try {
      if (!open) await loadCcxt();
      adapter = open ?? makeAdapter(venue, keyId, await keyStore.credentials(keyId));
    } catch (err) {
      if (err instanceof KeyStoreError && err.code === 'undecryptable') {
        await keyStore.markInvalid(keyId, err.message, by).catch(() => undefined);
        return { keyId, status: 'invalid', reason: err.message };
      }
      if (err instanceof KeyStoreError) return { keyId, status: 'skipped', reason: err.message };
      throw err;
    }
    try {
      return await check(info, adapter, by);
    } finally {
      if (!open) await closeAdapter(adapter);
    }
  }

  async function validateAll(by = 'system'): Promise<KeyValidation[]> {
    const out: KeyValidation[] = [];
    for (const k of await keyStore.list()) {
      if (!isLiveVenue(k.exchange) || k.status === 'revoked' || k.status === 'disabled') continue;
      try {
        out.push(await validateKey(k.id, by));
      } catch (err) {
        log.error({ key: k.id, err: errorMessage(err) }, 'exchange key check failed');
        out.push({ keyId: k.id, status: 'unreachable', reason: errorMessage(err) });
      }
    }
    return out;
  }

  let timer: unknown = null;
  let checking = false;
  if (deps.validateEveryMs !== undefined && deps.validateEveryMs > 0) {
    timer = timers.setInterval(() => {
      if (checking) return;
      checking = true;
      validateAll()
        .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'periodic exchange key check failed'))
        .finally(() => {
          checking = false;
        });
    }, deps.validateEveryMs);
  }

  return {
    async ensure(t) {
      if (!isLiveVenue(t.venue)) throw new Error(`${t.venue} is not a live venue (${LIVE_VENUES.join(', ')})`);
      // A (re)load starts a new failure streak with a fresh wrapper.
      traders.delete(t.id);
      tracker.reset(t.id);
      const slot = traderSlot(t, t.venue);
      await prepare(t, t.venue);
      return slot.exchange;
    },
    get(t) {
      return isLiveVenue(t.venue) ? traderSlot(t, t.venue).exchange : undefined;
    },
    validateKey,
    validateAll,
    keyChanged(e) {
      if (REOPEN_ON.has(e.action)) forget(e.keyId);
    },
    forget,
    stats() {
      const byVenue = new Map<CcxtVenue, { -readonly [K in keyof LiveVenueStats]: LiveVenueStats[K] }>();
      const entry = (venue: CcxtVenue) => {
        let s = byVenue.get(venue);
        if (!s) {
          s = { venue, keys: 0, traders: 0, requests: 0, weightUsed: 0, weightCapacity: 0, rateLimitHits: 0, queued: 0, pausedUntil: null };
          byVenue.set(venue, s);
        }
        return s;
      };
      for (const l of limits.stats()) {
        const s = entry(l.venue);
        s.requests += l.requests;
        s.weightUsed += l.weightUsed;
        s.weightCapacity += l.weightCapacity;
        s.rateLimitHits += l.rateLimitHits;
        s.queued += l.queued;
        if (l.pausedUntil !== null) s.pausedUntil = Math.max(s.pausedUntil ?? 0, l.pausedUntil);
      }
      const venueOfKey = new Map<string, CcxtVenue>();
      for (const t of traders.values()) {
        entry(t.venue).traders++;
        venueOfKey.set(t.keyId, t.venue);
      }
      for (const [keyId, slot] of keys) {
        const venue = slot.adapter?.venue ?? venueOfKey.get(keyId);
        if (slot.adapter && venue) entry(venue).keys++;
      }
      return [...byVenue.values()].sort((a, b) => (LIVE_VENUES as readonly string[]).indexOf(a.venue) - (LIVE_VENUES as readonly string[]).indexOf(b.venue));
    },
    async close() {
      if (timer !== null) timers.clearInterval(timer);
      timer = null;
      const open = [...keys.values()].map((s) => s.adapter).filter((a): a is CcxtExchange => a !== null);
      keys.clear();
      traders.clear();
      await Promise.all(open.map(closeAdapter));
    },
  };
}

async function closeAdapter(a: CcxtExchange): Promise<void> {
  await (a.client as { close?: () => Promise<unknown> }).close?.()?.catch?.(() => undefined);
}

/** What the composition root does when a trader must stop for exchange failures. */
export interface TraderFailureCommands {
  /** `views.get(traderId)?.ref.send(send.event)`. */
  readonly send: { readonly traderId: string; readonly event: { readonly type: 'trader.fail'; readonly error: ErrorInfo } };
  /** The alert on the timeline (`emit`). */
  readonly event: EventRecord;
}

/**
 * The `trader.fail` command and the critical `exchange.failed` alert for a trader the failure
 * tracker stopped (wire `onTraderFailure` to it).
 * @example onTraderFailure: (id, error) => { const c = traderFailureCommands(id, error, clock.now(), views.get(id)?.record); emit(c.event); views.get(id)?.ref.send(c.send.event); }
 */
export function traderFailureCommands(
  traderId: string,
  error: ErrorInfo,
  at: number,
  trader?: { readonly name: string; readonly managerId: string } | null,
): TraderFailureCommands {
  return {
    send: { traderId, event: { type: 'trader.fail', error } },
    event: {
      at,
      type: 'exchange.failed',
      severity: 'critical',
      traderId,
      managerId: trader?.managerId ?? null,
      actor: 'exchange',
      message: `${trader?.name ?? traderId} stopped: ${error.message}`,
      data: { kind: error.kind, retryable: error.retryable },
    },
  };
}
