import { describe, expect, it } from 'vitest';
import type { Position } from '../../../runtime/exchange/port.ts';
import type { PlannedOrder, RebalancePlan } from '../../../runtime/rebalance/index.ts';
import { checkOrder, DEFAULT_LIMITS, resolveLimits, reviewPlan, type RiskContext } from '../../../runtime/risk/index.ts';

function order(over: Partial<PlannedOrder> = {}): PlannedOrder {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    amount: '1',
    reduceOnly: false,
    kind: 'open',
    price: '100',
    notional: '100',
    currentWeight: 0,
    targetWeight: 0.1,
    stopLoss: null,
    takeProfit: null,
    ...over,
  };
}

function position(symbol: string): Position {
  return {
    symbol,
    side: 'long',
    amount: '1',
    entryPrice: '100',
    markPrice: '100',
    leverage: 1,
    margin: '100',
    unrealizedPnl: '0',
    liquidationPrice: null,
    stopLoss: null,
    takeProfit: null,
  };
}

function ctx(over: Partial<RiskContext> = {}): RiskContext {
  return {
    limits: resolveLimits({ maxOpenPositions: 2, maxLeverage: 5, maxOrderNotional: 10_000, dailyLossLimit: 0.1 }),
    leverage: 3,
    positions: [],
    equity: '1000',
    dayStartEquity: '1000',
    ...over,
  };
}

function plan(orders: PlannedOrder[]): RebalancePlan {
  return { orders, batches: [orders], skipped: [] };
}

describe('resolveLimits', () => {
  it('starts from the platform defaults', () => {
    expect(resolveLimits()).toEqual({ maxOpenPositions: 10, maxLeverage: 10, maxOrderNotional: 1_000_000, dailyLossLimit: 0.1 });
    expect(resolveLimits(undefined)).toEqual(DEFAULT_LIMITS);
  });

  it('lets a later layer override an earlier one field by field', () => {
    expect(resolveLimits({ maxLeverage: 5, dailyLossLimit: 0.05 }, undefined, { maxLeverage: 3 })).toEqual({
      maxOpenPositions: 10,
      maxLeverage: 3,
      maxOrderNotional: 1_000_000,
      dailyLossLimit: 0.05,
    });
  });

  it('ignores values that are not finite non-negative numbers', () => {
    expect(resolveLimits({ maxLeverage: Number.NaN, maxOpenPositions: -1, maxOrderNotional: Infinity }, { maxOpenPositions: 0 })).toEqual({
      ...DEFAULT_LIMITS,
      maxOpenPositions: 0,
    });
  });
});

describe('checkOrder', () => {
  it('allows an order within every limit', () => {
    expect(checkOrder(order(), ctx(), 1)).toEqual({ allowed: true });
  });

  it('denies an order above the max notional with the amounts in the reason', () => {
    expect(checkOrder(order({ notional: '12000' }), ctx(), 1)).toEqual({
      allowed: false,
      check: 'maxOrderNotional',
      reason: 'order notional 12000.00 exceeds the limit 10000',
    });
  });

  it('allows an order exactly at the max notional', () => {
    expect(checkOrder(order({ notional: '10000' }), ctx(), 1)).toEqual({ allowed: true });
  });

  it('denies an order when the leverage is above the limit', () => {
    expect(checkOrder(order(), ctx({ leverage: 8 }), 1)).toEqual({
      allowed: false,
      check: 'maxLeverage',
      reason: 'leverage 8 exceeds the limit 5',
    });
  });

  it('denies an open that would exceed the max open positions', () => {
    expect(checkOrder(order({ symbol: 'ETHUSDT' }), ctx(), 3)).toEqual({
      allowed: false,
      check: 'maxOpenPositions',
      reason: 'opening ETHUSDT would make 3 open positions, over the limit 2',
    });
  });

  it('does not count an increase against the max open positions', () => {
    expect(checkOrder(order({ kind: 'increase' }), ctx(), 3)).toEqual({ allowed: true });
  });

  it('denies opens and increases once the daily loss reaches the limit', () => {
    const c = ctx({ equity: '875', dayStartEquity: '1000' });
    const denied = { allowed: false, check: 'dailyLossLimit', reason: 'daily loss 12.50% reached the limit 10.00%' };
    expect(checkOrder(order(), c, 1)).toEqual(denied);
    expect(checkOrder(order({ kind: 'increase' }), c, 1)).toEqual(denied);
  });

  it('denies at exactly the daily loss limit and allows just under it', () => {
    expect(checkOrder(order(), ctx({ equity: '900' }), 1)).toMatchObject({ allowed: false, check: 'dailyLossLimit' });
    expect(checkOrder(order(), ctx({ equity: '900.01' }), 1)).toEqual({ allowed: true });
  });

  it('always allows closes and reductions, whatever the limits say', () => {
    const c = ctx({ equity: '100', leverage: 50, limits: resolveLimits({ maxOpenPositions: 0, maxOrderNotional: 1 }) });
    expect(checkOrder(order({ kind: 'close', reduceOnly: true, side: 'sell', notional: '99999' }), c, 5)).toEqual({ allowed: true });
    expect(checkOrder(order({ kind: 'reduce', reduceOnly: true, side: 'sell', notional: '99999' }), c, 5)).toEqual({ allowed: true });
  });

  it('denies an open when the equity cannot be read', () => {
    expect(checkOrder(order(), ctx({ equity: 'n/a' }), 1)).toEqual({
      allowed: false,
      check: 'dailyLossLimit',
      reason: 'the daily loss cannot be checked: equity n/a is not a decimal number',
    });
  });
});

describe('reviewPlan', () => {
  it('returns the plan’s own order objects in order, each with its decision', () => {
    const orders = [order({ kind: 'close', reduceOnly: true, side: 'sell' }), order({ symbol: 'ETHUSDT' })];
    const reviewed = reviewPlan(plan(orders), ctx({ positions: [position('BTCUSDT')] }));
    expect(reviewed.map((r) => r.order)).toEqual(orders);
    expect(reviewed[0]?.order).toBe(orders[0]);
    expect(reviewed.map((r) => r.decision.allowed)).toEqual([true, true]);
  });

  it('counts approved closes as freeing a slot for a later open', () => {
    const positions = [position('BTCUSDT'), position('ETHUSDT')];
    const withoutClose = reviewPlan(plan([order({ symbol: 'SOLUSDT' })]), ctx({ positions }));
    expect(withoutClose[0]?.decision).toMatchObject({ allowed: false, check: 'maxOpenPositions' });

    const withClose = reviewPlan(
      plan([order({ symbol: 'BTCUSDT', kind: 'close', reduceOnly: true, side: 'sell' }), order({ symbol: 'SOLUSDT' })]),
      ctx({ positions }),
    );
    expect(withClose.map((r) => r.decision.allowed)).toEqual([true, true]);
  });

  it('counts approved opens so that later opens see them', () => {
    const reviewed = reviewPlan(
      plan([order({ symbol: 'AAAUSDT' }), order({ symbol: 'BBBUSDT' }), order({ symbol: 'CCCUSDT' })]),
      ctx(),
    );
    expect(reviewed.map((r) => r.decision)).toEqual([
      { allowed: true },
      { allowed: true },
      { allowed: false, check: 'maxOpenPositions', reason: 'opening CCCUSDT would make 3 open positions, over the limit 2' },
    ]);
  });

  it('does not count a denied open as an open position', () => {
    const reviewed = reviewPlan(
      plan([order({ symbol: 'AAAUSDT', notional: '20000' }), order({ symbol: 'BBBUSDT' }), order({ symbol: 'CCCUSDT' })]),
      ctx(),
    );
    expect(reviewed.map((r) => r.decision.allowed)).toEqual([false, true, true]);
  });

  it('re-opens a flipped symbol in the slot its close freed', () => {
    const positions = [position('BTCUSDT'), position('ETHUSDT')];
    const reviewed = reviewPlan(
      plan([order({ symbol: 'BTCUSDT', kind: 'close', reduceOnly: true, side: 'sell' }), order({ symbol: 'BTCUSDT', side: 'sell' })]),
      ctx({ positions }),
    );
    expect(reviewed.map((r) => r.decision.allowed)).toEqual([true, true]);
  });

  it('lets the closes through and denies the opens after a daily loss', () => {
    const reviewed = reviewPlan(
      plan([order({ kind: 'close', reduceOnly: true, side: 'sell' }), order({ symbol: 'ETHUSDT' })]),
      ctx({ positions: [position('BTCUSDT')], equity: '800' }),
    );
    expect(reviewed.map((r) => r.decision)).toEqual([
      { allowed: true },
      { allowed: false, check: 'dailyLossLimit', reason: 'daily loss 20.00% reached the limit 10.00%' },
    ]);
  });
});
