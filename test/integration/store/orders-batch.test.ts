/**
 * The batched order writes the executor records a trader's plan with (`insertPendingMany`,
 * `updateManyFromVenue`) and the paper venue's persisted-order lookup (`PaperRepo.findOrder`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ids } from '../../../runtime/domain.ts';
import { createStore, type Sql, type Store } from '../../../runtime/store/index.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';
import { aVenueOrder, anOrder } from './builders.ts';

describe.each(dbTargets())('batched order writes on $name', (target) => {
  let db: FreshDatabase;
  let store: Store;

  beforeAll(async () => {
    db = await freshDatabase(target);
    store = db.store;
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('records many orders in one call and returns exactly the ids it inserted', async () => {
    await store.orders.insertPending(anOrder({ clientOrderId: 'm0' }));
    const { price: _p, stopLoss: _s, takeProfit: _t, leverage: _l, ...bare } = anOrder({ clientOrderId: 'm2', type: 'market' });

    const inserted = await store.orders.insertPendingMany([
      anOrder({ clientOrderId: 'm0', amount: '9' }),
      anOrder({ clientOrderId: 'm1', reduceOnly: true, amount: '0.000000012345678901234' }),
      bare,
      anOrder({ clientOrderId: 'm1', amount: '7' }),
    ]);

    expect(inserted).toEqual(new Set(['m1', 'm2']));
    expect(await store.orders.get('m0')).toEqual(anOrder({ clientOrderId: 'm0' }));
    expect(await store.orders.get('m1')).toEqual(anOrder({ clientOrderId: 'm1', reduceOnly: true, amount: '0.000000012345678901234' }));
    expect(await store.orders.get('m2')).toEqual(bare);
    expect(await store.orders.insertPendingMany([])).toEqual(new Set());
  });

  it('inserts thousands of orders past the bind-parameter limit of one statement', async () => {
    const many = Array.from({ length: 3_500 }, (_, i) => anOrder({ clientOrderId: `bulk${i}`, traderId: Ids.trader('t-bulk') }));
    const inserted = await store.orders.insertPendingMany(many);
    expect(inserted.size).toBe(3_500);
    expect(await store.orders.countForTrader(Ids.trader('t-bulk'))).toBe(3_500);
    expect((await store.orders.insertPendingMany(many.slice(0, 10))).size).toBe(0);
  });

  it('writes many venue answers in one call, exactly as one updateFromVenue each would', async () => {
    const ids = ['u1', 'u2', 'u3', 'u4'];
    await store.orders.insertPendingMany(ids.map((id) => anOrder({ clientOrderId: id })));
    const rejected = aVenueOrder({
      id: 'x-2',
      clientOrderId: 'u2',
      status: 'rejected',
      filled: '0',
      average: null,
      fee: '0',
      reason: 'insufficient margin: needs 5.1, free 0 — "quoted", {braced}, back\\slash',
    });
    await store.orders.updateManyFromVenue([
      { clientOrderId: 'u1', order: aVenueOrder({ clientOrderId: 'u1', status: 'open', filled: '0', average: null }), at: 1_700_000_041_100 },
      { clientOrderId: 'u2', order: rejected, at: 1_700_000_041_200 },
      { clientOrderId: 'u1', order: aVenueOrder({ clientOrderId: 'u1', fee: '0.000000012345678901234' }), at: 1_700_000_041_300 },
      { clientOrderId: 'ghost', order: aVenueOrder({ clientOrderId: 'ghost' }), at: 1 },
    ]);
    await store.orders.updateFromVenue('u3', aVenueOrder({ clientOrderId: 'u3', fee: '0.000000012345678901234' }), 1_700_000_041_300);

    const u1 = await store.orders.get('u1');
    const u3 = await store.orders.get('u3');
    expect(u1).toEqual({ ...u3, clientOrderId: 'u1' });
    expect(u1).toMatchObject({ status: 'closed', exchangeOrderId: 'x-1', filled: '0.001', average: '65001.2', fee: '0.000000012345678901234', updatedAt: 1_700_000_041_300 });
    expect(await store.orders.get('u2')).toMatchObject({ status: 'rejected', exchangeOrderId: 'x-2', average: null, reason: rejected.reason, updatedAt: 1_700_000_041_200 });
    expect(await store.orders.get('u4')).toEqual(anOrder({ clientOrderId: 'u4' }));
    expect(await store.orders.get('ghost')).toBeNull();
    await store.orders.updateManyFromVenue([]);
  });

  it('updates thousands of orders in one statement', async () => {
    const rows = Array.from({ length: 8_000 }, (_, i) => ({ clientOrderId: `bulk${i}`, order: aVenueOrder({ id: `v${i}` }), at: 5 }));
    await store.orders.updateManyFromVenue(rows);
    expect(await store.orders.get('bulk3499')).toMatchObject({ status: 'closed', exchangeOrderId: 'v3499', updatedAt: 5 });
    expect(await store.orders.listForTrader(Ids.trader('t-bulk'), { statuses: ['pending'] })).toEqual([]);
  });

  it('finds a stored paper order by account and client id, and null for any other pair', async () => {
    const order = aVenueOrder({ clientOrderId: 'f1' });
    await store.paper.saveBatch({
      accounts: [],
      orders: [
        { accountId: 'paper:t-1', order },
        { accountId: 'paper:t-2', order: aVenueOrder({ clientOrderId: 'f2', id: 'x-9' }) },
      ],
      fills: [],
    });
    expect(await store.paper.findOrder('paper:t-1', 'f1')).toEqual(order);
    expect(await store.paper.findOrder('paper:t-2', 'f1')).toBeNull();
    expect(await store.paper.findOrder('paper:t-1', 'nope')).toBeNull();
  });

  it('answers the lookups of one turn together, each with its own order', async () => {
    const orders = Array.from({ length: 300 }, (_, i) => ({ accountId: `paper:t-${i % 7}`, order: aVenueOrder({ clientOrderId: `g${i}`, id: String(i) }) }));
    await store.paper.saveBatch({ accounts: [], orders, fills: [] });
    const asked = [...orders.map((o) => [o.accountId, o.order.clientOrderId] as const), ['paper:t-0', 'g1'] as const, ['paper:t-1', 'g1'] as const];
    const found = await Promise.all(asked.map(([a, c]) => store.paper.findOrder(a, c)));
    expect(found.slice(0, 300)).toEqual(orders.map((o) => o.order));
    expect(found[300]).toBeNull();
    expect(found[301]).toEqual(orders[1]!.order);
  });

  it('sends the lookups of one turn as a single query and those of the next turn as another', async () => {
    let queries = 0;
    const counting = new Proxy(db.sql, {
      apply(fn, self, args) {
        queries += 1;
        return Reflect.apply(fn, self, args) as unknown;
      },
    }) as Sql;
    const paper = createStore(counting).paper;
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => paper.findOrder(`paper:t-${i % 7}`, `g${i}`)));
    expect(queries).toBe(1);
    expect(first.every((o) => o !== null)).toBe(true);
    await paper.findOrder('paper:t-1', 'g1');
    expect(queries).toBe(2);
  });
});
