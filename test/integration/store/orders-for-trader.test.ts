/**
 * `OrdersRepo.listForTrader`: the query reconciliation reads a trader's expectation from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ids } from '../../../runtime/domain.ts';
import type { Store } from '../../../runtime/store/index.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';
import { anOrder } from './builders.ts';

describe.each(dbTargets())('listing a trader’s orders on $name', (target) => {
  let db: FreshDatabase;
  let store: Store;
  const T1 = Ids.trader('t-1');

  beforeAll(async () => {
    db = await freshDatabase(target);
    store = db.store;
    // Inserted out of order: the query sorts them.
    await store.orders.insertPending(anOrder({ clientOrderId: 'c3', createdAt: 3_000, updatedAt: 3_000, status: 'pending' }));
    await store.orders.insertPending(anOrder({ clientOrderId: 'c1', createdAt: 1_000, updatedAt: 1_000, status: 'closed', filled: '0.001' }));
    await store.orders.insertPending(anOrder({ clientOrderId: 'c2b', createdAt: 2_000, updatedAt: 2_000, status: 'open' }));
    await store.orders.insertPending(anOrder({ clientOrderId: 'c2a', createdAt: 2_000, updatedAt: 2_000, status: 'failed' }));
    await store.orders.insertPending(anOrder({ clientOrderId: 'other', traderId: Ids.trader('t-2'), createdAt: 1_500, updatedAt: 1_500, status: 'open' }));
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('lists every order of the trader oldest first, ties by client order id, and no other trader’s', async () => {
    const rows = await store.orders.listForTrader(T1);
    expect(rows.map((r) => r.clientOrderId)).toEqual(['c1', 'c2a', 'c2b', 'c3']);
    expect(rows[0]).toEqual(anOrder({ clientOrderId: 'c1', createdAt: 1_000, updatedAt: 1_000, status: 'closed', filled: '0.001' }));
  });

  it('keeps only the statuses asked for, and nothing for an empty list', async () => {
    expect((await store.orders.listForTrader(T1, { statuses: ['open', 'pending'] })).map((r) => r.clientOrderId)).toEqual(['c2b', 'c3']);
    expect(await store.orders.listForTrader(T1, { statuses: [] })).toEqual([]);
  });

  it('keeps only the orders created after `since`, exclusive, combined with statuses', async () => {
    expect((await store.orders.listForTrader(T1, { since: 2_000 })).map((r) => r.clientOrderId)).toEqual(['c3']);
    expect((await store.orders.listForTrader(T1, { since: 1_999, statuses: ['open', 'closed'] })).map((r) => r.clientOrderId)).toEqual(['c2b']);
    expect(await store.orders.listForTrader(Ids.trader('t-none'))).toEqual([]);
  });
});
