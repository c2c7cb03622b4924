import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPaperVenue, dec } from '../../../runtime/exchange/index.ts';
import type { Fill, Market, OrderRequest } from '../../../runtime/exchange/index.ts';
import { BTC, ETH, manualClock, memoryRepo } from './fixtures.ts';

const MARKETS: readonly Market[] = [BTC, ETH];
const START_TICKS = [500_000, 100_000]; // 50000.0 BTC, 1000.00 ETH
const WALLETS = ['10000', '2500.5', '777.77'];

const symbolIndex = fc.integer({ min: 0, max: 1 });
const account = fc.integer({ min: 0, max: WALLETS.length - 1 });
const bps = (max: number) => fc.option(fc.integer({ min: 1, max }), { nil: undefined });

const action = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      acct: account,
      sym: symbolIndex,
      side: fc.constantFrom('buy' as const, 'sell' as const),
      type: fc.constantFrom('market' as const, 'limit' as const),
      lots: fc.integer({ min: 1, max: 400 }),
      offsetBps: fc.integer({ min: -300, max: 300 }),
      reduceOnly: fc.constantFrom(false, false, false, true),
      leverage: fc.integer({ min: 1, max: 60 }),
      slBps: bps(1500),
      tpBps: bps(1500),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('price' as const),
      sym: symbolIndex,
      moveBps: fc.integer({ min: -1200, max: 1200 }),
      upBps: fc.integer({ min: 0, max: 600 }),
      downBps: fc.integer({ min: 0, max: 600 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), acct: account, pick: fc.nat() }) },
);

const scale = (ticks: number, b: number) => Math.max(10, Math.round((ticks * (10_000 + b)) / 10_000));

describe('paper venue: reconciliation', () => {
  it('keeps every wallet equal to its initial balance plus realized P&L minus fees across random trading', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 80, size: 'max' }), async (actions) => {
        const repo = memoryRepo();
        const venue = createPaperVenue({ markets: MARKETS, clock: manualClock(), slippageBps: 3, persist: (b) => repo.saveBatch(b) });
        const ticks = [...START_TICKS];
        const price = (i: number, t: number) => dec(t).mul(MARKETS[i]!.priceTick).toFixed();
        for (const [i, m] of MARKETS.entries()) venue.updatePrice(m.symbol, { close: price(i, ticks[i]!) });
        const fills = new Map<string, Fill[]>();
        venue.onFill((id, f) => fills.set(id, [...(fills.get(id) ?? []), f]));
        WALLETS.forEach((w, i) => venue.openAccount(`acc${i}`, w));
        let n = 0;

        const check = async () => {
          for (const [i, w] of WALLETS.entries()) {
            const ex = venue.account(`acc${i}`);
            const bal = await ex.fetchBalance();
            const net = (fills.get(`acc${i}`) ?? []).reduce((s, f) => s.plus(f.realizedPnl).minus(f.fee), dec(0));
            expect(dec(bal.wallet).eq(dec(w).plus(net)), `wallet of acc${i}`).toBe(true);
            expect(dec(bal.used).gte(0)).toBe(true);
            expect(dec(bal.equity).eq(dec(bal.wallet).plus(bal.unrealizedPnl))).toBe(true);
            for (const p of await ex.fetchPositions()) {
              expect(dec(p.amount).gt(0)).toBe(true);
              expect(dec(p.margin).gt(0)).toBe(true);
            }
          }
        };

        for (const a of actions) {
          if (a.kind === 'price') {
            const t = scale(ticks[a.sym]!, a.moveBps);
            ticks[a.sym] = t;
            venue.updatePrice(MARKETS[a.sym]!.symbol, {
              close: price(a.sym, t),
              high: price(a.sym, scale(t, a.upBps)),
              low: price(a.sym, scale(t, -a.downBps)),
            });
          } else if (a.kind === 'cancel') {
            const ex = venue.account(`acc${a.acct}`);
            const open = await ex.fetchOpenOrders();
            const o = open[a.pick % Math.max(1, open.length)];
            if (o) await ex.cancelOrder(o.id, o.symbol);
          } else {
            const m = MARKETS[a.sym]!;
            const t = ticks[a.sym]!;
            const ref = a.type === 'limit' ? scale(t, a.offsetBps) : t;
            const dir = a.side === 'buy' ? 1 : -1;
            const req: OrderRequest = {
              clientOrderId: `o${++n}`,
              symbol: m.symbol,
              side: a.side,
              type: a.type,
              amount: dec(a.lots).mul(m.amountStep).toFixed(),
              ...(a.type === 'limit' ? { price: price(a.sym, ref) } : {}),
              reduceOnly: a.reduceOnly,
              leverage: a.leverage,
              ...(a.slBps ? { stopLoss: price(a.sym, scale(ref, -dir * a.slBps)) } : {}),
              ...(a.tpBps ? { takeProfit: price(a.sym, scale(ref, dir * a.tpBps)) } : {}),
            };
            const o = await venue.account(`acc${a.acct}`).createOrder(req);
            expect(['open', 'closed', 'rejected']).toContain(o.status);
          }
          await check();
        }

        // What was persisted rebuilds the same books.
        await venue.flush();
        const copy = createPaperVenue({ markets: MARKETS, clock: manualClock(), slippageBps: 3 });
        for (const [i, m] of MARKETS.entries()) copy.updatePrice(m.symbol, { close: price(i, ticks[i]!) });
        copy.restore(await repo.loadAccounts(), await repo.loadOrders());
        for (const i of WALLETS.keys()) {
          const [live, back] = [venue.account(`acc${i}`), copy.account(`acc${i}`)];
          expect(await back.fetchBalance()).toEqual(await live.fetchBalance());
          expect(await back.fetchPositions()).toEqual(await live.fetchPositions());
          expect(await back.fetchOpenOrders()).toEqual(await live.fetchOpenOrders());
        }
      }),
      { numRuns: 150 },
    );
  });
});
