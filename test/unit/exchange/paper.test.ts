import { describe, expect, it } from 'vitest';
import { ExchangeError, createPaperVenue, dec } from '../../../runtime/exchange/index.ts';
import { BTC, ETH, manualClock, order, venueWith } from './fixtures.ts';

function setup(wallet = '10000', slippageBps = 0) {
  const ctx = venueWith({ slippageBps });
  ctx.venue.openAccount('a1', wallet);
  return { ...ctx, ex: ctx.venue.account('a1') };
}

describe('paper venue: market orders', () => {
  it('fills a market buy at the last price plus slippage and charges the taker fee on the notional', async () => {
    const { ex, fills } = setup('10000', 2);
    const o = await ex.createOrder(order({ side: 'buy', amount: '0.1' }));
    expect(o).toMatchObject({ status: 'closed', filled: '0.1', average: '50010', fee: '2.0004', reason: null });
    expect(fills.map((f) => f.fill)).toEqual([
      expect.objectContaining({ side: 'buy', amount: '0.1', price: '50010', fee: '2.0004', realizedPnl: '0', trigger: 'order' }),
    ]);
    expect(await ex.fetchBalance()).toEqual({
      currency: 'USDT',
      wallet: '9997.9996',
      used: '5001',
      unrealizedPnl: '-1',
      free: '4995.9996',
      equity: '9996.9996',
    });
    const [pos] = await ex.fetchPositions();
    expect(pos).toMatchObject({ symbol: 'BTCUSDT', side: 'long', amount: '0.1', entryPrice: '50010', markPrice: '50000', margin: '5001' });
  });

  it('fills a market sell at the last price minus slippage and opens a short', async () => {
    const { ex } = setup('10000', 2);
    const o = await ex.createOrder(order({ side: 'sell', amount: '0.1' }));
    expect(o.average).toBe('49990');
    const [pos] = await ex.fetchPositions();
    expect(pos).toMatchObject({ side: 'short', amount: '0.1', entryPrice: '49990', unrealizedPnl: '-1' });
  });

  it('rejects a market order before the symbol has a price', async () => {
    const venue = createPaperVenue({ markets: [BTC], clock: manualClock() });
    venue.openAccount('a1', '1000');
    const o = await venue.account('a1').createOrder(order());
    expect(o).toMatchObject({ status: 'rejected', reason: 'no price for BTCUSDT yet' });
  });

  it('returns the last prices and refuses unknown symbols', async () => {
    const { ex, venue } = setup();
    venue.updatePrice('BTCUSDT', { close: '51000.5' });
    expect(await ex.fetchPrices(['BTCUSDT', 'ETHUSDT'])).toEqual({ BTCUSDT: '51000.5', ETHUSDT: '1000' });
    await expect(ex.fetchPrices(['DOGEUSDT'])).rejects.toThrow('unknown symbol DOGEUSDT');
  });

  it('lists its markets', async () => {
    const { ex } = setup();
    expect(await ex.loadMarkets()).toEqual({ BTCUSDT: BTC, ETHUSDT: ETH });
    expect(ex.venue).toBe('paper');
  });
});

describe('paper venue: limit orders', () => {
  it('rests a limit buy, reserves its margin and fills at the limit price with the maker fee when the low crosses', async () => {
    const { ex, venue, fills } = setup();
    const o = await ex.createOrder(order({ type: 'limit', price: '49000', amount: '0.1' }));
    expect(o.status).toBe('open');
    expect(await ex.fetchOpenOrders()).toEqual([o]);
    expect((await ex.fetchBalance()).used).toBe('4900.98');

    venue.updatePrice('BTCUSDT', { close: '49500', high: '50100', low: '49100' });
    expect(fills).toHaveLength(0);

    venue.updatePrice('BTCUSDT', { close: '49500', high: '49600', low: '48900' });
    expect(fills.map((f) => f.fill)).toEqual([expect.objectContaining({ price: '49000', fee: '0.98', trigger: 'order' })]);
    expect(await ex.fetchOpenOrders()).toEqual([]);
    expect(await ex.fetchOrderByClientId(o.clientOrderId, 'BTCUSDT')).toMatchObject({
      status: 'closed',
      filled: '0.1',
      average: '49000',
      fee: '0.98',
    });
    expect(await ex.fetchBalance()).toMatchObject({ wallet: '9999.02', used: '4900', unrealizedPnl: '50' });
  });

  it('fills a limit sell when the high reaches it', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ type: 'limit', side: 'sell', price: '50500', amount: '0.1' }));
    venue.updatePrice('BTCUSDT', { close: '50200', high: '50500', low: '50000' });
    expect(fills[0]?.fill).toMatchObject({ side: 'sell', price: '50500', fee: '1.01' });
  });

  it('fills a marketable limit at once at the limit price with the taker fee', async () => {
    const { ex } = setup();
    const o = await ex.createOrder(order({ type: 'limit', price: '50100', amount: '0.1' }));
    expect(o).toMatchObject({ status: 'closed', average: '50100', fee: '2.004' });
  });

  it('cancels an open order, releases its reserve and refuses to cancel it twice', async () => {
    const { ex, venue, fills } = setup();
    const o = await ex.createOrder(order({ type: 'limit', price: '49000' }));
    const c = await ex.cancelOrder(o.id, 'BTCUSDT');
    expect(c).toMatchObject({ id: o.id, status: 'canceled' });
    expect((await ex.fetchBalance()).used).toBe('0');
    venue.updatePrice('BTCUSDT', { close: '48000' });
    expect(fills).toHaveLength(0);
    await expect(ex.cancelOrder(o.id, 'BTCUSDT')).rejects.toThrow(`order ${o.id} is canceled, not open`);
    await expect(ex.cancelOrder('999', 'BTCUSDT')).rejects.toMatchObject({ kind: 'order', message: 'unknown order 999 on BTCUSDT' });
  });

  it('cancels a resting order at fill time when the margin is no longer there', async () => {
    const { ex, venue } = setup('6000');
    const limit = await ex.createOrder(order({ type: 'limit', price: '40000', amount: '0.1' }));
    await ex.createOrder(order({ amount: '0.02' }));
    // Losses on the ETH and BTC longs eat the free balance the limit's reserve was part of.
    await ex.createOrder(order({ symbol: 'ETHUSDT', amount: '0.9', side: 'buy' }));
    venue.updatePrice('ETHUSDT', { close: '1' });
    venue.updatePrice('BTCUSDT', { close: '40000' });
    const after = await ex.fetchOrderByClientId(limit.clientOrderId, 'BTCUSDT');
    expect(after?.status).toBe('canceled');
    expect(after?.reason).toMatch(/^insufficient margin at fill: needs 4000\.8, free /);
  });
});

describe('paper venue: validation', () => {
  it.each([
    [{ symbol: 'DOGEUSDT' }, 'unknown symbol DOGEUSDT'],
    [{ amount: '0' }, 'amount must be a positive decimal, got 0'],
    [{ amount: '-1' }, 'amount must be a positive decimal, got -1'],
    [{ amount: 'abc' }, 'amount must be a positive decimal, got abc'],
    [{ type: 'limit' as const }, 'limit order needs a price'],
    [{ type: 'limit' as const, price: '49000.05' }, "price 49000.05 is not a multiple of BTCUSDT's tick 0.1"],
    [{ amount: '0.0015' }, "amount 0.0015 is not a multiple of BTCUSDT's step 0.001"],
    [{ amount: '0.001' }, "amount 0.001 is under BTCUSDT's minimum 0.002"],
    [{ symbol: 'ETHUSDT', amount: '0.01' }, "notional 10 is under ETHUSDT's minimum 20"],
    [{ leverage: 126 }, 'leverage 126 is not an integer in 1..125 for BTCUSDT'],
    [{ leverage: 2.5 }, 'leverage 2.5 is not an integer in 1..125 for BTCUSDT'],
    [{ stopLoss: '51000' }, 'stopLoss 51000 would trigger immediately for a long position at 50000'],
    [{ takeProfit: '49000' }, 'takeProfit 49000 would trigger immediately for a long position at 50000'],
    [{ side: 'sell' as const, stopLoss: '49000' }, 'stopLoss 49000 would trigger immediately for a short position at 50000'],
    [{ stopLoss: '49000.01' }, "stopLoss 49000.01 is not a multiple of BTCUSDT's tick 0.1"],
    [{ amount: '1' }, 'insufficient margin: needs 50020, free 10000'],
  ])('rejects %j with a reason and does not round it', async (over, reason) => {
    const { ex, fills } = setup();
    const o = await ex.createOrder(order(over));
    expect(o).toMatchObject({ status: 'rejected', reason, filled: '0' });
    expect(fills).toHaveLength(0);
    expect((await ex.fetchBalance()).wallet).toBe('10000');
    expect(await ex.fetchPositions()).toEqual([]);
  });

  it('refuses a client order id that is not 1-32 alphanumerics', async () => {
    const { ex } = setup();
    await expect(ex.createOrder(order({ clientOrderId: 'has-dash' }))).rejects.toMatchObject({ kind: 'order' });
    await expect(ex.createOrder(order({ clientOrderId: 'x'.repeat(33) }))).rejects.toBeInstanceOf(ExchangeError);
  });

  it('throws an operational error for an unknown account', () => {
    const { venue } = setup();
    expect(() => venue.account('nobody')).toThrow(expect.objectContaining({ kind: 'operational' }));
  });
});

describe('paper venue: leverage and margin', () => {
  it('posts notional / leverage as isolated margin', async () => {
    const { ex } = setup();
    await ex.setLeverage('BTCUSDT', 10);
    await ex.createOrder(order({ amount: '1' }));
    const [pos] = await ex.fetchPositions();
    expect(pos).toMatchObject({ leverage: 10, margin: '5000' });
    expect(await ex.fetchBalance()).toMatchObject({ wallet: '9980', used: '5000', free: '4980' });
  });

  it('takes leverage from the order request', async () => {
    const { ex } = setup();
    await ex.createOrder(order({ amount: '1', leverage: 20 }));
    expect((await ex.fetchPositions())[0]).toMatchObject({ leverage: 20, margin: '2500' });
  });

  it('reports the margin an order needs and what is free when it is short', async () => {
    const { ex } = setup('1000');
    await ex.setLeverage('BTCUSDT', 10);
    const o = await ex.createOrder(order({ amount: '1' }));
    expect(o.reason).toBe('insufficient margin: needs 5020, free 1000');
  });

  it('refuses leverage above the market maximum and lowering it under an open position', async () => {
    const { ex } = setup();
    await expect(ex.setLeverage('BTCUSDT', 200)).rejects.toMatchObject({
      kind: 'order',
      message: 'leverage 200 is not an integer in 1..125 for BTCUSDT',
    });
    await ex.setLeverage('BTCUSDT', 5);
    await ex.createOrder(order());
    await expect(ex.setLeverage('BTCUSDT', 2)).rejects.toThrow(
      'cannot lower BTCUSDT leverage from 5 to 2 while a position is open',
    );
    await ex.setLeverage('BTCUSDT', 10);
    expect((await ex.fetchPositions())[0]?.leverage).toBe(10);
  });
});

describe('paper venue: positions', () => {
  it('averages the entry price when a position grows', async () => {
    const { ex, venue } = setup('100000');
    await ex.createOrder(order({ amount: '0.1' }));
    venue.updatePrice('BTCUSDT', { close: '52000' });
    await ex.createOrder(order({ amount: '0.1' }));
    expect((await ex.fetchPositions())[0]).toMatchObject({ amount: '0.2', entryPrice: '51000', margin: '10200', unrealizedPnl: '200' });
  });

  it('realizes P&L on a partial close and releases margin in proportion', async () => {
    const { ex, venue, fills } = setup('100000');
    await ex.createOrder(order({ amount: '0.2' }));
    venue.updatePrice('BTCUSDT', { close: '51000' });
    await ex.createOrder(order({ side: 'sell', amount: '0.05' }));
    expect(fills[1]?.fill).toMatchObject({ realizedPnl: '50', fee: '1.02' });
    expect((await ex.fetchPositions())[0]).toMatchObject({ side: 'long', amount: '0.15', entryPrice: '50000', margin: '7500' });
    expect((await ex.fetchBalance()).wallet).toBe(dec('100000').minus('4').plus('50').minus('1.02').toString());
  });

  it('flips a long into a short when the sell is larger than the position', async () => {
    const { ex, venue, fills } = setup('100000');
    await ex.createOrder(order({ amount: '0.1' }));
    venue.updatePrice('BTCUSDT', { close: '51000' });
    await ex.createOrder(order({ side: 'sell', amount: '0.3' }));
    expect(fills[1]?.fill).toMatchObject({ amount: '0.3', price: '51000', realizedPnl: '100', fee: '6.12' });
    expect(await ex.fetchPositions()).toEqual([
      expect.objectContaining({ side: 'short', amount: '0.2', entryPrice: '51000', margin: '10200' }),
    ]);
    expect((await ex.fetchBalance()).wallet).toBe('100091.88');
  });

  it('covers a short with a buy and realizes the gain', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ side: 'sell', amount: '0.1' }));
    venue.updatePrice('BTCUSDT', { close: '49000' });
    await ex.createOrder(order({ side: 'buy', amount: '0.1' }));
    expect(fills[1]?.fill.realizedPnl).toBe('100');
    expect(await ex.fetchPositions()).toEqual([]);
    expect(await ex.fetchBalance()).toMatchObject({ used: '0', wallet: dec(10000).minus(2).plus(100).minus('1.96').toString() });
  });

  it('caps a reduce-only order at the position and never opens the other side', async () => {
    const { ex } = setup();
    await ex.createOrder(order({ amount: '0.1' }));
    const o = await ex.createOrder(order({ side: 'sell', amount: '0.3', reduceOnly: true }));
    expect(o).toMatchObject({ status: 'closed', amount: '0.3', filled: '0.1', reduceOnly: true });
    expect(await ex.fetchPositions()).toEqual([]);
  });

  it('rejects a reduce-only order without a position or in the direction of the position', async () => {
    const { ex } = setup();
    expect((await ex.createOrder(order({ side: 'sell', reduceOnly: true }))).reason).toBe(
      'reduce-only order has no BTCUSDT position to reduce',
    );
    await ex.createOrder(order());
    expect((await ex.createOrder(order({ side: 'buy', reduceOnly: true }))).reason).toBe(
      'reduce-only buy would increase the BTCUSDT long position',
    );
  });

  it('exempts reduce-only orders from the minimum notional', async () => {
    const { ex } = setup();
    await ex.createOrder(order({ symbol: 'ETHUSDT', amount: '0.05' }));
    const o = await ex.createOrder(order({ symbol: 'ETHUSDT', side: 'sell', amount: '0.01', reduceOnly: true }));
    expect(o.status).toBe('closed');
  });

  it('cancels resting reduce-only orders once the position is closed', async () => {
    const { ex } = setup();
    await ex.createOrder(order());
    const tp = await ex.createOrder(order({ type: 'limit', side: 'sell', price: '55000', reduceOnly: true }));
    await ex.createOrder(order({ side: 'sell' }));
    expect(await ex.fetchOrderByClientId(tp.clientOrderId, 'BTCUSDT')).toMatchObject({ status: 'canceled', reason: 'position closed' });
  });
});

describe('paper venue: liquidation', () => {
  it('computes the isolated liquidation price of a long and closes it there, losing the margin', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ amount: '1', leverage: 10 }));
    // (50000 − 5000/1) / (1 − 0.005) = 45226.13…, rounded up to the tick.
    expect((await ex.fetchPositions())[0]?.liquidationPrice).toBe('45226.2');
    venue.updatePrice('BTCUSDT', { close: '45500', high: '46000', low: '45300' });
    expect(fills).toHaveLength(1);
    venue.updatePrice('BTCUSDT', { close: '46000', high: '46100', low: '45000' });
    expect(fills[1]).toEqual({
      accountId: 'a1',
      fill: expect.objectContaining({ side: 'sell', amount: '1', price: '45226.2', realizedPnl: '-4773.8', fee: '226.2', trigger: 'liquidation' }),
    });
    expect(await ex.fetchPositions()).toEqual([]);
    expect(await ex.fetchBalance()).toMatchObject({ wallet: '4980', used: '0' });
  });

  it('liquidates a short when the high reaches its liquidation price', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ side: 'sell', amount: '1', leverage: 10 }));
    // (50000 + 5000/1) / (1 + 0.005) = 54726.36…, rounded down to the tick.
    expect((await ex.fetchPositions())[0]?.liquidationPrice).toBe('54726.3');
    venue.updatePrice('BTCUSDT', { close: '54000', high: '55000' });
    expect(fills[1]?.fill).toMatchObject({ side: 'buy', price: '54726.3', trigger: 'liquidation' });
    expect((await ex.fetchBalance()).wallet).toBe('4980');
  });

  it('gives a fully collateralised long no liquidation price', async () => {
    const { ex } = setup();
    await ex.createOrder(order());
    expect((await ex.fetchPositions())[0]?.liquidationPrice).toBeNull();
  });
});

describe('paper venue: stop-loss and take-profit', () => {
  it('closes a long at its stop-loss when the low crosses it, with the taker fee', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ stopLoss: '49000', takeProfit: '52000' }));
    expect((await ex.fetchPositions())[0]).toMatchObject({ stopLoss: '49000', takeProfit: '52000' });
    venue.updatePrice('BTCUSDT', { close: '49500', high: '51000', low: '49100' });
    expect(fills).toHaveLength(1);
    venue.updatePrice('BTCUSDT', { close: '49500', low: '48500' });
    expect(fills[1]?.fill).toMatchObject({ side: 'sell', price: '49000', realizedPnl: '-100', fee: '1.96', trigger: 'stopLoss' });
    expect(await ex.fetchOrderByClientId(fills[1]!.fill.clientOrderId, 'BTCUSDT')).toMatchObject({ status: 'closed', reduceOnly: true });
    expect(await ex.fetchPositions()).toEqual([]);
  });

  it('closes a long at its take-profit when the high crosses it', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ takeProfit: '52000' }));
    venue.updatePrice('BTCUSDT', { close: '51000', high: '52500' });
    expect(fills[1]?.fill).toMatchObject({ price: '52000', realizedPnl: '200', trigger: 'takeProfit' });
  });

  it('closes a short at its stop-loss on the high and its take-profit on the low', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ side: 'sell', stopLoss: '51000' }));
    venue.updatePrice('BTCUSDT', { close: '50500', high: '51200' });
    expect(fills[1]?.fill).toMatchObject({ side: 'buy', price: '51000', realizedPnl: '-100', trigger: 'stopLoss' });
    await ex.createOrder(order({ side: 'sell', takeProfit: '49000' }));
    venue.updatePrice('BTCUSDT', { close: '49500', low: '48000' });
    expect(fills[3]?.fill).toMatchObject({ price: '49000', trigger: 'takeProfit' });
  });

  it('assumes the stop-loss came first when one bar crosses both', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ stopLoss: '49000', takeProfit: '51000' }));
    venue.updatePrice('BTCUSDT', { close: '50000', high: '52000', low: '48000' });
    expect(fills.map((f) => f.fill.trigger)).toEqual(['order', 'stopLoss']);
  });

  it('fires the stop-loss rather than the liquidation when the stop sits above it', async () => {
    const { ex, venue, fills } = setup();
    await ex.createOrder(order({ amount: '1', leverage: 10, stopLoss: '47000' }));
    venue.updatePrice('BTCUSDT', { close: '44000', low: '44000' });
    expect(fills[1]?.fill).toMatchObject({ price: '47000', trigger: 'stopLoss' });
  });

  it('replaces a position’s stop-loss with the newest order that sets one and keeps its take-profit', async () => {
    const { ex } = setup('100000');
    await ex.createOrder(order({ stopLoss: '49000', takeProfit: '52000' }));
    await ex.createOrder(order({ stopLoss: '48000' }));
    expect((await ex.fetchPositions())[0]).toMatchObject({ amount: '0.2', stopLoss: '48000', takeProfit: '52000' });
  });

  it('attaches SL/TP of a resting limit order when it fills', async () => {
    const { ex, venue } = setup();
    await ex.createOrder(order({ type: 'limit', price: '49000', stopLoss: '48000' }));
    venue.updatePrice('BTCUSDT', { close: '49000' });
    expect((await ex.fetchPositions())[0]).toMatchObject({ entryPrice: '49000', stopLoss: '48000', takeProfit: null });
  });

  it('drops the old SL/TP when a position flips', async () => {
    const { ex } = setup();
    await ex.createOrder(order({ stopLoss: '49000' }));
    await ex.createOrder(order({ side: 'sell', amount: '0.2' }));
    expect((await ex.fetchPositions())[0]).toMatchObject({ side: 'short', stopLoss: null });
  });
});

describe('paper venue: client order ids', () => {
  it('refuses a client order id already seen on the account, rejected ones included', async () => {
    const { ex, venue } = setup();
    const ok = await ex.createOrder(order({ clientOrderId: 'abc1' }));
    await expect(ex.createOrder(order({ clientOrderId: 'abc1' }))).rejects.toMatchObject({ kind: 'duplicate' });
    const bad = await ex.createOrder(order({ clientOrderId: 'abc2', amount: '0' }));
    expect(bad.status).toBe('rejected');
    await expect(ex.createOrder(order({ clientOrderId: 'abc2' }))).rejects.toThrow('duplicate clientOrderId abc2 on paper account a1');
    expect(await ex.fetchOrderByClientId('abc1', 'BTCUSDT')).toEqual(ok);
    expect(await ex.fetchOrderByClientId('abc2', 'BTCUSDT')).toEqual(bad);
    expect(await ex.fetchOrderByClientId('never', 'BTCUSDT')).toBeNull();
    venue.openAccount('a2', '1000');
    expect((await venue.account('a2').createOrder(order({ clientOrderId: 'abc1', amount: '0.01' }))).status).toBe('closed');
  });

  it('forgets finished orders beyond its history window but keeps open ones', async () => {
    const { venue } = venueWith({ orderHistory: 2 });
    venue.openAccount('a1', '100000');
    const ex = venue.account('a1');
    const open = await ex.createOrder(order({ type: 'limit', price: '40000', clientOrderId: 'open1' }));
    for (const id of ['f1', 'f2', 'f3']) await ex.createOrder(order({ clientOrderId: id, amount: '0.01' }));
    expect(await ex.fetchOrderByClientId('f1', 'BTCUSDT')).toBeNull();
    expect(await ex.fetchOrderByClientId('f3', 'BTCUSDT')).not.toBeNull();
    expect(await ex.fetchOrderByClientId('open1', 'BTCUSDT')).toEqual(open);
  });
});

describe('paper venue: accounts', () => {
  it('keeps an existing account when it is opened again', async () => {
    const { venue, ex } = setup();
    await ex.createOrder(order());
    venue.openAccount('a1', '5');
    expect((await ex.fetchBalance()).wallet).toBe('9998');
    expect(venue.hasAccount('a1')).toBe(true);
    expect(venue.hasAccount('a2')).toBe(false);
  });

  it('isolates a listener that throws from the venue and reports it', async () => {
    const errors: unknown[] = [];
    const { venue } = venueWith({ onListenerError: (e) => errors.push(e) });
    venue.onFill(() => {
      throw new Error('boom');
    });
    venue.openAccount('a1', '10000');
    const o = await venue.account('a1').createOrder(order());
    expect(o.status).toBe('closed');
    expect(errors).toEqual([new Error('boom')]);
  });

  it('stops calling a listener after it unsubscribes', async () => {
    const { venue } = setup();
    const seen: string[] = [];
    const off = venue.onFill((id) => seen.push(id));
    await venue.account('a1').createOrder(order());
    off();
    await venue.account('a1').createOrder(order());
    expect(seen).toEqual(['a1']);
  });
});
