import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TargetWeight } from '../../../runtime/domain.ts';
import type { Market, Position } from '../../../runtime/exchange/port.ts';
import { Dec, dec } from '../../../runtime/exchange/precision.ts';
import { planRebalance, type PlanInput, type RebalancePlan } from '../../../runtime/rebalance/index.ts';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF'] as const;

interface Scenario {
  readonly input: PlanInput;
}

/** Markets whose minimums are one step and no cost, or arbitrary ones. */
function scenario(loose: boolean): fc.Arbitrary<Scenario> {
  const marketArb = fc.record({
    step: fc.constantFrom('1', '0.1', '0.01', '0.001'),
    minSteps: loose ? fc.constant(1) : fc.integer({ min: 1, max: 20 }),
    minCost: loose ? fc.constant('0') : fc.constantFrom('0', '5', '10', '100'),
    priceCents: fc.integer({ min: 1, max: 10_000_000 }),
  });
  const symbolArb = fc.record({
    market: marketArb,
    weight: fc.option(fc.oneof(fc.double({ min: -1, max: 1, noNaN: true }), fc.constant(0)), { nil: undefined }),
    position: fc.option(fc.record({ long: fc.boolean(), extraSteps: fc.integer({ min: 0, max: 200_000 }) }), { nil: undefined }),
  });
  return fc
    .record({
      symbols: fc.tuple(...SYMBOLS.map(() => symbolArb)),
      equity: fc.integer({ min: 10, max: 5_000_000 }),
      leverage: fc.integer({ min: 1, max: 10 }),
      threshold: fc.constantFrom(0, 0.001, 0.01, 0.05),
      batchSize: fc.integer({ min: 1, max: 7 }),
    })
    .map(({ symbols, equity, leverage, threshold, batchSize }) => {
      const gross = symbols.reduce((s, x) => s + Math.abs(x.weight ?? 0), 0);
      const scale = gross > 1 ? 1 / gross : 1;
      const markets: Record<string, Market> = {};
      const prices: Record<string, string> = {};
      const targets: Record<string, TargetWeight> = {};
      const positions: Position[] = [];
      symbols.forEach((s, i) => {
        const symbol = SYMBOLS[i]!;
        const step = dec(s.market.step);
        markets[symbol] = {
          symbol,
          base: symbol,
          quote: 'USDT',
          amountStep: s.market.step,
          priceTick: '0.01',
          minAmount: step.mul(s.market.minSteps).toFixed(),
          minCost: s.market.minCost,
          maxLeverage: 20,
          makerFee: '0',
          takerFee: '0',
        };
        prices[symbol] = dec(s.market.priceCents).div(100).toFixed();
        if (s.weight !== undefined) targets[symbol] = { weight: s.weight * scale, stopLoss: 1, takeProfit: 2 };
        if (s.position !== undefined) {
          positions.push(
            makePosition(symbol, s.position.long, step.mul(s.market.minSteps + s.position.extraSteps).toFixed()),
          );
        }
      });
      return { input: { equity: String(equity), leverage, threshold, reserve: 0, batchSize, markets, prices, targets, positions } };
    });
}

function makePosition(symbol: string, long: boolean, amount: string): Position {
  return {
    symbol,
    side: long ? 'long' : 'short',
    amount,
    entryPrice: '1',
    markPrice: '1',
    leverage: 1,
    margin: '0',
    unrealizedPnl: '0',
    liquidationPrice: null,
    stopLoss: null,
    takeProfit: null,
  };
}

function signedAmounts(positions: readonly Position[]): Map<string, Dec> {
  const m = new Map<string, Dec>();
  for (const p of positions) m.set(p.symbol, (m.get(p.symbol) ?? new Dec(0)).plus(p.side === 'long' ? p.amount : dec(p.amount).neg()));
  return m;
}

function applyPlan(positions: readonly Position[], plan: RebalancePlan): Position[] {
  const amounts = signedAmounts(positions);
  for (const o of plan.orders) {
    const before = amounts.get(o.symbol) ?? new Dec(0);
    amounts.set(o.symbol, o.side === 'buy' ? before.plus(o.amount) : before.minus(o.amount));
  }
  return [...amounts]
    .filter(([, a]) => !a.isZero())
    .map(([symbol, a]) => makePosition(symbol, a.isPositive(), a.abs().toFixed()));
}

const RUNS = { numRuns: 300 };

describe('planRebalance properties', () => {
  it('puts every reduce-only order before every order that adds exposure', () => {
    fc.assert(
      fc.property(scenario(false), ({ input }) => {
        const kinds = planRebalance(input).orders.map((o) => o.reduceOnly);
        const firstOpen = kinds.indexOf(false);
        expect(firstOpen === -1 || kinds.slice(firstOpen).every((r) => !r)).toBe(true);
      }),
      RUNS,
    );
  });

  it('sizes every order as a multiple of the step, meets the minimums except for exact closes', () => {
    fc.assert(
      fc.property(scenario(false), ({ input }) => {
        const held = signedAmounts(input.positions);
        for (const o of planRebalance(input).orders) {
          const m = input.markets[o.symbol]!;
          const amount = dec(o.amount);
          expect(amount.gt(0)).toBe(true);
          expect(amount.mod(m.amountStep).isZero()).toBe(true);
          if (o.kind === 'close') {
            expect(amount.eq(held.get(o.symbol)!.abs())).toBe(true);
          } else {
            expect(amount.gte(m.minAmount)).toBe(true);
            expect(amount.mul(o.price).gte(m.minCost)).toBe(true);
          }
          expect(dec(o.notional).eq(amount.mul(o.price))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('lands each symbol within one step plus the threshold of its target when minimums are one step', () => {
    fc.assert(
      fc.property(scenario(true), ({ input }) => {
        const after = signedAmounts(applyPlan(input.positions, planRebalance(input)));
        for (const symbol of SYMBOLS) {
          const price = dec(input.prices[symbol]!);
          const target = dec(input.targets[symbol]?.weight ?? 0).mul(input.equity).mul(input.leverage);
          const actual = (after.get(symbol) ?? new Dec(0)).mul(price);
          const slack = dec(input.markets[symbol]!.amountStep).mul(price).plus(dec(input.equity).mul(input.threshold!));
          expect(actual.minus(target).abs().lte(slack)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('lands each symbol within one step, the threshold and the exchange minimum of its target', () => {
    fc.assert(
      fc.property(scenario(false), ({ input }) => {
        const after = signedAmounts(applyPlan(input.positions, planRebalance(input)));
        for (const symbol of SYMBOLS) {
          const m = input.markets[symbol]!;
          const price = dec(input.prices[symbol]!);
          const target = dec(input.targets[symbol]?.weight ?? 0).mul(input.equity).mul(input.leverage);
          const actual = (after.get(symbol) ?? new Dec(0)).mul(price);
          const minimum = Dec.max(dec(m.minAmount).mul(price), m.minCost);
          const slack = dec(m.amountStep).mul(price).plus(dec(input.equity).mul(input.threshold!)).plus(minimum);
          expect(actual.minus(target).abs().lte(slack)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('batches exactly the orders, in order, never more than the batch size per batch', () => {
    fc.assert(
      fc.property(scenario(false), ({ input }) => {
        const plan = planRebalance(input);
        expect(plan.batches.flat()).toEqual(plan.orders);
        for (const b of plan.batches) {
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(input.batchSize!);
        }
      }),
      RUNS,
    );
  });

  it('plans no orders when run again from the post-trade positions', () => {
    fc.assert(
      fc.property(scenario(false), ({ input }) => {
        const first = planRebalance(input);
        const again = planRebalance({ ...input, positions: applyPlan(input.positions, first) });
        expect(again.orders).toEqual([]);
      }),
      RUNS,
    );
  });

  it('closes every position whose target is zero or absent', () => {
    fc.assert(
      fc.property(scenario(false), ({ input }) => {
        const plan = planRebalance(input);
        for (const p of input.positions) {
          if ((input.targets[p.symbol]?.weight ?? 0) !== 0) continue;
          expect(plan.orders.filter((o) => o.symbol === p.symbol).map((o) => o.kind)).toEqual(['close']);
        }
      }),
      RUNS,
    );
  });

  it('decides exactly as the decimal-only path: the quick test with doubles changes no order and no skip', () => {
    fc.assert(
      fc.property(fc.boolean().chain(scenario), ({ input }) => {
        const quick = planRebalance(input);
        const exact = planRebalance({ ...input, exactOnly: true });
        expect(quick.orders).toEqual(exact.orders);
        expect(quick.skipped.map((x) => x.symbol)).toEqual(exact.skipped.map((x) => x.symbol));
        for (const [i, x] of quick.skipped.entries()) {
          const e = exact.skipped[i]!;
          // The amount is printed from doubles on the quick path: equal to the cent, or off by one in the last digit.
          if (x.reason !== e.reason) expect(x.reason.replace(/[\d.]+ is under/, '')).toBe(e.reason.replace(/[\d.]+ is under/, ''));
        }
      }),
      RUNS,
    );
  });
});
