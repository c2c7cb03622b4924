import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPaperVenue, dec } from '../../../runtime/exchange/index.ts';
import type { Market, PaperVenue } from '../../../runtime/exchange/index.ts';
import { BTC, ETH, manualClock, memoryRepo, order, venueWith } from './fixtures.ts';

/** A venue rebuilt from the rows `repo` holds, at the given last prices: it computes everything afresh. */
async function rebuilt(repo: ReturnType<typeof memoryRepo>, prices: Record<string, string>, markets: readonly Market[] = [BTC, ETH]): Promise<PaperVenue> {
  const copy = createPaperVenue({ markets, clock: manualClock(), slippageBps: 0 });
  for (const [symbol, close] of Object.entries(prices)) copy.updatePrice(symbol, { close });
  copy.restore(await repo.loadAccounts(), await repo.loadOrders());
  return copy;
}

describe('paper venue: cached balance', () => {
  it('serves the same balance until a fill, an order or a price move of a held symbol changes it', async () => {
    const { venue } = venueWith();
    venue.openAccount('a1', '10000');
    const ex = venue.account('a1');
    await ex.createOrder(order({ amount: '0.1' }));
    const first = await ex.fetchBalance();
    expect(await ex.fetchBalance()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);

    venue.updatePrice('ETHUSDT', { close: '1100' });
    expect(await ex.fetchBalance()).toBe(first);

    venue.updatePrice('BTCUSDT', { close: '51000' });
    const moved = await ex.fetchBalance();
    expect(moved).toEqual({ currency: 'USDT', wallet: '9998', used: '5000', free: '4998', unrealizedPnl: '100', equity: '10098' });

    await ex.createOrder(order({ type: 'limit', price: '40000', amount: '0.1' }));
    const resting = await ex.fetchBalance();
    expect(resting).toEqual({ ...moved, used: '9000.8', free: '997.2' });
    await ex.setLeverage('ETHUSDT', 3);
    const afterLeverage = await ex.fetchBalance();
    expect(afterLeverage).not.toBe(resting);
    expect(afterLeverage).toEqual(resting);
  });

  it('drops a cached balance when a resting order fills or is canceled by a bar', async () => {
    const { venue } = venueWith();
    venue.openAccount('a1', '10000');
    const ex = venue.account('a1');
    const resting = await ex.createOrder(order({ type: 'limit', price: '49000', amount: '0.1' }));
    expect((await ex.fetchBalance()).used).toBe('4900.98');
    venue.updatePrice('BTCUSDT', { close: '49500', low: '48900', high: '49600' });
    expect(await ex.fetchBalance()).toMatchObject({ wallet: '9999.02', used: '4900', unrealizedPnl: '50' });
    expect((await ex.fetchOrderByClientId(resting.clientOrderId, 'BTCUSDT'))?.status).toBe('closed');
  });

  it('fills a resting order that takes most of the free margin although a balance read cached its reserve', async () => {
    const { venue } = venueWith();
    venue.openAccount('a1', '1000');
    const ex = venue.account('a1');
    const o = await ex.createOrder(order({ type: 'limit', price: '49000', amount: '0.019' }));
    expect(await ex.fetchBalance()).toMatchObject({ used: '931.1862', free: '68.8138' });
    venue.updatePrice('BTCUSDT', { close: '49500', low: '48900', high: '49600' });
    expect(await ex.fetchOrderByClientId(o.clientOrderId, 'BTCUSDT')).toMatchObject({ status: 'closed', filled: '0.019' });
    expect(await ex.fetchBalance()).toMatchObject({ wallet: '999.8138', used: '931', unrealizedPnl: '9.5' });
  });

  it('matches a venue rebuilt from its rows after every step of random trading', async () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('order' as const),
        acct: fc.integer({ min: 0, max: 1 }),
        btc: fc.boolean(),
        side: fc.constantFrom('buy' as const, 'sell' as const),
        type: fc.constantFrom('market' as const, 'limit' as const),
        lots: fc.integer({ min: 1, max: 60 }),
        offsetBps: fc.integer({ min: -200, max: 200 }),
        leverage: fc.integer({ min: 1, max: 20 }),
        sl: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('price' as const), btc: fc.boolean(), moveBps: fc.integer({ min: -900, max: 900 }), wickBps: fc.integer({ min: 0, max: 400 }) }),
      fc.record({ kind: fc.constant('cancel' as const), acct: fc.integer({ min: 0, max: 1 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        const repo = memoryRepo();
        const venue = createPaperVenue({ markets: [BTC, ETH], clock: manualClock(), slippageBps: 3, persist: (b) => repo.saveBatch(b) });
        const ticks = { BTCUSDT: 500_000, ETHUSDT: 100_000 };
        const px = (symbol: 'BTCUSDT' | 'ETHUSDT', t: number) => dec(t).mul(symbol === 'BTCUSDT' ? BTC.priceTick : ETH.priceTick).toFixed();
        for (const s of ['BTCUSDT', 'ETHUSDT'] as const) venue.updatePrice(s, { close: px(s, ticks[s]) });
        venue.openAccount('a0', '10000');
        venue.openAccount('a1', '700');
        let n = 0;
        for (const st of steps) {
          const symbol = 'btc' in st && st.btc ? 'BTCUSDT' : 'ETHUSDT';
          if (st.kind === 'price') {
            const t = Math.max(10, Math.round((ticks[symbol] * (10_000 + st.moveBps)) / 10_000));
            ticks[symbol] = t;
            const wick = Math.round((t * st.wickBps) / 10_000);
            venue.updatePrice(symbol, { close: px(symbol, t), high: px(symbol, t + wick), low: px(symbol, Math.max(1, t - wick)) });
          } else if (st.kind === 'order') {
            const ex = venue.account(`a${st.acct}`);
            const price = ticks[symbol] + Math.round((ticks[symbol] * st.offsetBps) / 10_000);
            const away = Math.round((price * (st.side === 'buy' ? 9_000 : 11_000)) / 10_000);
            await ex.createOrder({
              clientOrderId: `o${(n += 1)}`,
              symbol,
              side: st.side,
              type: st.type,
              amount: dec(st.lots).mul(symbol === 'BTCUSDT' ? '0.002' : '0.05').toFixed(),
              ...(st.type === 'limit' ? { price: px(symbol, price) } : {}),
              ...(st.sl ? { stopLoss: px(symbol, away) } : {}),
              leverage: st.leverage,
            });
          } else {
            const ex = venue.account(`a${st.acct}`);
            const [open] = await ex.fetchOpenOrders();
            if (open) await ex.cancelOrder(open.id, open.symbol);
          }
          // Read after every step so a stale cache would be served at the next one.
          const seen = await Promise.all(['a0', 'a1'].map((a) => venue.account(a).fetchBalance()));
          await venue.flush();
          const copy = await rebuilt(repo, { BTCUSDT: px('BTCUSDT', ticks.BTCUSDT), ETHUSDT: px('ETHUSDT', ticks.ETHUSDT) });
          for (const [i, a] of ['a0', 'a1'].entries()) {
            expect(seen[i]).toEqual(await copy.account(a).fetchBalance());
            expect(await venue.account(a).fetchPositions()).toEqual(await copy.account(a).fetchPositions());
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('paper venue: trigger checks on a bar', () => {
  // A price far beyond a double's 15-17 significant digits: the decimal comparison decides.
  const BIG: Market = { ...BTC, symbol: 'BIGUSDT', priceTick: '0.00000001', amountStep: '1', minAmount: '1', minCost: '0', maxLeverage: 125 };
  const LEVEL = '123456789.12345678';

  async function withLong(stop: 'stopLoss' | 'takeProfit') {
    const venue = createPaperVenue({ markets: [BIG], clock: manualClock(), slippageBps: 0 });
    venue.updatePrice('BIGUSDT', { close: stop === 'stopLoss' ? '123456790' : '123456788' });
    venue.openAccount('a1', '1000000000');
    const ex = venue.account('a1');
    const o = await ex.createOrder({ clientOrderId: 'open1', symbol: 'BIGUSDT', side: 'buy', type: 'market', amount: '1', [stop]: LEVEL });
    expect(o.status).toBe('closed');
    return { venue, ex };
  }

  const near = (delta: string) => dec(LEVEL).plus(delta).toFixed();

  it.each([
    ['stopLoss', 'low', '0', true],
    ['stopLoss', 'low', '0.00000001', false],
    ['stopLoss', 'low', '0.000000000001', false],
    ['stopLoss', 'low', '-0.000000000001', true],
    ['takeProfit', 'high', '0', true],
    ['takeProfit', 'high', '-0.00000001', false],
    ['takeProfit', 'high', '-0.000000000001', false],
    ['takeProfit', 'high', '0.000000000001', true],
  ] as const)('closes a long on its %s when the bar %s is %s from the level: %s', async (stop, side, delta, fires) => {
    const { venue, ex } = await withLong(stop);
    const close = stop === 'stopLoss' ? '123456790' : '123456788';
    venue.updatePrice('BIGUSDT', { close, low: side === 'low' ? near(delta) : close, high: side === 'high' ? near(delta) : close });
    expect((await ex.fetchPositions()).length).toBe(fires ? 0 : 1);
  });
});
