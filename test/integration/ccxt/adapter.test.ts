/**
 * The real ccxt client, through our adapter, against the loopback double of each venue:
 * markets, balances, positions, an order round trip, lookups by client id and refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../../runtime/clock.ts';
import { ExchangeError } from '../../../runtime/exchange/port.ts';
import { KEY, openVenue, VENUES, type VenueFixture } from './support.ts';

describe.each(VENUES)('the ccxt adapter on %s', (venue) => {
  let f: VenueFixture;

  beforeAll(async () => {
    f = await openVenue(venue);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('lists the USDT perpetuals with their precision and minimums as decimal strings', async () => {
    const markets = await f.ex.loadMarkets();
    expect(Object.keys(markets)).toHaveLength(10);
    expect(markets['BTCUSDT']).toMatchObject({ symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', amountStep: '0.001', priceTick: '0.1', minAmount: '0.001', minCost: '5' });
    expect(markets['XRPUSDT']).toMatchObject({ amountStep: '0.1', priceTick: '0.0001' });
    expect(markets['DOGEUSDT']).toMatchObject({ amountStep: '1', priceTick: '0.00001', minAmount: '1' });
    expect(await f.ex.unifiedSymbol('BTCUSDT')).toBe('BTC/USDT:USDT');
  });

  it('loads markets once and reloads them when they are older than the time to live', async () => {
    const clock = createManualClock(1_000_000);
    const ex = f.adapter({ clock, marketsTtlMs: 60_000 });
    const loads = () => f.double.log.filter((e) => e.op === 'markets').length;
    const before = loads();
    await ex.loadMarkets();
    const once = loads() - before;
    await ex.loadMarkets();
    await ex.fetchPrices(['BTCUSDT']);
    expect(loads() - before).toBe(once);
    clock.advance(60_000);
    await ex.loadMarkets();
    expect(loads() - before).toBe(2 * once);
  });

  it('places, finds, lists and cancels orders and reports the position and balance they leave', async () => {
    await f.ex.setLeverage('BTCUSDT', 4);
    const acc = f.double.books.account(KEY)!;
    expect(acc.leverage.get('BTCUSDT')).toBe(4);
    expect(acc.marginMode.get('BTCUSDT')).toBe('isolated');

    const placed = await f.ex.createOrder({ clientOrderId: 'rt1', symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '0.01', stopLoss: '60000', takeProfit: '70000' });
    expect(placed).toMatchObject({ clientOrderId: 'rt1', symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '0.01', price: null, status: 'closed', filled: '0.01', average: '65000', reduceOnly: false, reason: null });
    expect(await f.ex.fetchOrderByClientId('rt1', 'BTCUSDT')).toMatchObject({ id: placed.id, status: 'closed', filled: '0.01' });
    expect(await f.ex.fetchOrderByClientId('never-sent', 'BTCUSDT')).toBeNull();

    const [position] = await f.ex.fetchPositions();
    expect(position).toMatchObject({ symbol: 'BTCUSDT', side: 'long', amount: '0.01', entryPrice: '65000', markPrice: '65000', leverage: 4, unrealizedPnl: '0' });
    // Binance takes no stops on the entry order: the runtime must manage exits there.
    expect(f.ex.capabilities.attachedStops).toBe(venue !== 'binanceusdm');
    expect([position?.stopLoss, position?.takeProfit]).toEqual(venue === 'binanceusdm' ? [null, null] : ['60000', '70000']);

    const balance = await f.ex.fetchBalance();
    expect(balance).toMatchObject({ currency: 'USDT', wallet: '9999.675', unrealizedPnl: '0', equity: '9999.675', used: '162.5' });

    const resting = await f.ex.createOrder({ clientOrderId: 'rt2', symbol: 'ETHUSDT', side: 'sell', type: 'limit', amount: '0.5', price: '3500' });
    expect(resting).toMatchObject({ status: 'open', price: '3500', filled: '0' });
    expect((await f.ex.fetchOpenOrders()).map((o) => o.clientOrderId)).toEqual(['rt2']);
    expect((await f.ex.fetchOpenOrders('BTCUSDT')).map((o) => o.clientOrderId)).toEqual([]);
    expect(await f.ex.cancelOrder(resting.id, 'ETHUSDT')).toMatchObject({ id: resting.id, status: 'canceled' });
    expect(await f.ex.fetchOpenOrders()).toEqual([]);

    const close = await f.ex.createOrder({ clientOrderId: 'rt3', symbol: 'BTCUSDT', side: 'sell', type: 'market', amount: '0.01', reduceOnly: true });
    expect(close).toMatchObject({ status: 'closed', reduceOnly: true });
    expect(await f.ex.fetchPositions()).toEqual([]);
    expect(await f.ex.fetchPrices(['BTCUSDT', 'SOLUSDT', 'NOPEUSDT'])).toEqual({ BTCUSDT: '65000', SOLUSDT: '150' });
  });

  it('sends every signed request with the API key header', () => {
    const signed = f.double.log.filter((e) => ['balance', 'positions', 'createOrder', 'getOrder', 'cancelOrder', 'openOrders', 'setLeverage'].includes(e.op));
    expect(signed.length).toBeGreaterThan(5);
    expect(signed.every((e) => e.apiKey === KEY)).toBe(true);
    expect(signed.filter((e) => e.status === 200).length).toBeGreaterThan(5);
  });

  it('turns venue refusals into classified errors with the venue reason', async () => {
    await f.ex.createOrder({ clientOrderId: 'dup1', symbol: 'SOLUSDT', side: 'buy', type: 'market', amount: '1' });
    const dup = await f.ex.createOrder({ clientOrderId: 'dup1', symbol: 'SOLUSDT', side: 'buy', type: 'market', amount: '1' }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(ExchangeError);
    expect((dup as ExchangeError).kind).toBe('duplicate');
    expect((dup as ExchangeError).message).toBe(
      venue === 'binanceusdm'
        ? 'binanceusdm duplicate client order id: ClientOrderId is duplicated. (code -4116)'
        : 'bybit duplicate client order id: OrderLinkedID is duplicate (code 110072)',
    );
    const broke = await f.ex.createOrder({ clientOrderId: 'big1', symbol: 'BTCUSDT', side: 'buy', type: 'market', amount: '50' }).catch((e: unknown) => e);
    expect((broke as ExchangeError).kind).toBe('operational');
    expect((broke as ExchangeError).message).toBe(
      venue === 'binanceusdm' ? 'binanceusdm insufficient funds: Margin is insufficient. (code -2019)' : 'bybit insufficient funds: ab not enough for new order (code 110007)',
    );
    const unknown = await f.ex.createOrder({ clientOrderId: 'x1', symbol: 'NOPEUSDT', side: 'buy', type: 'market', amount: '1' }).catch((e: unknown) => e);
    expect(unknown).toEqual(new ExchangeError('order', `${venue} has no USDT perpetual NOPEUSDT`));
  });

  it('calls a wrong key or secret operational', async () => {
    const wrongKey = await f.adapter({ apiKey: 'nobody' }).fetchBalance().catch((e: unknown) => e);
    expect(wrongKey).toEqual(
      new ExchangeError(
        'operational',
        venue === 'binanceusdm'
          ? 'binanceusdm authentication failed: Invalid API-key, IP, or permissions for action. (code -2015)'
          : 'bybit authentication failed: API key is invalid. (code 10003)',
      ),
    );
    const wrongSecret = await f.adapter({ secret: 'wrong' }).fetchPositions().catch((e: unknown) => e);
    expect((wrongSecret as ExchangeError).kind).toBe('operational');
  });
});
