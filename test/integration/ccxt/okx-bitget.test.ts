/**
 * The real ccxt client, through our adapter, against the loopback double speaking OKX v5 and
 * Bitget v2 (USDT perpetuals): markets, balance, an order with attached stops and its lookup by
 * client id, duplicate refusals, a submit that times out after acceptance, positions, open
 * orders, candles and the classification of rate limits and bad credentials. Every request the
 * client makes is recorded at its HTTP layer and must have gone to the double.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../runtime/clock.ts';
import { createCcxtExchange, type CcxtExchange } from '../../../runtime/exchange/ccxt/adapter.ts';
import { createRateLimits, DEFAULT_BUDGETS, type RateLimits } from '../../../runtime/exchange/ccxt/limiter.ts';
import { clientOrderId } from '../../../runtime/exchange/clientId.ts';
import { ExchangeError } from '../../../runtime/exchange/port.ts';
import { executeRebalance } from '../../../runtime/rebalance/execute.ts';
import { startExchangeDouble, type CandleSource, type ExchangeDouble, type ExchangeDoubleOptions, type Fault } from '../../support/exchange-double/index.ts';
import { executeDeps, KEY, PRICES, SECRET, trader } from './support.ts';
import { loadCcxt } from '../../../runtime/exchange/ccxt/lib.ts';

// The runtime loads ccxt on first need; these tests build ccxt clients (or errors) directly.
await loadCcxt();

const VENUES = ['okx', 'bitget'] as const;
type Venue = (typeof VENUES)[number];
const PASSPHRASE = 'passphrase-main';
const MIN = 60_000;
/** The venues' own per-account cost budgets would make each case wait; the limiter has its own tests. */
const FAST = {
  okx: { ip: DEFAULT_BUDGETS.okx.ip, account: [{ name: 'cost/1s', measure: 'weight' as const, capacity: 1000, windowMs: 1000 }] },
  bitget: { ip: DEFAULT_BUDGETS.bitget.ip, account: [{ name: 'cost/1s', measure: 'weight' as const, capacity: 1000, windowMs: 1000 }] },
};

interface Fixture {
  readonly double: ExchangeDouble;
  readonly limits: RateLimits;
  readonly ex: CcxtExchange;
  /** Every URL the ccxt clients of this fixture requested. */
  readonly urls: string[];
  adapter(o?: { apiKey?: string; secret?: string; password?: string }): CcxtExchange;
  close(): Promise<void>;
}

async function openVenue(venue: Venue, o: { wallet?: string; timeoutMs?: number; double?: Partial<ExchangeDoubleOptions> } = {}): Promise<Fixture> {
  const double = await startExchangeDouble({
    venue,
    accounts: [{ apiKey: KEY, secret: SECRET, passphrase: PASSPHRASE, wallet: o.wallet ?? '10000' }],
    prices: PRICES,
    ...o.double,
  });
  const limits = createRateLimits({ clock: systemClock, budgets: FAST, defaultBackoffMs: { rateLimit: 20, ban: 20 } });
  const urls: string[] = [];
  const adapter: Fixture['adapter'] = (a = {}) => {
    const ex = createCcxtExchange({
      venue,
      credentials: { apiKey: a.apiKey ?? KEY, secret: a.secret ?? SECRET, password: a.password ?? PASSPHRASE },
      limiter: limits.account(venue, a.apiKey ?? KEY),
      clock: systemClock,
      apiBaseUrl: double.url,
      timeoutMs: o.timeoutMs ?? 400,
    });
    // ccxt's HTTP layer: every request of the client passes here.
    const send = ex.client.fetch.bind(ex.client);
    ex.client.fetch = (url: string, ...rest: unknown[]) => {
      urls.push(url);
      return (send as (...args: unknown[]) => Promise<unknown>)(url, ...rest);
    };
    return ex;
  };
  return { double, limits, ex: adapter(), urls, adapter, close: () => double.close() };
}

/** Nothing left the machine: every request went to the double, which knew every one of them. */
function expectOnlyTheDouble(f: Fixture): void {
  expect(f.urls.length).toBeGreaterThan(0);
  expect(f.urls.filter((u) => !u.startsWith(`${f.double.url}/`))).toEqual([]);
  expect(f.double.log).toHaveLength(f.urls.length);
  expect(f.double.log.filter((e) => e.op === 'other')).toEqual([]);
}

const SL_TP: Record<Venue, (id: string) => unknown> = {
  // ccxt sends OKX's batch endpoint a one-order array with the stops in `attachAlgoOrds`.
  okx: (id) => [
    expect.objectContaining({
      instId: 'BTC-USDT-SWAP',
      tdMode: 'isolated',
      side: 'buy',
      ordType: 'market',
      sz: '1',
      clOrdId: id,
      attachAlgoOrds: [expect.objectContaining({ slTriggerPx: '60000', slOrdPx: '-1', tpTriggerPx: '70000', tpOrdPx: '-1' })],
    }),
  ],
  bitget: (id) =>
    expect.objectContaining({
      symbol: 'BTCUSDT',
      productType: 'USDT-FUTURES',
      marginMode: 'isolated',
      marginCoin: 'USDT',
      side: 'buy',
      orderType: 'market',
      size: '0.01',
      clientOid: id,
      presetStopLossPrice: '60000',
      presetStopSurplusPrice: '70000',
    }),
};

const MESSAGES: Record<Venue, Record<'duplicate' | 'insufficient' | 'rateLimit' | 'badKey', string>> = {
  okx: {
    duplicate: 'okx duplicate client order id: Duplicated clOrdId (code 51016)',
    insufficient: 'okx insufficient funds: Order failed. Insufficient USDT margin in account (code 51008)',
    rateLimit: 'okx rate limited: Too Many Requests (code 50011)',
    badKey: 'okx authentication failed: Invalid OK-ACCESS-KEY. (code 50111)',
  },
  bitget: {
    duplicate: 'bitget duplicate client order id: Duplicate clientOid (code 40786)',
    insufficient: 'bitget insufficient funds: The order amount exceeds the balance (code 40762)',
    rateLimit: 'bitget rate limited: Too Many Requests (code 429)',
    badKey: 'bitget authentication failed: Apikey does not exist (code 40037)',
  },
};

describe.each(VENUES)('the ccxt adapter on %s', (venue) => {
  let f: Fixture;
  const ID = clientOrderId('t-1', 't-1:1', 'BTCUSDT', 0);

  beforeAll(async () => {
    f = await openVenue(venue);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('lists the USDT perpetuals with their precision, minimums and leverage as the port’s markets', async () => {
    const markets = await f.ex.loadMarkets();
    expect(Object.keys(markets)).toHaveLength(10);
    // OKX counts contracts (here 0.01 BTC each, lots of 0.1) and has no minimum notional.
    expect(markets['BTCUSDT']).toEqual({
      symbol: 'BTCUSDT',
      base: 'BTC',
      quote: 'USDT',
      amountStep: '0.001',
      priceTick: '0.1',
      minAmount: '0.001',
      minCost: venue === 'okx' ? '0' : '5',
      maxLeverage: 125,
      makerFee: '0.0002',
      takerFee: '0.0005',
    });
    expect(markets['XRPUSDT']).toMatchObject({ amountStep: '0.1', priceTick: '0.0001', maxLeverage: 75 });
    expect(markets['DOGEUSDT']).toMatchObject({ amountStep: '1', priceTick: '0.00001', minAmount: '1' });
    expect(await f.ex.unifiedSymbol('BTCUSDT')).toBe('BTC/USDT:USDT');
    const loads = f.double.log.filter((e) => e.op === 'markets');
    // Bitget's client asks for every futures product type; only USDT-M lists anything.
    expect(loads.map((e) => (e.payload as Record<string, string>)[venue === 'okx' ? 'instType' : 'productType'])).toEqual(
      venue === 'okx' ? ['SWAP'] : ['USDT-FUTURES', 'COIN-FUTURES', 'USDC-FUTURES', 'SUSDT-FUTURES', 'SCOIN-FUTURES', 'SUSDC-FUTURES'],
    );
  });

  it('reports the USDT balance of a fresh account', async () => {
    expect(await f.ex.fetchBalance()).toEqual({ currency: 'USDT', wallet: '10000', used: '0', free: '10000', unrealizedPnl: '0', equity: '10000' });
  });

  it('places a market order under a deterministic client id with its stops attached, and finds it by that id', async () => {
    await f.ex.setLeverage('BTCUSDT', 4);
    const acc = f.double.books.account(KEY)!;
    expect(acc.leverage.get('BTCUSDT')).toBe(4);
    expect(acc.marginMode.get('BTCUSDT')).toBe('isolated');

    const placed = await f.ex.createOrder({ clientOrderId: ID, symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '0.01', stopLoss: '60000', takeProfit: '70000' });
    expect(placed).toMatchObject({ clientOrderId: ID, symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '0.01', price: null, status: 'closed', filled: '0.01', average: '65000', fee: '0.325', reduceOnly: false, reason: null });
    const creates = f.double.log.filter((e) => e.op === 'createOrder');
    expect(creates).toHaveLength(1);
    expect(creates[0]).toMatchObject({ clientOrderId: ID, apiKey: KEY, status: 200 });
    expect(creates[0]!.payload).toEqual(SL_TP[venue](ID));
    const held = acc.byClientId.get(ID)!;
    expect([held.stopLoss?.toFixed(), held.takeProfit?.toFixed()]).toEqual(['60000', '70000']);

    expect(await f.ex.fetchOrderByClientId(ID, 'BTCUSDT')).toMatchObject({ id: placed.id, clientOrderId: ID, status: 'closed', filled: '0.01', average: '65000' });
    expect(await f.ex.fetchOrderByClientId('neverSent1', 'BTCUSDT')).toBeNull();

    const [position, ...others] = await f.ex.fetchPositions();
    expect(others).toEqual([]);
    expect(position).toMatchObject({ symbol: 'BTCUSDT', side: 'long', amount: '0.01', entryPrice: '65000', markPrice: '65000', leverage: 4, unrealizedPnl: '0' });
    expect(await f.ex.fetchBalance()).toEqual({ currency: 'USDT', wallet: '9999.675', used: '162.5', free: '9837.175', unrealizedPnl: '0', equity: '9999.675' });
  });

  it('refuses a second order under the same client id without placing it', async () => {
    const again = await f.ex.createOrder({ clientOrderId: ID, symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '0.01' }).catch((e: unknown) => e);
    expect(again).toEqual(new ExchangeError('duplicate', MESSAGES[venue].duplicate));
    expect(f.double.creates(ID)).toBe(2);
    expect(f.double.books.account(KEY)!.orders.size).toBe(1);
    expect(f.double.books.account(KEY)!.positions.get('BTCUSDT')!.amount.toFixed()).toBe('0.01');
  });

  it('lists and cancels open orders, closes the position reduce-only and prices the markets', async () => {
    const resting = await f.ex.createOrder({ clientOrderId: 'rest1', symbol: 'ETHUSDT', side: 'sell', type: 'limit', amount: '0.5', price: '3500' });
    expect(resting).toMatchObject({ clientOrderId: 'rest1', status: 'open', type: 'limit', price: '3500', amount: '0.5', filled: '0' });
    expect((await f.ex.fetchOpenOrders()).map((o) => [o.clientOrderId, o.symbol, o.side, o.amount, o.price])).toEqual([['rest1', 'ETHUSDT', 'sell', '0.5', '3500']]);
    expect(await f.ex.fetchOpenOrders('BTCUSDT')).toEqual([]);
    expect(await f.ex.cancelOrder(resting.id, 'ETHUSDT')).toMatchObject({ id: resting.id, status: 'canceled' });
    expect(await f.ex.fetchOpenOrders()).toEqual([]);
    expect(await f.ex.fetchOrderByClientId('rest1', 'ETHUSDT')).toMatchObject({ status: 'canceled', filled: '0' });

    const close = await f.ex.createOrder({ clientOrderId: 'close1', symbol: 'BTCUSDT', side: 'sell', type: 'market', amount: '0.01', reduceOnly: true });
    expect(close).toMatchObject({ status: 'closed', reduceOnly: true, filled: '0.01' });
    expect(await f.ex.fetchPositions()).toEqual([]);
    expect(await f.ex.fetchPrices(['BTCUSDT', 'SOLUSDT', 'NOPEUSDT'])).toEqual({ BTCUSDT: '65000', SOLUSDT: '150' });
  });

  it('takes an order below 5 USDT on OKX, which has a minimum size but no minimum notional', async () => {
    const small = await f.ex.createOrder({ clientOrderId: 'small1', symbol: 'ETHUSDT', side: 'buy', type: 'market', amount: '0.001' }).catch((e: unknown) => e);
    if (venue === 'okx') expect(small).toMatchObject({ status: 'closed', filled: '0.001', average: '3200' });
    else expect(small).toEqual(new ExchangeError('order', 'bitget rejected the order: less than the minimum amount 5 USDT (code 45110)'));
    if (venue === 'okx') await f.ex.createOrder({ clientOrderId: 'small2', symbol: 'ETHUSDT', side: 'sell', type: 'market', amount: '0.001', reduceOnly: true });
    expect(await f.ex.fetchPositions()).toEqual([]);
  });

  it('calls insufficient margin operational, with the venue’s reason', async () => {
    const broke = await f.ex.createOrder({ clientOrderId: 'big1', symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '50' }).catch((e: unknown) => e);
    expect(broke).toEqual(new ExchangeError('operational', MESSAGES[venue].insufficient));
    expect(f.double.books.account(KEY)!.byClientId.has('big1')).toBe(false);
  });

  it('calls a 429 transient and backs the limiter off', async () => {
    f.double.inject({ fault: { kind: 'rateLimit' }, op: 'balance' });
    const limited = await f.ex.fetchBalance().catch((e: unknown) => e);
    expect(limited).toEqual(new ExchangeError('transient', MESSAGES[venue].rateLimit));
    expect(f.double.log.at(-1)).toMatchObject({ op: 'balance', status: 429, fault: 'rateLimit' });
    expect(f.limits.stats().find((s) => s.venue === venue)?.rateLimitHits).toBe(1);
    expect((await f.ex.fetchBalance()).currency).toBe('USDT');
  });

  it('calls an unknown key, a wrong secret or a wrong passphrase operational', async () => {
    const wrongKey = await f.adapter({ apiKey: 'nobody' }).fetchBalance().catch((e: unknown) => e);
    expect(wrongKey).toEqual(new ExchangeError('operational', MESSAGES[venue].badKey));
    for (const bad of [{ secret: 'wrong' }, { password: 'wrong' }]) {
      const err = await f.adapter(bad).fetchPositions().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExchangeError);
      expect((err as ExchangeError).kind).toBe('operational');
      expect((err as ExchangeError).message).toMatch(new RegExp(`^${venue} authentication failed: `));
    }
  });

  it('sent every signed request with the key, and every request to the double', () => {
    const signed = f.double.log.filter((e) => ['balance', 'positions', 'createOrder', 'getOrder', 'cancelOrder', 'openOrders', 'setLeverage', 'setMarginMode'].includes(e.op));
    expect(signed.filter((e) => e.apiKey === KEY && e.status === 200).length).toBeGreaterThan(10);
    expectOnlyTheDouble(f);
  });
});

const FAULTS: readonly { readonly name: string; readonly fault: Fault; readonly ambiguous: boolean }[] = [
  { name: 'a 429', fault: { kind: 'rateLimit' }, ambiguous: false },
  { name: 'a 503 before the venue accepted', fault: { kind: 'serverError', status: 503 }, ambiguous: false },
  { name: 'a spurious duplicate refusal', fault: { kind: 'duplicate' }, ambiguous: false },
  { name: 'a 502 after the venue accepted', fault: { kind: 'serverError', status: 502, afterAccept: true }, ambiguous: true },
  { name: 'a connection reset after the venue accepted', fault: { kind: 'reset', afterAccept: true }, ambiguous: true },
];

describe.each(VENUES)('ambiguous submits and candles on %s', (venue) => {
  const CYCLE = 't-1:1';
  const id = clientOrderId('t-1', CYCLE, 'BTCUSDT', 0);
  const rebalance = async (f: Fixture) => {
    const deps = executeDeps(await f.ex.loadMarkets());
    const report = await executeRebalance(deps, deps.gate.wrap('t-1', 'm-1', f.ex), trader(), { cycleId: CYCLE, targets: { BTCUSDT: { weight: 0.5 } } }, new AbortController().signal);
    return { deps, report };
  };

  it.each(FAULTS)('places exactly one order through $name', async ({ fault, ambiguous }) => {
    const f = await openVenue(venue);
    try {
      f.double.inject({ fault, op: 'createOrder' });
      const { deps, report } = await rebalance(f);
      expect(f.double.armed()).toBe(0);
      expect(report.lines[0]!.outcome).toMatchObject({ status: 'sent', clientOrderId: id, order: { status: 'closed' } });
      const acc = f.double.books.account(KEY)!;
      expect([...acc.orders.values()].map((o) => o.clientOrderId)).toEqual([id]);
      expect(deps.orders.rows.get(id)).toMatchObject({ status: 'closed', exchangeOrderId: [...acc.orders.values()][0]!.id });
      // An ambiguous submit is looked up and never sent again; a refused one is resent once.
      expect(f.double.creates(id)).toBe(ambiguous ? 1 : 2);
      expectOnlyTheDouble(f);
    } finally {
      await f.close();
    }
  });

  it('resolves a submit that timed out after the venue accepted it by lookup, never sending it again', async () => {
    const f = await openVenue(venue, { timeoutMs: 300 });
    try {
      f.double.inject({ fault: { kind: 'timeout', afterAccept: true }, op: 'createOrder' });
      const { deps, report } = await rebalance(f);

      const trail = f.double.log.filter((e) => e.clientOrderId === id).map((e) => [e.op, e.status]);
      expect(trail[0]).toEqual(['createOrder', 0]);
      expect(trail.slice(1).length).toBeGreaterThan(0);
      expect(trail.slice(1).every(([op]) => op === 'getOrder')).toBe(true);
      expect(f.double.creates(id)).toBe(1);
      const acc = f.double.books.account(KEY)!;
      expect([...acc.orders.values()].map((o) => o.clientOrderId)).toEqual([id]);
      expect(report.lines[0]!.outcome).toMatchObject({ status: 'sent', clientOrderId: id, order: { status: 'closed' } });
      expect(deps.orders.rows.get(id)).toMatchObject({ status: 'closed', exchangeOrderId: [...acc.orders.values()][0]!.id });
      expect(deps.events.map((e) => e.type)).toEqual(['order.placed']);
      expectOnlyTheDouble(f);
    } finally {
      await f.close();
    }
  });

  it('returns the 1-minute candles of [since, until], oldest first', async () => {
    // Deterministic candles keyed by open time, on the wall clock ccxt itself reads.
    const candles: CandleSource = (_symbol, openTime) => {
      const i = (openTime / MIN) % 97;
      const close = String(100 + i);
      return { open: String(99 + i), high: String(101 + i), low: String(98 + i), close, volume: String(10 + i) };
    };
    const f = await openVenue(venue, { double: { candles } });
    try {
      const since = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
      const until = since + 19 * MIN;
      const rows = await f.ex.fetchOHLCV('BTCUSDT', '1m', since, 20, until);
      expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 20 }, (_, k) => since + k * MIN));
      const i = (since / MIN) % 97;
      expect(rows[0]).toEqual([since, 99 + i, 101 + i, 98 + i, 100 + i, 10 + i]);
      const klines = f.double.log.filter((e) => e.op === 'klines');
      expect(klines.map((e) => e.path)).toEqual([venue === 'okx' ? '/api/v5/market/candles' : '/api/v2/mix/market/candles']);
      expectOnlyTheDouble(f);
    } finally {
      await f.close();
    }
  });
});
