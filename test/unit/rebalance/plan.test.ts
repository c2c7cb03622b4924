import { describe, expect, it } from 'vitest';
import type { Market, Position } from '../../../runtime/exchange/port.ts';
import { planRebalance, type PlanInput } from '../../../runtime/rebalance/index.ts';

function market(symbol: string, over: Partial<Market> = {}): Market {
  return {
    symbol,
    base: symbol.replace(/USDT$/, ''),
    quote: 'USDT',
    amountStep: '0.001',
    priceTick: '0.1',
    minAmount: '0.001',
    minCost: '0',
    maxLeverage: 20,
    makerFee: '0.0002',
    takerFee: '0.0004',
    ...over,
  };
}

function position(symbol: string, side: 'long' | 'short', amount: string): Position {
  return {
    symbol,
    side,
    amount,
    entryPrice: '100',
    markPrice: '100',
    leverage: 1,
    margin: '0',
    unrealizedPnl: '0',
    liquidationPrice: null,
    stopLoss: null,
    takeProfit: null,
  };
}

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    equity: '1000',
    positions: [],
    targets: {},
    prices: { BTCUSDT: '100', ETHUSDT: '50', SOLUSDT: '10' },
    markets: { BTCUSDT: market('BTCUSDT'), ETHUSDT: market('ETHUSDT'), SOLUSDT: market('SOLUSDT') },
    leverage: 1,
    threshold: 0.01,
    reserve: 0,
    ...over,
  };
}

describe('planRebalance', () => {
  it('keeps the default reserve of equity free so a fully invested target fits the margin', () => {
    const plan = planRebalance({ ...input({ targets: { BTCUSDT: { weight: 1 } } }), reserve: undefined });
    // 1000 × (1 − 0.02) / 100 = 9.8
    expect(plan.orders[0]?.amount).toBe('9.800');
  });

  it('opens a long sized by weight × equity × leverage', () => {
    const plan = planRebalance(input({ leverage: 2, targets: { BTCUSDT: { weight: 0.5 } } }));
    expect(plan.orders).toEqual([
      {
        symbol: 'BTCUSDT',
        side: 'buy',
        amount: '10.000',
        reduceOnly: false,
        kind: 'open',
        price: '100',
        notional: '1000',
        currentWeight: 0,
        targetWeight: 0.5,
        stopLoss: null,
        takeProfit: null,
      },
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('truncates an open amount down to the market step', () => {
    const plan = planRebalance(input({ prices: { BTCUSDT: '30000' }, targets: { BTCUSDT: { weight: 0.1 } } }));
    expect(plan.orders[0]?.amount).toBe('0.003');
  });

  it('opens a short with a sell order', () => {
    const plan = planRebalance(input({ targets: { ETHUSDT: { weight: -0.25 } } }));
    expect(plan.orders.map((o) => [o.side, o.amount, o.kind, o.reduceOnly])).toEqual([['sell', '5.000', 'open', false]]);
  });

  it('closes a position absent from the targets with its exact amount, even off the step', () => {
    const plan = planRebalance(input({ positions: [position('BTCUSDT', 'long', '0.0123')] }));
    expect(plan.orders).toHaveLength(1);
    expect(plan.orders[0]).toMatchObject({ symbol: 'BTCUSDT', side: 'sell', amount: '0.0123', kind: 'close', reduceOnly: true, targetWeight: 0 });
  });

  it('closes a short with a reduce-only buy, even when the change is under the threshold', () => {
    const plan = planRebalance(input({ positions: [position('SOLUSDT', 'short', '0.5')], targets: { SOLUSDT: { weight: 0 } } }));
    expect(plan.orders.map((o) => [o.side, o.amount, o.kind, o.reduceOnly])).toEqual([['buy', '0.5', 'close', true]]);
  });

  it('turns a side flip into a reduce-only close of the whole position and an open on the other side', () => {
    const plan = planRebalance(input({ positions: [position('BTCUSDT', 'long', '5')], targets: { BTCUSDT: { weight: -0.3 } } }));
    expect(plan.orders.map((o) => [o.side, o.amount, o.kind, o.reduceOnly])).toEqual([
      ['sell', '5', 'close', true],
      ['sell', '3.000', 'open', false],
    ]);
    expect(plan.orders[0]?.currentWeight).toBe(0.5);
  });

  it('reduces a position with a reduce-only order on the opposite side', () => {
    const plan = planRebalance(
      input({ positions: [position('BTCUSDT', 'long', '5')], targets: { BTCUSDT: { weight: 0.2, stopLoss: 90.04, takeProfit: 120.06 } } }),
    );
    expect(plan.orders).toEqual([
      expect.objectContaining({ side: 'sell', amount: '3.000', kind: 'reduce', reduceOnly: true, notional: '300', stopLoss: '90.0', takeProfit: '120.1' }),
    ]);
  });

  it('turns a reduction that would leave a remainder under the minimum into a full close', () => {
    const markets = { BTCUSDT: market('BTCUSDT', { amountStep: '0.1', minAmount: '1' }) };
    const plan = planRebalance(input({ markets, positions: [position('BTCUSDT', 'long', '5')], targets: { BTCUSDT: { weight: 0.05 } } }));
    expect(plan.orders.map((o) => [o.side, o.amount, o.kind])).toEqual([['sell', '5', 'close']]);
  });

  it('increases a short by selling the difference', () => {
    const plan = planRebalance(input({ positions: [position('BTCUSDT', 'short', '2')], targets: { BTCUSDT: { weight: -0.5 } } }));
    expect(plan.orders.map((o) => [o.side, o.amount, o.kind, o.reduceOnly])).toEqual([['sell', '3.000', 'increase', false]]);
    expect(plan.orders[0]?.currentWeight).toBe(-0.2);
  });

  it('skips a change under the threshold with the amounts in the reason', () => {
    const plan = planRebalance(input({ positions: [position('BTCUSDT', 'long', '5')], targets: { BTCUSDT: { weight: 0.505 } } }));
    expect(plan.orders).toEqual([]);
    expect(plan.skipped).toEqual([{ symbol: 'BTCUSDT', reason: 'change 5.00 is under the threshold 10.00' }]);
  });

  it('skips an order under the exchange minimum with the reason and the amount', () => {
    const markets = { BTCUSDT: market('BTCUSDT', { minCost: '5' }) };
    const plan = planRebalance(input({ markets, threshold: 0, targets: { BTCUSDT: { weight: 0.003 } } }));
    expect(plan.orders).toEqual([]);
    expect(plan.skipped).toEqual([{ symbol: 'BTCUSDT', reason: "notional 3 is under BTCUSDT's minimum 5", amount: '0.030' }]);
  });

  it('keeps the close of a flip when the open on the other side is under the minimum', () => {
    const markets = { BTCUSDT: market('BTCUSDT', { minAmount: '1' }) };
    const plan = planRebalance(input({ markets, positions: [position('BTCUSDT', 'long', '2')], targets: { BTCUSDT: { weight: -0.05 } } }));
    expect(plan.orders.map((o) => o.kind)).toEqual(['close']);
    expect(plan.skipped).toEqual([{ symbol: 'BTCUSDT', reason: "amount 0.5 is under BTCUSDT's minimum 1", amount: '0.500' }]);
  });

  it('rounds stop-loss and take-profit to the price tick', () => {
    const plan = planRebalance(input({ targets: { BTCUSDT: { weight: 0.5, stopLoss: 95.123, takeProfit: 110.06 } } }));
    expect(plan.orders[0]).toMatchObject({ stopLoss: '95.1', takeProfit: '110.1' });
  });

  it('ignores a stop-loss that is not a positive price', () => {
    const plan = planRebalance(input({ targets: { BTCUSDT: { weight: 0.5, stopLoss: -1, takeProfit: Number.NaN } } }));
    expect(plan.orders[0]).toMatchObject({ stopLoss: null, takeProfit: null });
  });

  it('puts closes and reductions before opens and increases, and batches them in order', () => {
    const plan = planRebalance(
      input({
        batchSize: 2,
        positions: [position('BTCUSDT', 'long', '5'), position('ETHUSDT', 'long', '4'), position('SOLUSDT', 'short', '10')],
        targets: { ETHUSDT: { weight: 0.5 }, SOLUSDT: { weight: -0.05 }, AAAUSDT: { weight: 0.1 } },
        prices: { BTCUSDT: '100', ETHUSDT: '50', SOLUSDT: '10', AAAUSDT: '1' },
        markets: { BTCUSDT: market('BTCUSDT'), ETHUSDT: market('ETHUSDT'), SOLUSDT: market('SOLUSDT'), AAAUSDT: market('AAAUSDT') },
      }),
    );
    expect(plan.orders.map((o) => `${o.kind} ${o.symbol}`)).toEqual([
      'close BTCUSDT',
      'reduce SOLUSDT',
      'open AAAUSDT',
      'increase ETHUSDT',
    ]);
    expect(plan.batches.map((b) => b.map((o) => o.symbol))).toEqual([
      ['BTCUSDT', 'SOLUSDT'],
      ['AAAUSDT', 'ETHUSDT'],
    ]);
  });

  it('batches by five by default', () => {
    const symbols = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7'];
    const plan = planRebalance(
      input({
        targets: Object.fromEntries(symbols.map((s) => [s, { weight: 0.1 }])),
        prices: Object.fromEntries(symbols.map((s) => [s, '1'])),
        markets: Object.fromEntries(symbols.map((s) => [s, market(s)])),
      }),
    );
    expect(plan.batches.map((b) => b.length)).toEqual([5, 2]);
  });

  it('skips a symbol with no price, an unknown market or a weight that is not a number', () => {
    const plan = planRebalance(
      input({
        prices: { BTCUSDT: '100', ETHUSDT: 'abc' },
        targets: { BTCUSDT: { weight: Number.NaN }, ETHUSDT: { weight: 0.1 }, SOLUSDT: { weight: 0.1 }, XRPUSDT: { weight: 0.1 } },
      }),
    );
    expect(plan.orders).toEqual([]);
    expect(plan.skipped).toEqual([
      { symbol: 'BTCUSDT', reason: 'target weight NaN is not a number in [-1, 1]' },
      { symbol: 'ETHUSDT', reason: 'price abc for ETHUSDT is not a positive decimal' },
      { symbol: 'SOLUSDT', reason: 'no price for SOLUSDT' },
      { symbol: 'XRPUSDT', reason: 'unknown market XRPUSDT' },
    ]);
  });

  it('skips every symbol when equity is not a decimal', () => {
    const plan = planRebalance(input({ equity: 'n/a', positions: [position('BTCUSDT', 'long', '1')], targets: { ETHUSDT: { weight: 0.1 } } }));
    expect(plan.orders).toEqual([]);
    expect(plan.skipped).toEqual([
      { symbol: 'BTCUSDT', reason: 'equity n/a is not a decimal number' },
      { symbol: 'ETHUSDT', reason: 'equity n/a is not a decimal number' },
    ]);
  });

  it('skips every symbol when leverage is not a positive number', () => {
    const plan = planRebalance(input({ leverage: 0, targets: { ETHUSDT: { weight: 0.1 } } }));
    expect(plan.skipped).toEqual([{ symbol: 'ETHUSDT', reason: 'leverage 0 is not a positive number' }]);
  });

  it('reports a broken market as skipped instead of throwing', () => {
    const markets = { BTCUSDT: market('BTCUSDT', { amountStep: 'oops' }) };
    const plan = planRebalance(input({ markets, targets: { BTCUSDT: { weight: 0.5 } } }));
    expect(plan.orders).toEqual([]);
    expect(plan.skipped).toHaveLength(1);
    expect(plan.skipped[0]?.reason).toMatch(/^BTCUSDT could not be planned: /);
  });

  it('plans nothing for a symbol with a zero target and no position', () => {
    const plan = planRebalance(input({ targets: { BTCUSDT: { weight: 0 } } }));
    expect(plan).toEqual({ orders: [], batches: [], skipped: [] });
  });
});
