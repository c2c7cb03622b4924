/**
 * The `Exchange` port over ccxt for USDT-margined perpetuals on Binance USDⓈ-M, Bybit (unified
 * account), OKX and Bitget. Every HTTP request ccxt makes waits for our shared limiter first
 * (ccxt's own is off); every failure is classified (`errors.ts`); every number crosses as a
 * decimal string. Platform symbols are `${base}${quote}` (e.g. `BTCUSDT`) on every venue.
 *
 * Exits: Binance takes no stop-loss/take-profit on the entry order, so there the adapter sends
 * none and `capabilities.attachedStops` is false — the runtime must manage exits itself (or
 * place separate reduce-only stop orders). Bybit, OKX and Bitget attach them to the order.
 */
import type { Exchange as CcxtClient, Market as CcxtMarket, Order as CcxtOrder, Position as CcxtPosition } from 'ccxt';
import { requireCcxt } from './lib.ts';
import type { Clock } from '../../clock.ts';
import type { DecimalString, MarketSymbol } from '../../domain.ts';
import type { Balance, Exchange, Market, Order, OrderRequest, OrderStatus, Position } from '../port.ts';
import { ExchangeError } from '../port.ts';
import { Dec, dec } from '../precision.ts';
import { classifyCcxtError, venueReason, type CallKind } from './errors.ts';
import type { AccountLimiter, CcxtVenue, RateLimitHit, RequestCost } from './limiter.ts';

/** The minimal logger the adapter writes to (pino's `Logger` fits). */
export interface AdapterLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Options of {@link createCcxtExchange}. */
export interface CcxtExchangeOptions {
  readonly venue: CcxtVenue;
  readonly credentials: { readonly apiKey: string; readonly secret: string; readonly password?: string };
  /** The account's limiter (shared by every trader of the account; see `createRateLimits`). */
  readonly limiter: AccountLimiter;
  readonly clock: Clock;
  readonly log?: AdapterLog;
  /** Base URL replacing the venue's hosts, path kept (tests: the loopback double). */
  readonly apiBaseUrl?: string;
  /** Markets are reloaded when older than this (default 1 h). */
  readonly marketsTtlMs?: number;
  /** ccxt's per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Put each traded symbol in isolated margin before setting its leverage (default true). */
  readonly isolatedMargin?: boolean;
}

/** How a venue does what the port asks. */
export interface VenueCapabilities {
  /** Stop-loss / take-profit ride on the entry order. False on Binance: the runtime manages exits. */
  readonly attachedStops: boolean;
  /** Where isolated margin is set: per symbol, account-wide (Bybit unified account) or with the leverage call (OKX). */
  readonly isolatedMargin: 'symbol' | 'account' | 'leverage';
}

/** One candle as ccxt returns it: [openTime, open, high, low, close, volume]. */
export type OhlcvRow = readonly [number, number, number, number, number, number];

/** The ccxt-backed `Exchange`, with what the collector and the console need beside the port. */
export interface CcxtExchange extends Exchange {
  readonly venue: CcxtVenue;
  readonly capabilities: VenueCapabilities;
  /** ccxt's instance, already behind the limiter (every request it makes waits for it). */
  readonly client: CcxtClient;
  /** ccxt's unified symbol (`BTC/USDT:USDT`) of a platform symbol; throws `ExchangeError('order')` for an unknown one. */
  unifiedSymbol(symbol: MarketSymbol): Promise<string>;
  /** 1-minute (or other) candles of a platform symbol: open times in [since, until], oldest first. */
  fetchOHLCV(symbol: MarketSymbol, timeframe: string, since: number, limit: number, until?: number): Promise<OhlcvRow[]>;
  /** Reloads the markets now. */
  refreshMarkets(): Promise<Readonly<Record<MarketSymbol, Market>>>;
}

/** ccxt's precision modes (stable constants of `ccxt/js/src/base/functions/number`). */
const DECIMAL_PLACES = 2;
const SIGNIFICANT_DIGITS = 3;
const TICK_SIZE = 4;

interface Profile {
  readonly capabilities: VenueCapabilities;
  readonly options: Record<string, unknown>;
  /** Params every order of this venue carries. */
  readonly orderParams: Record<string, unknown>;
  readonly leverageParams: Record<string, unknown>;
  /** ccxt paths of order placements, for the order-rate budgets. */
  readonly placements: ReadonlySet<string>;
}

const PROFILES: Readonly<Record<CcxtVenue, Profile>> = {
  binanceusdm: {
    capabilities: { attachedStops: false, isolatedMargin: 'symbol' },
    options: {
      defaultType: 'swap',
      fetchCurrencies: false,
      fetchMargins: false,
      fetchMarkets: { types: ['linear'] },
      fetchOpenOrders: { warnWithoutSymbol: false },
      warnOnFetchOpenOrdersWithoutSymbol: false,
    },
    orderParams: {},
    leverageParams: {},
    placements: new Set(['POST order', 'POST batchOrders']),
  },
  bybit: {
    capabilities: { attachedStops: true, isolatedMargin: 'account' },
    options: {
      defaultType: 'swap',
      defaultSettle: 'USDT',
      fetchMarkets: { types: ['linear'] },
      // Unified trading account only: saves the two account-info calls ccxt would make.
      enableUnifiedAccount: true,
      enableUnifiedMargin: false,
    },
    orderParams: {},
    leverageParams: {},
    placements: new Set(['POST v5/order/create', 'POST v5/order/create-batch']),
  },
  okx: {
    capabilities: { attachedStops: true, isolatedMargin: 'leverage' },
    options: { defaultType: 'swap', fetchMarkets: { types: ['swap'] } },
    orderParams: { marginMode: 'isolated' },
    leverageParams: { marginMode: 'isolated' },
    placements: new Set(['POST trade/order', 'POST trade/batch-orders']),
  },
  bitget: {
    capabilities: { attachedStops: true, isolatedMargin: 'symbol' },
    // Classic (v2 mix) account: without `uta: false` ccxt probes `v3/account/settings` with a
    // signed call on first use and, if that succeeds, switches to the v3 endpoints.
    options: { defaultType: 'swap', fetchMarkets: { types: ['swap'] }, uta: false },
    orderParams: { marginMode: 'isolated' },
    leverageParams: { marginMode: 'isolated' },
    placements: new Set(['POST v2/mix/order/place-order', 'POST v2/mix/order/batch-place-order']),
  },
};

/**
 * Binance USDⓈ-M weights where ccxt's table differs from Binance's documentation: ccxt counts
 * the v3 account and position endpoints as 1 and a new order as 4; Binance charges 5, 5 and 1
 * (a new order's real cost is on the account's order-count limits).
 */
const BINANCE_WEIGHTS: Readonly<Record<string, number>> = {
  'GET account': 5,
  'GET balance': 5,
  'GET positionRisk': 5,
  'POST order': 1,
};

interface Entry {
  readonly market: Market;
  readonly unified: string;
  /** Base units per contract (1 except on contract-denominated venues such as OKX). */
  readonly contractSize: string;
}

/** Rewrites every string in `client.urls.api` to `baseUrl` + its original path. */
export function rewriteApiUrls(client: { urls: Record<string, unknown> }, baseUrl: string): void {
  const base = baseUrl.replace(/\/+$/, '');
  const walk = (node: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(node)) {
      if (typeof v === 'string') {
        const path = new URL(v.replace(/\{hostname\}/g, 'example.com')).pathname.replace(/\/+$/, '');
        node[k] = `${base}${path}`;
      } else if (v && typeof v === 'object') walk(v as Record<string, unknown>);
    }
  };
  walk(client.urls['api'] as Record<string, unknown>);
}

/** A ccxt number (a float parsed from the venue's string) as a decimal string, float dust removed. */
export function decimalOf(x: number | string | undefined | null): DecimalString | null {
  if (x === undefined || x === null || x === '') return null;
  const n = typeof x === 'number' ? x : Number(x);
  if (!Number.isFinite(n)) return null;
  const d = dec(String(x)).toDecimalPlaces(12, Dec.ROUND_HALF_EVEN);
  return d.isZero() ? '0' : d.toFixed();
}

/**
 * A market's step as a decimal string from ccxt's precision value: in TICK_SIZE mode the value
 * is the step itself (`0.001`), in DECIMAL_PLACES mode a count of decimals (`3` → `0.001`).
 */
export function precisionToStep(value: number | undefined, mode: number): DecimalString | null {
  if (value === undefined || value === null || !Number.isFinite(value)) return null;
  if (mode === TICK_SIZE) return decimalOf(value);
  if (mode === DECIMAL_PLACES) return dec(10).pow(-Math.trunc(value)).toFixed();
  if (mode === SIGNIFICANT_DIGITS) throw new Error('ccxt precision mode SIGNIFICANT_DIGITS is not supported for derivatives');
  throw new Error(`unknown ccxt precision mode ${mode}`);
}

/** Our `Market` from ccxt's, or null when it is not an active USDT-settled linear perpetual. */
export function marketFromCcxt(m: CcxtMarket, precisionMode: number): Market | null {
  if (!m || !m.swap || !m.linear || m.settle !== 'USDT' || m.quote !== 'USDT' || m.active === false) return null;
  const amountStep = precisionToStep(m.precision?.amount, precisionMode);
  const priceTick = precisionToStep(m.precision?.price, precisionMode);
  if (!amountStep || !priceTick) return null;
  const contractSize = m.contractSize ?? 1;
  // Contract-denominated venues (OKX): one contract is `contractSize` base units.
  const scale = (x: DecimalString) => (contractSize === 1 ? x : dec(x).mul(String(contractSize)).toFixed());
  return {
    symbol: `${m.base}${m.quote}`,
    base: m.base,
    quote: m.quote,
    amountStep: scale(amountStep),
    priceTick,
    minAmount: scale(decimalOf(m.limits?.amount?.min) ?? amountStep),
    minCost: decimalOf(m.limits?.cost?.min) ?? '0',
    maxLeverage: Math.max(1, Math.floor(m.limits?.leverage?.max ?? 20)),
    makerFee: decimalOf(m.maker) ?? '0',
    takerFee: decimalOf(m.taker) ?? '0',
  };
}

const STATUS: Readonly<Record<string, OrderStatus>> = {
  open: 'open',
  closed: 'closed',
  canceled: 'canceled',
  cancelled: 'canceled',
  expired: 'canceled',
  rejected: 'rejected',
};

function headerOf(headers: Record<string, unknown> | undefined, name: string): string | null {
  if (!headers) return null;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want && v !== undefined && v !== null) return String(v);
  return null;
}

/**
 * Whether a response is the venue telling us to slow down: HTTP 429 / 418 (and Bybit's 403 IP
 * ban) pause the whole IP; Bybit's `retCode` 10006 (a per-account limit) pauses the account.
 * Retry-After (seconds) or Bybit's reset timestamp gives the pause.
 */
export function rateLimitHitOf(
  venue: CcxtVenue,
  status: number,
  headers: Record<string, unknown> | undefined,
  body: unknown,
  now: number,
): RateLimitHit | null {
  const retryAfter = headerOf(headers, 'retry-after');
  const reset = headerOf(headers, 'x-bapi-limit-reset-timestamp');
  const retryAfterMs =
    retryAfter !== null && Number.isFinite(Number(retryAfter))
      ? Number(retryAfter) * 1000
      : reset !== null && Number.isFinite(Number(reset))
        ? Math.max(0, Number(reset) - now)
        : null;
  if (status === 429 || status === 418 || (venue === 'bybit' && status === 403)) return { status, retryAfterMs, scope: 'ip' };
  const code = body && typeof body === 'object' ? ((body as Record<string, unknown>)['retCode'] ?? (body as Record<string, unknown>)['code']) : undefined;
  if (venue === 'bybit' && (code === 10006 || code === 10018)) return { status: Number(code), retryAfterMs, scope: code === 10018 ? 'ip' : 'account' };
  if (venue === 'okx' && (code === '50011' || code === '50061')) return { status: Number(code), retryAfterMs, scope: 'account' };
  return null;
}

/** Creates the ccxt-backed `Exchange` of one account; see the module comment. */
export function createCcxtExchange(opts: CcxtExchangeOptions): CcxtExchange {
  const { venue, limiter, clock, log } = opts;
  const profile = PROFILES[venue];
  if (!profile) throw new Error(`unsupported venue ${String(venue)}`);
  const ttl = opts.marketsTtlMs ?? 3_600_000;
  const isolated = opts.isolatedMargin ?? true;

  const ccxt = requireCcxt();
  const Ctor = (ccxt as unknown as Record<string, new (config: Record<string, unknown>) => CcxtClient>)[venue];
  if (!Ctor) throw new Error(`ccxt has no exchange ${venue}`);
  const client = new Ctor({
    apiKey: opts.credentials.apiKey,
    secret: opts.credentials.secret,
    ...(opts.credentials.password !== undefined ? { password: opts.credentials.password } : {}),
    enableRateLimit: false,
    timeout: opts.timeoutMs ?? 10_000,
    options: profile.options,
  });
  // Currencies are not needed for perpetuals and would cost signed calls.
  (client.has as Record<string, unknown>)['fetchCurrencies'] = false;
  if (opts.apiBaseUrl) rewriteApiUrls(client as unknown as { urls: Record<string, unknown> }, opts.apiBaseUrl);

  let warming: Promise<void> | null = null;
  const warm = (): Promise<void> => (warming ??= (client as unknown as { loadFetchImplementation(): Promise<void> }).loadFetchImplementation());

  // Every HTTP request ccxt makes (several per unified call at times) waits for our limiter,
  // before it is signed, so a long queue never stales a signature's timestamp.
  const fetch2 = client.fetch2.bind(client);
  client.fetch2 = async (path, api = 'public', method = 'GET', params = {}, headers = undefined, body = undefined, config = {}) => {
    const key = `${method} ${String(path)}`;
    const ccxtCost = Number(client.calculateRateLimiterCost(api, method, path, params, config)) || 1;
    const weight = venue === 'binanceusdm' ? (BINANCE_WEIGHTS[key] ?? ccxtCost) : ccxtCost;
    const cost: RequestCost = { weight, orders: profile.placements.has(key) ? 1 : 0 };
    // ccxt loads its HTTP client on the first request; do it before the grant, not between
    // the grant and the send, or the request leaves late and bunches up with the next window.
    await warm();
    await limiter.acquire(cost);
    return fetch2(path, api, method, params, headers, body, config);
  };
  const handleErrors = client.handleErrors.bind(client);
  client.handleErrors = (statusCode, statusText, url, method, responseHeaders, responseBody, response, requestHeaders, requestBody) => {
    const hit = rateLimitHitOf(venue, statusCode, responseHeaders as Record<string, unknown>, response, clock.now());
    if (hit) limiter.rateLimited(hit);
    return handleErrors(statusCode, statusText, url, method, responseHeaders, responseBody, response, requestHeaders, requestBody);
  };

  const call = async <T>(kind: CallKind, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw classifyCcxtError(err, venue, kind);
    }
  };

  // ---- markets ----
  let bySymbol = new Map<MarketSymbol, Entry>();
  let byUnified = new Map<string, Entry>();
  let table: Readonly<Record<MarketSymbol, Market>> | null = null;
  let loadedAt = -Infinity;
  let loading: Promise<Readonly<Record<MarketSymbol, Market>>> | null = null;

  const load = (): Promise<Readonly<Record<MarketSymbol, Market>>> => {
    loading ??= (async () => {
      try {
        const raw = await call('read', () => client.loadMarkets(table !== null));
        const nextBySymbol = new Map<MarketSymbol, Entry>();
        const nextByUnified = new Map<string, Entry>();
        for (const m of Object.values(raw)) {
          const market = m ? marketFromCcxt(m, Number(client.precisionMode)) : null;
          if (!market || !m) continue;
          const entry: Entry = { market, unified: m.symbol, contractSize: decimalOf(m.contractSize ?? 1) ?? '1' };
          nextBySymbol.set(market.symbol, entry);
          nextByUnified.set(m.symbol, entry);
        }
        bySymbol = nextBySymbol;
        byUnified = nextByUnified;
        table = Object.freeze(Object.fromEntries([...nextBySymbol].map(([s, e]) => [s, e.market])));
        loadedAt = clock.now();
        return table;
      } catch (err) {
        if (!table) throw err;
        // Keep trading on the markets we have; try again in a minute.
        log?.warn({ err, venue }, 'market refresh failed; keeping the previous markets');
        loadedAt = clock.now() - ttl + 60_000;
        return table;
      } finally {
        loading = null;
      }
    })();
    return loading;
  };
  const markets = (): Promise<Readonly<Record<MarketSymbol, Market>>> =>
    table && clock.now() - loadedAt < ttl ? Promise.resolve(table) : load();

  const entryOf = async (symbol: MarketSymbol): Promise<Entry> => {
    await markets();
    const e = bySymbol.get(symbol);
    if (!e) throw new ExchangeError('order', `${venue} has no USDT perpetual ${symbol}`);
    return e;
  };

  // ---- mapping ----
  const feeOf = (o: CcxtOrder): DecimalString => {
    let total = dec(0);
    const listed = (o as { fees?: CcxtOrder['fee'][] }).fees;
    const fees = listed && listed.length > 0 ? listed : o.fee ? [o.fee] : [];
    for (const f of fees) if (f && f.cost !== undefined && (f.currency === undefined || f.currency === 'USDT')) total = total.plus(String(f.cost));
    return total.isZero() ? '0' : total.toFixed();
  };

  const toOrder = (o: CcxtOrder, fallback: { symbol: MarketSymbol; req?: OrderRequest }): Order => {
    const entry = o.symbol ? byUnified.get(o.symbol) : undefined;
    const base = (x: number | undefined): DecimalString | null => {
      const d = decimalOf(x);
      return d === null || !entry || entry.contractSize === '1' ? d : dec(d).mul(entry.contractSize).toFixed();
    };
    const status: OrderStatus = (o.status ? STATUS[o.status] : undefined) ?? 'open';
    const info = (o.info ?? {}) as Record<string, unknown>;
    const rejectReason = info['rejectReason'] ?? info['cancelReason'];
    const type = o.type === 'limit' ? 'limit' : o.type === 'market' ? 'market' : (fallback.req?.type ?? 'market');
    return {
      id: String(o.id),
      clientOrderId: o.clientOrderId ?? fallback.req?.clientOrderId ?? '',
      symbol: entry?.market.symbol ?? fallback.symbol,
      side: o.side === 'sell' || o.side === 'buy' ? o.side : (fallback.req?.side ?? 'buy'),
      type,
      amount: base(o.amount) ?? fallback.req?.amount ?? '0',
      price: type === 'limit' ? (decimalOf(o.price) ?? fallback.req?.price ?? null) : null,
      status,
      filled: base(o.filled) ?? '0',
      average: decimalOf(o.average),
      fee: feeOf(o),
      reduceOnly: o.reduceOnly ?? fallback.req?.reduceOnly ?? false,
      reason: status === 'rejected' ? (typeof rejectReason === 'string' && rejectReason ? rejectReason : 'rejected by the venue') : null,
      timestamp: o.timestamp ?? clock.now(),
    };
  };

  const leverageSet = new Map<MarketSymbol, number>();
  const marginSet = new Set<string>();

  const toPosition = (p: CcxtPosition): Position | null => {
    const entry = p.symbol ? byUnified.get(p.symbol) : undefined;
    const contracts = p.contracts ?? 0;
    if (!entry || !(contracts > 0) || (p.side !== 'long' && p.side !== 'short')) return null;
    const amount = dec(String(contracts)).mul(String(p.contractSize ?? 1));
    const notional = p.notional ?? (p.markPrice ?? 0) * contracts * (p.contractSize ?? 1);
    const implied = p.initialMargin ? Math.round(Math.abs(notional) / p.initialMargin) : undefined;
    return {
      symbol: entry.market.symbol,
      side: p.side,
      amount: amount.toFixed(),
      entryPrice: decimalOf(p.entryPrice) ?? '0',
      markPrice: decimalOf(p.markPrice) ?? decimalOf(p.entryPrice) ?? '0',
      leverage: p.leverage ?? leverageSet.get(entry.market.symbol) ?? (implied && implied > 0 ? implied : 1),
      margin: decimalOf(p.collateral) ?? decimalOf(p.initialMargin) ?? '0',
      unrealizedPnl: decimalOf(p.unrealizedPnl) ?? '0',
      liquidationPrice: decimalOf(p.liquidationPrice),
      stopLoss: decimalOf(p.stopLossPrice),
      takeProfit: decimalOf(p.takeProfitPrice),
    };
  };

  // ---- lookups ----
  const bybitLookup = async (unified: string, ref: { orderLinkId?: string; orderId?: string }): Promise<CcxtOrder | null> => {
    const market = client.market(unified);
    const req = { category: 'linear', symbol: market.id, ...ref };
    const c = client as unknown as Record<string, (p: object) => Promise<{ result?: { list?: Record<string, unknown>[] } }>>;
    for (const method of ['privateGetV5OrderRealtime', 'privateGetV5OrderHistory'] as const) {
      const res = await (c[method] as (p: object) => Promise<{ result?: { list?: Record<string, unknown>[] } }>).call(client, req);
      const raw = res.result?.list?.[0];
      if (raw) return client.parseOrder(raw, market);
    }
    return null;
  };

  const lookup = async (clientOrderId: string, unified: string): Promise<CcxtOrder | null> => {
    if (venue === 'bybit') return bybitLookup(unified, { orderLinkId: clientOrderId });
    try {
      const params = venue === 'binanceusdm' ? { origClientOrderId: clientOrderId } : { clientOrderId };
      return await client.fetchOrder('', unified, params);
    } catch (err) {
      const classified = classifyCcxtError(err, venue, 'read');
      if (err instanceof ccxt.OrderNotFound || (classified instanceof ExchangeError && /order not found/.test(classified.message))) return null;
      throw err;
    }
  };

  // ---- margin mode and leverage ----
  const ensureIsolated = async (entry: Entry): Promise<void> => {
    if (!isolated) return;
    const mode = profile.capabilities.isolatedMargin;
    if (mode === 'leverage') return;
    const key = mode === 'account' ? '*' : entry.market.symbol;
    if (marginSet.has(key)) return;
    try {
      await client.setMarginMode('isolated', mode === 'account' ? undefined : entry.unified);
    } catch (err) {
      const r = err instanceof Error ? venueReason(err.message) : null;
      const unchanged =
        err instanceof ccxt.MarginModeAlreadySet ||
        r?.code === '-4046' ||
        r?.code === '110026' ||
        /no need to change|not modified|already/i.test(r?.reason ?? '');
      if (!unchanged) {
        // -4048: a position is open, Binance refuses the change; trade on in the current mode.
        if (r?.code === '-4048') {
          log?.warn({ venue, symbol: entry.market.symbol }, 'margin mode left unchanged: a position is open');
        } else throw err;
      }
    }
    marginSet.add(key);
  };

  const self: CcxtExchange = {
    venue,
    capabilities: profile.capabilities,
    client,

    loadMarkets: () => markets(),
    refreshMarkets: () => load(),

    async unifiedSymbol(symbol) {
      return (await entryOf(symbol)).unified;
    },

    async fetchBalance(): Promise<Balance> {
      await markets();
      const b = await call('read', () => client.fetchBalance());
      return balanceFrom(venue, b as unknown as { info: unknown; total?: Record<string, number>; free?: Record<string, number>; used?: Record<string, number> });
    },

    async fetchPositions() {
      await markets();
      const list = await call('read', () => client.fetchPositions());
      return list.map(toPosition).filter((p): p is Position => p !== null);
    },

    async fetchOpenOrders(symbol) {
      const unified = symbol === undefined ? undefined : (await entryOf(symbol)).unified;
      const list = await call('read', () => client.fetchOpenOrders(unified));
      return list
        .filter((o) => typeof o.symbol === 'string' && byUnified.has(o.symbol))
        .map((o) => toOrder(o, { symbol: (byUnified.get(o.symbol as string) as Entry).market.symbol }));
    },

    async fetchPrices(symbols) {
      await markets();
      const wanted = symbols.map((s) => bySymbol.get(s)).filter((e): e is Entry => e !== undefined);
      if (wanted.length === 0) return {};
      const unified = wanted.map((e) => e.unified);
      const out: Record<MarketSymbol, DecimalString> = {};
      if (client.has['fetchLastPrices']) {
        const r = await call('read', () => client.fetchLastPrices(unified));
        for (const e of wanted) {
          const p = decimalOf(r[e.unified]?.price);
          if (p) out[e.market.symbol] = p;
        }
      } else {
        const r = await call('read', () => client.fetchTickers(unified));
        for (const e of wanted) {
          const t = r[e.unified];
          const p = decimalOf(t?.last ?? t?.close ?? t?.markPrice);
          if (p) out[e.market.symbol] = p;
        }
      }
      return out;
    },

    async createOrder(req) {
      const entry = await entryOf(req.symbol);
      if (req.type === 'limit' && req.price === undefined) throw new ExchangeError('order', `${venue} rejected the order: a limit order needs a price`);
      if (req.leverage !== undefined && !req.reduceOnly && leverageSet.get(req.symbol) !== req.leverage) await self.setLeverage(req.symbol, req.leverage);
      const params: Record<string, unknown> = { ...profile.orderParams, clientOrderId: req.clientOrderId };
      if (req.reduceOnly) params['reduceOnly'] = true;
      if (profile.capabilities.attachedStops) {
        if (req.stopLoss !== undefined) params['stopLoss'] = { triggerPrice: Number(req.stopLoss) };
        if (req.takeProfit !== undefined) params['takeProfit'] = { triggerPrice: Number(req.takeProfit) };
      }
      if (venue === 'binanceusdm') params['newOrderRespType'] = 'RESULT';
      const contracts = entry.contractSize === '1' ? req.amount : dec(req.amount).div(entry.contractSize).toFixed();
      const placed = await call('order', () =>
        client.createOrder(entry.unified, req.type, req.side, Number(contracts), req.type === 'limit' ? Number(req.price) : undefined, params),
      );
      // Bybit (and any venue that acknowledges with ids only) says nothing of the fill: ask.
      if (placed.status === undefined) {
        const found = await lookup(req.clientOrderId, entry.unified).catch((err: unknown) => {
          log?.warn({ err, venue, clientOrderId: req.clientOrderId }, 'order accepted; status lookup failed');
          return null;
        });
        if (found) return toOrder(found, { symbol: req.symbol, req });
      }
      return toOrder(placed, { symbol: req.symbol, req });
    },

    async fetchOrderByClientId(clientOrderId, symbol) {
      const entry = await entryOf(symbol);
      const found = await call('read', () => lookup(clientOrderId, entry.unified));
      return found ? toOrder(found, { symbol }) : null;
    },

    async cancelOrder(id, symbol) {
      const entry = await entryOf(symbol);
      const canceled = await call('order', () => client.cancelOrder(id, entry.unified));
      if (canceled.status === undefined && venue === 'bybit') {
        const found = await bybitLookup(entry.unified, { orderId: id }).catch(() => null);
        if (found) return toOrder(found, { symbol });
      }
      return toOrder({ ...canceled, status: canceled.status ?? 'canceled' }, { symbol });
    },

    async setLeverage(symbol, leverage) {
      const entry = await entryOf(symbol);
      // The upper bound is the venue's to enforce: Binance publishes it only in leverage brackets.
      if (!Number.isInteger(leverage) || leverage < 1)
        throw new ExchangeError('order', `${venue} rejected the leverage: ${leverage} is not a positive integer for ${symbol}`);
      await call('order', () => ensureIsolated(entry));
      try {
        await client.setLeverage(leverage, entry.unified, profile.leverageParams);
      } catch (err) {
        const r = err instanceof Error ? venueReason(err.message) : null;
        if (!(r?.code === '110043' || /not modified/i.test(r?.reason ?? ''))) throw classifyCcxtError(err, venue, 'order');
      }
      leverageSet.set(symbol, leverage);
    },

    async fetchOHLCV(symbol, timeframe, since, limit, until) {
      const entry = await entryOf(symbol);
      // OKX's `after` (ccxt's `until`) is exclusive: ask for one millisecond more to include `until`.
      const last = until === undefined ? undefined : venue === 'okx' ? until + 1 : until;
      const rows = await call('read', () => client.fetchOHLCV(entry.unified, timeframe, since, limit, last === undefined ? {} : { until: last }));
      return rows
        .filter((r) => typeof r[0] === 'number')
        .map((r) => [r[0] as number, Number(r[1]), Number(r[2]), Number(r[3]), Number(r[4]), Number(r[5] ?? 0)] as const);
    },
  };
  return self;
}

type RawBalance = { info: unknown; total?: Record<string, number>; free?: Record<string, number>; used?: Record<string, number> };

const str = (x: unknown): DecimalString | null => (typeof x === 'string' || typeof x === 'number' ? decimalOf(x) : null);

/**
 * The USDT balance from the venue's own fields (ccxt's unified balance has no unrealized P&L):
 * Binance `assets[USDT]`, Bybit's unified-account `coin[USDT]`, OKX `details[USDT]`, Bitget's
 * `USDT` margin account. `free` follows the port: wallet − used + min(0, unrealized) where the
 * venue does not report it.
 */
export function balanceFrom(venue: CcxtVenue, b: RawBalance): Balance {
  const info = b.info as Record<string, unknown>;
  const pick = (list: unknown, key: string, value: string): Record<string, unknown> | undefined =>
    Array.isArray(list) ? (list.find((x) => (x as Record<string, unknown>)?.[key] === value) as Record<string, unknown> | undefined) : undefined;
  const make = (wallet: DecimalString, used: DecimalString, upnl: DecimalString, equity: DecimalString | null, free: DecimalString | null): Balance => {
    const w = dec(wallet);
    const u = dec(upnl);
    const computedFree = Dec.max(0, w.minus(used).plus(Dec.min(0, u)));
    const f = (d: Dec) => (d.isZero() ? '0' : d.toFixed());
    return { currency: 'USDT', wallet: f(w), used: f(dec(used)), free: free ?? f(computedFree), unrealizedPnl: f(u), equity: equity ?? f(w.plus(u)) };
  };
  if (venue === 'binanceusdm') {
    const a = pick(info?.['assets'], 'asset', 'USDT');
    if (a) return make(str(a['walletBalance']) ?? '0', str(a['initialMargin']) ?? '0', str(a['unrealizedProfit']) ?? '0', str(a['marginBalance']), str(a['availableBalance']));
  } else if (venue === 'bybit') {
    const list = (info?.['result'] as Record<string, unknown> | undefined)?.['list'];
    const acc = Array.isArray(list) ? (list[0] as Record<string, unknown> | undefined) : undefined;
    const c = pick(acc?.['coin'], 'coin', 'USDT');
    if (c) {
      const used = dec(str(c['totalPositionIM']) ?? '0').plus(str(c['totalOrderIM']) ?? '0').toFixed();
      return make(str(c['walletBalance']) ?? '0', used, str(c['unrealisedPnl']) ?? '0', str(c['equity']), null);
    }
  } else if (venue === 'okx') {
    const data = Array.isArray(info?.['data']) ? (info['data'][0] as Record<string, unknown> | undefined) : undefined;
    const d = pick(data?.['details'], 'ccy', 'USDT');
    if (d) return make(str(d['cashBal']) ?? '0', str(d['frozenBal']) ?? '0', str(d['upl']) ?? '0', str(d['eq']), str(d['availBal']));
  } else if (venue === 'bitget') {
    // `available` is the cash balance (equity = available + unrealized); position margin is in
    // `isolatedMargin` / `crossedMargin`, what new positions may use in `*MaxAvailable`.
    const d = pick(Array.isArray(info) ? info : info?.['data'], 'marginCoin', 'USDT');
    if (d) {
      const equity = str(d['accountEquity']) ?? '0';
      const upnl = str(d['unrealizedPL']) ?? '0';
      const used = dec(str(d['locked']) ?? '0')
        .plus(str(d['isolatedMargin']) ?? '0')
        .plus(str(d['crossedMargin']) ?? '0')
        .toFixed();
      return make(dec(equity).minus(upnl).toFixed(), used, upnl, equity, str(d['isolatedMaxAvailable']) ?? str(d['crossedMaxAvailable']));
    }
  }
  const total = decimalOf(b.total?.['USDT']) ?? '0';
  return make(total, decimalOf(b.used?.['USDT']) ?? '0', '0', total, decimalOf(b.free?.['USDT']));
}

/** How a venue does what the port asks (without opening an adapter). */
export function venueCapabilities(venue: CcxtVenue): VenueCapabilities {
  return PROFILES[venue].capabilities;
}
