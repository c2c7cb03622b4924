/**
 * Runtime-managed exits: the levels read back from order records, the candle-range triggers,
 * and the executor closing a triggered position through the recorded-before-send path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../runtime/clock.ts';
import { Ids, type TargetWeights } from '../../../runtime/domain.ts';
import { clientOrderId } from '../../../runtime/exchange/clientId.ts';
import { createOrderGate } from '../../../runtime/exchange/gate.ts';
import { createPaperVenue } from '../../../runtime/exchange/paper.ts';
import { dec } from '../../../runtime/exchange/precision.ts';
import type { Exchange, Market, Order, OrderRequest, Position } from '../../../runtime/exchange/port.ts';
import { executeRebalance, type ExecuteDeps, type RebalanceTrader } from '../../../runtime/rebalance/execute.ts';
import { exitLevelsFromOrders, triggeredExits, type ExitLevel, type ManagedExits, type PriceRange } from '../../../runtime/rebalance/index.ts';
import { resolveLimits } from '../../../runtime/risk/pretrade.ts';
import type { EventRecord, OrderRecord } from '../../../runtime/store/types.ts';
import { createMemoryOrders, type MemoryOrders } from '../../support/exchange-double/orders.ts';

const T = Ids.trader('t-1');

let seq = 0;
function rec(over: Partial<OrderRecord> & Pick<OrderRecord, 'side' | 'createdAt'>): OrderRecord {
  seq += 1;
  return {
    clientOrderId: `o${seq}`,
    traderId: T,
    cycleId: `t-1:${over.createdAt}`,
    symbol: 'BTCUSDT',
    type: 'market',
    amount: over.filled ?? '1',
    reduceOnly: false,
    leverage: 2,
    status: 'closed',
    exchangeOrderId: `x${seq}`,
    filled: '1',
    average: '100',
    fee: '0',
    reason: null,
    updatedAt: over.createdAt,
    ...over,
  };
}

describe('exitLevelsFromOrders', () => {
  it('takes the levels of the filled order that set them, with its side, time and id', () => {
    const open = rec({ side: 'buy', createdAt: 1000, stopLoss: '90', takeProfit: '120' });
    expect(exitLevelsFromOrders([open])).toEqual({
      BTCUSDT: { side: 'long', stopLoss: '90', takeProfit: '120', since: 1000, clientOrderId: open.clientOrderId },
    });
  });

  it('lets the latest order win, per level, whatever order the records come in', () => {
    const first = rec({ side: 'buy', createdAt: 1000, stopLoss: '90', takeProfit: '120' });
    const later = rec({ side: 'buy', createdAt: 2000, stopLoss: '95' });
    const levels = exitLevelsFromOrders([later, first]);
    // The increase without a take-profit keeps the earlier one, as the paper venue does.
    expect(levels['BTCUSDT']).toEqual({ side: 'long', stopLoss: '95', takeProfit: '120', since: 2000, clientOrderId: later.clientOrderId });
  });

  it('clears the levels when a reduce-only order closes the position', () => {
    const orders = [
      rec({ side: 'buy', createdAt: 1000, filled: '2', stopLoss: '90' }),
      rec({ side: 'sell', createdAt: 2000, filled: '2', reduceOnly: true }),
    ];
    expect(exitLevelsFromOrders(orders)).toEqual({});
  });

  it('keeps the levels through a partial reduction, and takes the levels a reduction carries', () => {
    const open = rec({ side: 'buy', createdAt: 1000, filled: '2', stopLoss: '90' });
    const cut = rec({ side: 'sell', createdAt: 2000, filled: '1', reduceOnly: true });
    expect(exitLevelsFromOrders([open, cut])['BTCUSDT']).toMatchObject({ side: 'long', stopLoss: '90', clientOrderId: open.clientOrderId });
    const cutWithLevel = rec({ side: 'sell', createdAt: 2000, filled: '1', reduceOnly: true, stopLoss: '97' });
    expect(exitLevelsFromOrders([open, cutWithLevel])['BTCUSDT']).toMatchObject({ side: 'long', stopLoss: '97', clientOrderId: cutWithLevel.clientOrderId });
  });

  it('starts a reopened position with only its own levels: an opening order without levels leaves none', () => {
    const orders = [
      rec({ side: 'buy', createdAt: 1000, stopLoss: '90' }),
      rec({ side: 'sell', createdAt: 2000, reduceOnly: true }),
      rec({ side: 'buy', createdAt: 3000 }),
    ];
    expect(exitLevelsFromOrders(orders)).toEqual({});
  });

  it('ignores pending, rejected, failed and unfilled orders, but counts a partly filled one', () => {
    const open = rec({ side: 'buy', createdAt: 1000, stopLoss: '90' });
    const ignored = [
      rec({ side: 'buy', createdAt: 2000, status: 'pending', filled: '0', stopLoss: '10' }),
      rec({ side: 'buy', createdAt: 2001, status: 'rejected', filled: '0', stopLoss: '11' }),
      rec({ side: 'buy', createdAt: 2002, status: 'failed', filled: '0', stopLoss: '12' }),
      rec({ side: 'sell', createdAt: 2003, status: 'canceled', filled: '0', reduceOnly: true }),
    ];
    expect(exitLevelsFromOrders([open, ...ignored])['BTCUSDT']).toMatchObject({ stopLoss: '90', clientOrderId: open.clientOrderId });
    const partial = rec({ side: 'buy', createdAt: 3000, status: 'canceled', amount: '2', filled: '0.5', stopLoss: '93' });
    expect(exitLevelsFromOrders([open, partial])['BTCUSDT']).toMatchObject({ stopLoss: '93', clientOrderId: partial.clientOrderId });
  });

  it('reads a short: sell opens it, a buy closes it', () => {
    const open = rec({ side: 'sell', createdAt: 1000, stopLoss: '110', takeProfit: '80' });
    expect(exitLevelsFromOrders([open])['BTCUSDT']).toMatchObject({ side: 'short', stopLoss: '110', takeProfit: '80' });
    expect(exitLevelsFromOrders([open, rec({ side: 'buy', createdAt: 2000, reduceOnly: true })])).toEqual({});
  });

  it('follows a flip sent in one millisecond: the close first, then the new side with its own levels', () => {
    const open = rec({ side: 'buy', createdAt: 1000, stopLoss: '90' });
    const flipOpen = rec({ side: 'sell', createdAt: 2000, filled: '0.5', stopLoss: '110' });
    const flipClose = rec({ side: 'sell', createdAt: 2000, filled: '1', reduceOnly: true });
    // Records of one millisecond may come in any order (the store breaks ties by client id).
    expect(exitLevelsFromOrders([open, flipOpen, flipClose])['BTCUSDT']).toEqual({
      side: 'short',
      stopLoss: '110',
      takeProfit: null,
      since: 2000,
      clientOrderId: flipOpen.clientOrderId,
    });
  });

  it('keeps symbols apart', () => {
    const levels = exitLevelsFromOrders([
      rec({ side: 'buy', createdAt: 1000, stopLoss: '90' }),
      rec({ symbol: 'ETHUSDT', side: 'sell', createdAt: 1000, takeProfit: '5' }),
    ]);
    expect(Object.keys(levels).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(levels['ETHUSDT']).toMatchObject({ side: 'short', stopLoss: null, takeProfit: '5' });
  });
});

function position(symbol: string, side: 'long' | 'short', amount = '1'): Position {
  return {
    symbol,
    side,
    amount,
    entryPrice: '100',
    markPrice: '100',
    leverage: 2,
    margin: '50',
    unrealizedPnl: '0',
    liquidationPrice: null,
    stopLoss: null,
    takeProfit: null,
  };
}
const level = (side: 'long' | 'short', stopLoss: string | null, takeProfit: string | null): ExitLevel => ({ side, stopLoss, takeProfit, since: 1, clientOrderId: 'o1' });
const range = (low: string, high: string): PriceRange => ({ low, high, close: low });

describe('triggeredExits', () => {
  it('fires a long stop-loss on the low and a long take-profit on the high, at the level', () => {
    const long = [position('BTCUSDT', 'long')];
    const lv = { BTCUSDT: level('long', '90', '120') };
    expect(triggeredExits(long, lv, { BTCUSDT: range('90', '100') })).toEqual([{ symbol: 'BTCUSDT', trigger: 'stopLoss', level: '90', side: 'long' }]);
    expect(triggeredExits(long, lv, { BTCUSDT: range('95', '120') })).toEqual([{ symbol: 'BTCUSDT', trigger: 'takeProfit', level: '120', side: 'long' }]);
    expect(triggeredExits(long, lv, { BTCUSDT: range('90.01', '119.99') })).toEqual([]);
  });

  it('mirrors a short: stop-loss on the high, take-profit on the low', () => {
    const short = [position('BTCUSDT', 'short')];
    const lv = { BTCUSDT: level('short', '110', '80') };
    expect(triggeredExits(short, lv, { BTCUSDT: range('95', '110') })).toEqual([{ symbol: 'BTCUSDT', trigger: 'stopLoss', level: '110', side: 'short' }]);
    expect(triggeredExits(short, lv, { BTCUSDT: range('79', '100') })).toEqual([{ symbol: 'BTCUSDT', trigger: 'takeProfit', level: '80', side: 'short' }]);
    expect(triggeredExits(short, lv, { BTCUSDT: range('81', '109') })).toEqual([]);
  });

  it('lets the stop-loss win when one candle meets both levels', () => {
    expect(triggeredExits([position('BTCUSDT', 'long')], { BTCUSDT: level('long', '90', '120') }, { BTCUSDT: range('80', '130') })).toEqual([
      { symbol: 'BTCUSDT', trigger: 'stopLoss', level: '90', side: 'long' },
    ]);
    expect(triggeredExits([position('BTCUSDT', 'short')], { BTCUSDT: level('short', '110', '80') }, { BTCUSDT: range('70', '130') })).toEqual([
      { symbol: 'BTCUSDT', trigger: 'stopLoss', level: '110', side: 'short' },
    ]);
  });

  it('checks nothing without a candle, without a level, or when the level belongs to the other side', () => {
    const long = [position('BTCUSDT', 'long')];
    expect(triggeredExits(long, { BTCUSDT: level('long', '90', null) }, {})).toEqual([]);
    expect(triggeredExits(long, {}, { BTCUSDT: range('1', '1000') })).toEqual([]);
    expect(triggeredExits(long, { BTCUSDT: level('short', '90', '120') }, { BTCUSDT: range('1', '1000') })).toEqual([]);
    expect(triggeredExits(long, { BTCUSDT: level('long', '90', null) }, { BTCUSDT: range('not a price', '1000') })).toEqual([]);
  });
});

// ---- the executor ----

const BTC: Market = {
  symbol: 'BTCUSDT',
  base: 'BTC',
  quote: 'USDT',
  amountStep: '0.001',
  priceTick: '0.1',
  minAmount: '0.001',
  minCost: '5',
  maxLeverage: 20,
  makerFee: '0.0002',
  takerFee: '0.0004',
};

const trader = (leverage = 2): RebalanceTrader => ({ id: T, managerId: 'm-1', leverage, limits: resolveLimits({ maxLeverage: 20 }) });

function deps(clock = createManualClock(1_700_000_000_000), over: Partial<ExecuteDeps> = {}): ExecuteDeps & { orders: MemoryOrders; events: EventRecord[] } {
  const events: EventRecord[] = [];
  return {
    clock,
    orders: createMemoryOrders(),
    gate: createOrderGate(),
    threshold: 0.01,
    emit: (e) => events.push(e),
    backoffMs: () => 0,
    sleep: async () => undefined,
    dayStartEquity: (_id, equity) => equity,
    events,
    ...over,
  } as ExecuteDeps & { orders: MemoryOrders; events: EventRecord[] };
}

/** Wraps an exchange to keep every request, and to see whether its record existed (pending) when it was sent. */
function spy(ex: Exchange, orders: MemoryOrders) {
  const sent: { req: OrderRequest; recorded: OrderRecord | undefined }[] = [];
  const wrapped: Exchange = {
    ...ex,
    venue: ex.venue,
    loadMarkets: () => ex.loadMarkets(),
    fetchBalance: () => ex.fetchBalance(),
    fetchPositions: () => ex.fetchPositions(),
    fetchOpenOrders: (s) => ex.fetchOpenOrders(s),
    fetchPrices: (s) => ex.fetchPrices(s),
    fetchOrderByClientId: (id, s) => ex.fetchOrderByClientId(id, s),
    cancelOrder: (id, s) => ex.cancelOrder(id, s),
    setLeverage: (s, l) => ex.setLeverage(s, l),
    createOrder: async (req) => {
      sent.push({ req, recorded: orders.rows.get(req.clientOrderId) });
      return ex.createOrder(req);
    },
  };
  return { ex: wrapped, sent };
}

describe('executeRebalance with managed exits (paper venue)', () => {
  const TARGETS: TargetWeights = { BTCUSDT: { weight: 0.5, stopLoss: 61_200, takeProfit: 70_000 } };

  async function opened() {
    const clock = createManualClock(1_700_000_000_000);
    const venue = createPaperVenue({ markets: [BTC], clock, slippageBps: 0 });
    venue.openAccount('a-1', '1000');
    venue.updatePrice('BTCUSDT', { close: '62000' });
    const d = deps(clock, { markets: { BTCUSDT: BTC } });
    const s = spy(venue.account('a-1'), d.orders);
    const first = await executeRebalance(d, s.ex, trader(), { cycleId: 't-1:1', targets: TARGETS, managedExits: { levels: {}, ranges: {} } }, new AbortController().signal);
    return { clock, venue, d, s, first };
  }

  it('sends the entry without SL/TP while its record keeps them', async () => {
    const { venue, d, s, first } = await opened();
    expect(first.exits).toEqual([]);
    expect(s.sent).toHaveLength(1);
    const { req } = s.sent[0]!;
    expect(req).not.toHaveProperty('stopLoss');
    expect(req).not.toHaveProperty('takeProfit');
    expect(d.orders.rows.get(req.clientOrderId)).toMatchObject({ stopLoss: '61200.0', takeProfit: '70000.0', status: 'closed' });
    // The venue holds no native stop, so the runtime must manage it.
    const [pos] = await venue.account('a-1').fetchPositions();
    expect(pos).toMatchObject({ side: 'long', stopLoss: null, takeProfit: null });
    expect(exitLevelsFromOrders([...d.orders.rows.values()])['BTCUSDT']).toMatchObject({ side: 'long', stopLoss: '61200.0', takeProfit: '70000.0' });
  });

  it('closes a long whose stop-loss the candles met, reduce-only, recorded before sent, even though the strategy stays long', async () => {
    const { clock, venue, d, s } = await opened();
    const [pos] = await venue.account('a-1').fetchPositions();
    clock.advance(60_000);
    venue.updatePrice('BTCUSDT', { close: '61300', high: '62100', low: '61150' });
    const managedExits: ManagedExits = {
      levels: exitLevelsFromOrders([...d.orders.rows.values()]),
      ranges: { BTCUSDT: { high: '62100', low: '61150', close: '61300' } },
    };
    const report = await executeRebalance(d, s.ex, trader(), { cycleId: 't-1:2', targets: TARGETS, managedExits }, new AbortController().signal);

    const closeId = clientOrderId(T, 't-1:2', 'BTCUSDT', 0);
    expect(report.lines).toHaveLength(1);
    const line = report.lines[0]!;
    expect(line.order).toMatchObject({ kind: 'close', side: 'sell', reduceOnly: true, amount: pos!.amount, targetWeight: 0 });
    expect(line.exit).toEqual({ trigger: 'stopLoss', level: '61200.0' });
    expect(line.outcome).toMatchObject({ status: 'sent', clientOrderId: closeId, order: { status: 'closed' } });
    expect(report.exits).toEqual([
      {
        symbol: 'BTCUSDT',
        side: 'long',
        trigger: 'stopLoss',
        level: '61200.0',
        high: '62100',
        low: '61150',
        amount: pos!.amount,
        levelOrderId: s.sent[0]!.req.clientOrderId,
        closeOrderId: closeId,
      },
    ]);

    const close = s.sent[1]!;
    expect(close.req).toMatchObject({ clientOrderId: closeId, type: 'market', side: 'sell', reduceOnly: true, amount: pos!.amount });
    expect(close.recorded).toMatchObject({ status: 'pending', clientOrderId: closeId, reduceOnly: true });
    expect(await venue.account('a-1').fetchPositions()).toEqual([]);

    const exit = d.events.find((e) => e.type === 'order.exit');
    expect(exit).toMatchObject({ severity: 'warning', traderId: T, data: { symbol: 'BTCUSDT', trigger: 'stopLoss', clientOrderId: closeId } });
    expect(exit!.message).toBe(`stop-loss 61,200.0 hit (low 61,150): closing long ${pos!.amount} BTCUSDT`);
    // The close clears the levels for the next cycle.
    expect(exitLevelsFromOrders([...d.orders.rows.values()])).toEqual({});
  });

  it('leaves the position alone when the candles stayed between the levels', async () => {
    const { d, s } = await opened();
    const managedExits: ManagedExits = {
      levels: exitLevelsFromOrders([...d.orders.rows.values()]),
      ranges: { BTCUSDT: { high: '69999.9', low: '61200.1', close: '62000' } },
    };
    const report = await executeRebalance(d, s.ex, trader(), { cycleId: 't-1:2', targets: TARGETS, managedExits }, new AbortController().signal);
    expect(report.exits).toEqual([]);
    expect(report.lines.filter((l) => l.order.kind === 'close')).toEqual([]);
    expect(d.events.filter((e) => e.type === 'order.exit')).toEqual([]);
  });

  it('attaches SL/TP to the request as before when exits are not managed', async () => {
    const venue = createPaperVenue({ markets: [BTC], clock: createManualClock(0), slippageBps: 0 });
    venue.openAccount('a-1', '1000');
    venue.updatePrice('BTCUSDT', { close: '62000' });
    const d = deps(createManualClock(0), { markets: { BTCUSDT: BTC } });
    const s = spy(venue.account('a-1'), d.orders);
    const report = await executeRebalance(d, s.ex, trader(), { cycleId: 't-1:1', targets: TARGETS }, new AbortController().signal);
    expect(report).not.toHaveProperty('exits');
    expect(s.sent[0]!.req).toMatchObject({ stopLoss: '61200.0', takeProfit: '70000.0' });
    const [pos] = await venue.account('a-1').fetchPositions();
    expect(pos).toMatchObject({ stopLoss: '61200', takeProfit: '70000' });
  });
});

describe('executeRebalance with managed exits (no close possible)', () => {
  it('reports a triggered exit it cannot close, with the reason, and sends nothing', async () => {
    const d = deps();
    const positions = [position('AAAUSDT', 'short', '2')];
    const report = await executeRebalance(
      d,
      fakeExchange(positions, {}),
      trader(),
      { cycleId: 't-1:3', targets: {}, managedExits: { levels: { AAAUSDT: level('short', '1200', '80') }, ranges: { AAAUSDT: range('75', '1000') } } },
      new AbortController().signal,
    );
    expect(report.lines).toEqual([]);
    expect(report.exits).toMatchObject([{ symbol: 'AAAUSDT', side: 'short', trigger: 'takeProfit', level: '80', closeOrderId: null }]);
    expect(report.skipped).toEqual([{ symbol: 'AAAUSDT', reason: 'no price for AAAUSDT' }]);
    expect(d.events.find((e) => e.type === 'order.exit')?.message).toBe('take-profit 80 hit (low 75): cannot close short 2 AAAUSDT: no price for AAAUSDT');
  });
});

// ---- property: a close is planned iff a level is crossed ----

const SYMBOLS = ['AAAUSDT', 'BBBUSDT', 'CCCUSDT', 'DDDUSDT'] as const;
const market = (symbol: string): Market => ({ ...BTC, symbol, base: symbol.slice(0, 3), amountStep: '0.01', minAmount: '0.01', minCost: '0', priceTick: '0.01' });

/** A venue with fixed positions and prices that fills every market order at once. */
function fakeExchange(positions: readonly Position[], prices: Record<string, string>): Exchange {
  const orders = new Map<string, Order>();
  return {
    venue: 'fake',
    loadMarkets: async () => Object.fromEntries(SYMBOLS.map((s) => [s, market(s)])),
    fetchBalance: async () => ({ currency: 'USDT', wallet: '100000', used: '0', free: '100000', unrealizedPnl: '0', equity: '100000' }),
    fetchPositions: async () => positions,
    fetchOpenOrders: async () => [],
    fetchPrices: async (symbols) => Object.fromEntries(symbols.filter((s) => prices[s] !== undefined).map((s) => [s, prices[s]!])),
    createOrder: async (req) => {
      const o: Order = { id: `v-${req.clientOrderId}`, clientOrderId: req.clientOrderId, symbol: req.symbol, side: req.side, type: req.type, amount: req.amount, price: null, status: 'closed', filled: req.amount, average: prices[req.symbol] ?? null, fee: '0', reduceOnly: req.reduceOnly === true, reason: null, timestamp: 0 };
      orders.set(req.clientOrderId, o);
      return o;
    },
    fetchOrderByClientId: async (id) => orders.get(id) ?? null,
    cancelOrder: async () => {
      throw new Error('not used');
    },
    setLeverage: async () => undefined,
  };
}

describe('managed exits property', () => {
  const cents = (n: number) => (n / 100).toFixed(2);
  const symbolCase = fc.record({
    side: fc.constantFrom('long' as const, 'short' as const),
    amountSteps: fc.integer({ min: 1, max: 500 }),
    levelSide: fc.constantFrom('same', 'other', 'none'),
    stopLoss: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: null }),
    takeProfit: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: null }),
    range: fc.option(fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 0, max: 5_000 })), { nil: null }),
  });

  it('closes a position exactly when its own level was crossed, and never otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(...SYMBOLS.map(() => symbolCase)), async (cases) => {
        const positions: Position[] = [];
        const levels: Record<string, ExitLevel> = {};
        const ranges: Record<string, PriceRange> = {};
        const targets: Record<string, { weight: number }> = {};
        const prices: Record<string, string> = {};
        const expected = new Set<string>();
        cases.forEach((c, i) => {
          const symbol = SYMBOLS[i]!;
          positions.push(position(symbol, c.side, cents(c.amountSteps)));
          prices[symbol] = '100.00';
          // The strategy keeps every position on its side; a huge threshold skips every resize.
          targets[symbol] = { weight: c.side === 'long' ? 0.1 : -0.1 };
          if (c.levelSide !== 'none') {
            const side = c.levelSide === 'same' ? c.side : c.side === 'long' ? 'short' : 'long';
            levels[symbol] = level(side, c.stopLoss === null ? null : cents(c.stopLoss), c.takeProfit === null ? null : cents(c.takeProfit));
          }
          if (c.range) {
            const [low, width] = c.range;
            ranges[symbol] = { low: cents(low), high: cents(low + width), close: cents(low) };
            const high = low + width;
            const sl = c.stopLoss;
            const tp = c.takeProfit;
            const crossed =
              c.side === 'long' ? (sl !== null && low <= sl) || (tp !== null && high >= tp) : (sl !== null && high >= sl) || (tp !== null && low <= tp);
            if (c.levelSide === 'same' && crossed) expected.add(symbol);
          }
        });
        const d = deps(createManualClock(0), { threshold: 1e9 });
        const report = await executeRebalance(d, fakeExchange(positions, prices), trader(1), { cycleId: 't-1:9', targets, managedExits: { levels, ranges } }, new AbortController().signal);

        const closed = report.lines.filter((l) => l.outcome.status === 'sent').map((l) => l.order);
        expect(new Set(closed.map((o) => o.symbol))).toEqual(expected);
        for (const o of closed) {
          const p = positions.find((x) => x.symbol === o.symbol)!;
          expect(o).toMatchObject({ kind: 'close', reduceOnly: true, side: p.side === 'long' ? 'sell' : 'buy' });
          expect(dec(o.amount).eq(p.amount)).toBe(true);
          expect(d.orders.rows.get(clientOrderId(T, 't-1:9', o.symbol, 0))).toMatchObject({ reduceOnly: true, status: 'closed' });
        }
        expect(new Set((report.exits ?? []).map((e) => e.symbol))).toEqual(expected);
        expect(d.events.filter((e) => e.type === 'order.exit')).toHaveLength(expected.size);
      }),
      { numRuns: 150 },
    );
  });
});
