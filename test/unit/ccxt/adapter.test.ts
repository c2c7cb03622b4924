import type { Market as CcxtMarket } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../runtime/clock.ts';
import { balanceFrom, createCcxtExchange, decimalOf, marketFromCcxt, precisionToStep, rateLimitHitOf, rewriteApiUrls } from '../../../runtime/exchange/ccxt/adapter.ts';
import { createRateLimits } from '../../../runtime/exchange/ccxt/limiter.ts';
import { ExchangeError } from '../../../runtime/exchange/port.ts';
import { loadCcxt } from '../../../runtime/exchange/ccxt/lib.ts';

// The runtime loads ccxt on first need; these tests build ccxt clients (or errors) directly.
await loadCcxt();

const TICK_SIZE = 4;
const DECIMAL_PLACES = 2;
const SIGNIFICANT_DIGITS = 3;

const ccxtMarket = (over: Record<string, unknown> = {}): CcxtMarket =>
  ({
    id: 'BTCUSDT',
    symbol: 'BTC/USDT:USDT',
    base: 'BTC',
    quote: 'USDT',
    settle: 'USDT',
    swap: true,
    linear: true,
    active: true,
    contractSize: 1,
    maker: 0.0002,
    taker: 0.0005,
    precision: { amount: 0.001, price: 0.1 },
    limits: { amount: { min: 0.001 }, cost: { min: 5 }, leverage: { max: 125 } },
    ...over,
  }) as unknown as CcxtMarket;

describe('ccxt precision as decimal steps', () => {
  it('takes a TICK_SIZE value as the step itself', () => {
    expect(precisionToStep(0.001, TICK_SIZE)).toBe('0.001');
    expect(precisionToStep(1e-8, TICK_SIZE)).toBe('0.00000001');
    expect(precisionToStep(5, TICK_SIZE)).toBe('5');
  });

  it('turns a DECIMAL_PLACES count into the step it means', () => {
    expect(precisionToStep(3, DECIMAL_PLACES)).toBe('0.001');
    expect(precisionToStep(0, DECIMAL_PLACES)).toBe('1');
    expect(precisionToStep(-1, DECIMAL_PLACES)).toBe('10');
  });

  it('refuses SIGNIFICANT_DIGITS, which has no fixed step', () => {
    expect(() => precisionToStep(4, SIGNIFICANT_DIGITS)).toThrow('SIGNIFICANT_DIGITS is not supported');
  });

  it('drops float dust from numbers ccxt parsed', () => {
    expect(decimalOf(0.1 + 0.2)).toBe('0.3');
    expect(decimalOf(65000)).toBe('65000');
    expect(decimalOf(undefined)).toBeNull();
    expect(decimalOf(Number.NaN)).toBeNull();
  });
});

describe('markets from ccxt', () => {
  it('maps an active USDT linear perpetual with its steps, minimums, leverage and fees', () => {
    expect(marketFromCcxt(ccxtMarket(), TICK_SIZE)).toEqual({
      symbol: 'BTCUSDT',
      base: 'BTC',
      quote: 'USDT',
      amountStep: '0.001',
      priceTick: '0.1',
      minAmount: '0.001',
      minCost: '5',
      maxLeverage: 125,
      makerFee: '0.0002',
      takerFee: '0.0005',
    });
  });

  it('reads DECIMAL_PLACES precision as steps', () => {
    const m = marketFromCcxt(ccxtMarket({ precision: { amount: 3, price: 1 } }), DECIMAL_PLACES);
    expect([m?.amountStep, m?.priceTick]).toEqual(['0.001', '0.1']);
  });

  it('scales contract-denominated amounts to base units', () => {
    const m = marketFromCcxt(ccxtMarket({ contractSize: 0.01, precision: { amount: 1, price: 0.1 }, limits: { amount: { min: 1 }, cost: {}, leverage: {} } }), TICK_SIZE);
    expect(m).toMatchObject({ amountStep: '0.01', minAmount: '0.01', minCost: '0', maxLeverage: 20 });
  });

  it('skips spot, inverse, non-USDT and inactive markets', () => {
    expect(marketFromCcxt(ccxtMarket({ swap: false }), TICK_SIZE)).toBeNull();
    expect(marketFromCcxt(ccxtMarket({ linear: false }), TICK_SIZE)).toBeNull();
    expect(marketFromCcxt(ccxtMarket({ settle: 'USDC', quote: 'USDC' }), TICK_SIZE)).toBeNull();
    expect(marketFromCcxt(ccxtMarket({ active: false }), TICK_SIZE)).toBeNull();
  });
});

describe('balances from the venue fields', () => {
  it('reads Binance USDⓈ-M account assets', () => {
    const info = { assets: [{ asset: 'USDT', walletBalance: '1000.5', unrealizedProfit: '-10.25', marginBalance: '990.25', initialMargin: '100', availableBalance: '880.25' }] };
    expect(balanceFrom('binanceusdm', { info })).toEqual({ currency: 'USDT', wallet: '1000.5', used: '100', free: '880.25', unrealizedPnl: '-10.25', equity: '990.25' });
  });

  it('reads a Bybit unified account coin and computes free the port way', () => {
    const info = { result: { list: [{ coin: [{ coin: 'USDT', walletBalance: '1000', unrealisedPnl: '-20', equity: '980', totalPositionIM: '100', totalOrderIM: '50' }] }] } };
    expect(balanceFrom('bybit', { info })).toEqual({ currency: 'USDT', wallet: '1000', used: '150', free: '830', unrealizedPnl: '-20', equity: '980' });
  });

  it('reads OKX details and Bitget margin accounts', () => {
    const okx = { data: [{ details: [{ ccy: 'USDT', cashBal: '500', frozenBal: '50', upl: '5', eq: '505', availBal: '450' }] }] };
    expect(balanceFrom('okx', { info: okx })).toEqual({ currency: 'USDT', wallet: '500', used: '50', free: '450', unrealizedPnl: '5', equity: '505' });
    const bitget = [{ marginCoin: 'USDT', accountEquity: '210', unrealizedPL: '10', locked: '20', available: '180' }];
    expect(balanceFrom('bitget', { info: bitget })).toEqual({ currency: 'USDT', wallet: '200', used: '20', free: '180', unrealizedPnl: '10', equity: '210' });
  });

  it('falls back to ccxt unified totals when the venue fields are missing', () => {
    expect(balanceFrom('okx', { info: {}, total: { USDT: 100 }, used: { USDT: 10 }, free: { USDT: 90 } })).toEqual({
      currency: 'USDT',
      wallet: '100',
      used: '10',
      free: '90',
      unrealizedPnl: '0',
      equity: '100',
    });
  });
});

describe('rate-limit responses', () => {
  it('pauses the IP on 429 and 418 for Retry-After', () => {
    expect(rateLimitHitOf('binanceusdm', 429, { 'Retry-After': '7' }, {}, 0)).toEqual({ status: 429, retryAfterMs: 7000, scope: 'ip' });
    expect(rateLimitHitOf('binanceusdm', 418, { 'retry-after': '120' }, {}, 0)).toEqual({ status: 418, retryAfterMs: 120_000, scope: 'ip' });
    expect(rateLimitHitOf('binanceusdm', 400, {}, { code: -2019 }, 0)).toBeNull();
  });

  it("reads Bybit's IP ban and per-account limit with its reset timestamp", () => {
    expect(rateLimitHitOf('bybit', 403, {}, '<html>', 0)).toEqual({ status: 403, retryAfterMs: null, scope: 'ip' });
    expect(rateLimitHitOf('bybit', 200, { 'X-Bapi-Limit-Reset-Timestamp': '1500' }, { retCode: 10006 }, 1000)).toEqual({ status: 10006, retryAfterMs: 500, scope: 'account' });
    expect(rateLimitHitOf('bybit', 200, {}, { retCode: 0 }, 0)).toBeNull();
  });
});

describe('pointing ccxt at another host', () => {
  it('rewrites every api url to the base keeping the path, hostname templates included', () => {
    const client = { urls: { api: { fapiPublic: 'https://fapi.binance.com/fapi/v1', nested: { x: 'https://api.{hostname}' } } } };
    rewriteApiUrls(client, 'http://127.0.0.1:9/');
    expect(client.urls.api).toEqual({ fapiPublic: 'http://127.0.0.1:9/fapi/v1', nested: { x: 'http://127.0.0.1:9' } });
  });
});

describe('the adapter on every venue', () => {
  it.each(['binanceusdm', 'bybit', 'okx', 'bitget'] as const)('sends %s requests only through our limiter, with ccxt limiter off', async (venue) => {
    const limits = createRateLimits({ clock: systemClock });
    const limiter = limits.account(venue, 'acct');
    // Nothing listens on port 9 of the loopback: the request is refused after the limiter granted it.
    const ex = createCcxtExchange({ venue, credentials: { apiKey: 'k', secret: 's', password: 'p' }, limiter, clock: systemClock, apiBaseUrl: 'http://127.0.0.1:9', timeoutMs: 1000 });
    expect(ex.client.enableRateLimit).toBe(false);
    expect(JSON.stringify(ex.client.urls.api)).not.toMatch(/https:/);
    const err = await ex.loadMarkets().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect((err as ExchangeError).kind).toBe('transient');
    expect((err as ExchangeError).message).toMatch(new RegExp(`^${venue} network error: GET http://127\\.0\\.0\\.1:9/`));
    expect(limits.stats()[0]!.requests).toBeGreaterThanOrEqual(1);
    expect(ex.capabilities.attachedStops).toBe(venue !== 'binanceusdm');
  });
});
