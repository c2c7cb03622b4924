import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ids } from '../../../runtime/domain.ts';
import type {
  PaperBatch, Store } from '../../../runtime/store/index.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';
import {
  aCandle,
  aCycle,
  aFill,
  aManager,
  aMetric,
  aStrategyFile,
  aStrategyVersion,
  aTrader,
  aUser,
  aVenueOrder,
  anActorState,
  anEvent,
  anOrder,
} from './builders.ts';

describe.each(dbTargets())('store repositories on $name', (target) => {
  let db: FreshDatabase;
  let store: Store;

  beforeAll(async () => {
    db = await freshDatabase(target);
    store = db.store;
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('round-trips users, managers and traders, and upserts by id', async () => {
    await store.users.upsert(aUser());
    await store.users.upsert(aUser({ displayName: 'Ada L.' }));
    await store.managers.upsert(aManager());
    await store.traders.upsert(aTrader());

    expect(await store.users.list()).toEqual([aUser({ displayName: 'Ada L.' })]);
    expect(await store.managers.list()).toEqual([aManager()]);
    expect(await store.traders.list()).toEqual([aTrader()]);
    expect(await store.traders.get(Ids.trader('t-1'))).toEqual(aTrader());
    expect(await store.traders.get(Ids.trader('t-none'))).toBeNull();
  });

  it('returns BIGINT times as numbers and NUMERIC as exact decimal strings', async () => {
    await store.managers.upsert(aManager({ id: Ids.manager('m-tiny'), capital: '0.000000012345678901234', createdAt: 8_640_000_000_000 }));
    const m = (await store.managers.list()).find((x) => x.id === 'm-tiny');
    expect(m?.capital).toBe('0.000000012345678901234');
    expect(m?.createdAt).toBe(8_640_000_000_000);
    expect(typeof m?.restartWindowMs).toBe('number');
  });

  it('pins a trader to a strategy version and refuses an unknown trader', async () => {
    await store.traders.assignStrategy(Ids.trader('t-1'), 'momentum', 4, { lookback: 30 }, 1_700_000_009_999);
    const t = await store.traders.get(Ids.trader('t-1'));
    expect(t).toMatchObject({ strategyName: 'momentum', strategyVersion: 4, params: { lookback: 30 }, updatedAt: 1_700_000_009_999 });
    // Shared by everything that reads the record: frozen, nested values included.
    await store.traders.assignStrategy(Ids.trader('t-1'), 'momentum', 4, { lookback: 30, legs: [{ w: 1 }] }, 1_700_000_010_000);
    const params = (await store.traders.get(Ids.trader('t-1')))!.params as { legs: { w: number }[] };
    expect([Object.isFrozen(params), Object.isFrozen(params.legs), Object.isFrozen(params.legs[0])]).toEqual([true, true, true]);
    expect(() => {
      params.legs[0]!.w = 2;
    }).toThrow(TypeError);
    await expect(store.traders.assignStrategy(Ids.trader('t-ghost'), 'x', 1, {}, 1)).rejects.toThrow(
      'cannot assign a strategy to unknown trader t-ghost',
    );
  });

  it('upserts many actor states in one call and keeps the last of duplicates', async () => {
    await store.actorStates.saveMany([
      anActorState(),
      anActorState({ actorId: 'm-1', kind: 'manager', status: 'active', state: {} }),
    ]);
    await store.actorStates.saveMany([
      anActorState({ status: 'running', state: { pause: null }, updatedAt: 1 }),
      anActorState({ status: 'error', state: { error: { kind: 'strategy', message: 'threw', at: 5, retryable: true } }, updatedAt: 2 }),
    ]);
    const rows = await store.actorStates.list();
    expect(rows).toEqual([
      anActorState({ actorId: 'm-1', kind: 'manager', status: 'active', state: {} }),
      anActorState({ status: 'error', state: { error: { kind: 'strategy', message: 'threw', at: 5, retryable: true } }, updatedAt: 2 }),
    ]);
    await store.actorStates.saveMany([]);
  });

  it('appends events and lists them newest first, filtered by trader and types', async () => {
    await store.events.appendMany([
      anEvent({ at: 1, type: 'trader.started', severity: 'info' }),
      anEvent({ at: 2 }),
      anEvent({ at: 3, traderId: 't-2', type: 'order.denied', data: undefined, actor: undefined, managerId: null }),
    ]);
    const all = await store.events.recent({ limit: 10 });
    expect(all.map((e) => e.at)).toEqual([3, 2, 1]);
    expect(all[0]).toEqual({
      id: expect.any(Number),
      at: 3,
      type: 'order.denied',
      severity: 'warning',
      traderId: 't-2',
      managerId: null,
      actor: null,
      message: 'paused by the daily stop-loss',
      data: {},
    });
    expect(all[1]).toEqual({ ...anEvent({ at: 2 }), id: expect.any(Number) });
    expect((await store.events.recent({ limit: 10, traderId: 't-1' })).map((e) => e.at)).toEqual([2, 1]);
    expect((await store.events.recent({ limit: 10, types: ['trader.started', 'order.denied'] })).map((e) => e.at)).toEqual([3, 1]);
    expect((await store.events.recent({ limit: 10, traderId: 't-1', types: ['order.denied'] })).length).toBe(0);
    expect((await store.events.recent({ limit: 1 })).map((e) => e.at)).toEqual([3]);
  });

  it('numbers strategy versions per name and returns the stored one for a known hash', async () => {
    const v1 = await store.strategies.insertVersion(aStrategyVersion());
    const v2 = await store.strategies.insertVersion(aStrategyVersion({ hash: 'hash-b', createdAt: 1_700_000_000_500 }));
    const again = await store.strategies.insertVersion(aStrategyVersion({ createdAt: 1_800_000_000_000 }));
    const other = await store.strategies.insertVersion(aStrategyVersion({ name: 'equal-weight', hash: 'hash-a' }));

    expect(v1).toEqual({ ...aStrategyVersion(), version: 1 });
    expect(v2.version).toBe(2);
    expect(again).toEqual(v1);
    expect(other.version).toBe(1);
    expect(await store.strategies.getVersion('momentum', 2)).toEqual(v2);
    expect(await store.strategies.getVersion('momentum', 9)).toBeNull();
    expect((await store.strategies.listVersions()).map((v) => `${v.name}@${v.version}`)).toEqual([
      'equal-weight@1',
      'momentum@1',
      'momentum@2',
    ]);
  });

  it('assigns distinct versions to concurrent inserts of new hashes', async () => {
    const got = await Promise.all(
      ['c1', 'c2', 'c3', 'c4'].map((h) => store.strategies.insertVersion(aStrategyVersion({ name: 'race', hash: h }))),
    );
    expect(got.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
  });

  it('upserts, lists and deletes strategy files', async () => {
    await store.strategies.upsertFile(aStrategyFile());
    await store.strategies.upsertFile(
      aStrategyFile({ filename: 'broken.ts', status: 'broken', name: null, version: null, error: 'SyntaxError: x' }),
    );
    await store.strategies.upsertFile(aStrategyFile({ hash: 'hash-b', version: 2 }));
    expect(await store.strategies.listFiles()).toEqual([
      aStrategyFile({ filename: 'broken.ts', status: 'broken', name: null, version: null, error: 'SyntaxError: x' }),
      aStrategyFile({ hash: 'hash-b', version: 2 }),
    ]);
    await store.strategies.deleteFile('broken.ts');
    expect((await store.strategies.listFiles()).map((f) => f.filename)).toEqual(['momentum.ts']);
  });

  it('inserts candles once and reads the last ones up to a time in ascending order', async () => {
    const candles = Array.from({ length: 5 }, (_, i) => aCandle({ openTime: 60_000 * (100 + i), close: `65000.${i}` }));
    await store.candles.insertMany(candles);
    await store.candles.insertMany([aCandle({ openTime: 60_000 * 100, close: '1' }), aCandle({ symbol: 'ETHUSDT', openTime: 60_000 * 90 })]);

    expect(await store.candles.range('BTCUSDT', '1m', { limit: 10 })).toEqual(candles);
    expect(await store.candles.range('BTCUSDT', '1m', { until: 60_000 * 103, limit: 2 })).toEqual(candles.slice(2, 4));
    expect(await store.candles.range('BTCUSDT', '5m', { limit: 10 })).toEqual([]);
    expect(await store.candles.latestOpenTime('BTCUSDT', '1m')).toBe(60_000 * 104);
    expect(await store.candles.latestOpenTime('ETHUSDT', '1m')).toBe(60_000 * 90);
    expect(await store.candles.latestOpenTime('SOLUSDT', '1m')).toBeNull();
  });

  it('writes a candle batch larger than one statement can carry', async () => {
    const many = Array.from({ length: 9_000 }, (_, i) => aCandle({ symbol: 'BULK', openTime: 60_000 * i, volume: `${i}.5` }));
    await store.candles.insertMany(many);
    const back = await store.candles.range('BULK', '1m', { limit: 10_000 });
    expect(back.length).toBe(9_000);
    expect(back[8_999]).toEqual(many[8_999]);
  });

  it('records a pending order once and refuses a duplicate client order id', async () => {
    expect(await store.orders.insertPending(anOrder())).toBe(true);
    expect(await store.orders.insertPending(anOrder({ amount: '9' }))).toBe(false);
    expect(await store.orders.get('c1a2b3')).toEqual(anOrder());
    expect(await store.orders.get('nope')).toBeNull();

    const bare = anOrder({ clientOrderId: 'bare1', type: 'market', createdAt: 1_700_000_050_000 });
    const { price: _p, stopLoss: _s, takeProfit: _t, leverage: _l, ...withoutOptionals } = bare;
    expect(await store.orders.insertPending(withoutOptionals)).toBe(true);
    expect(await store.orders.get('bare1')).toEqual(withoutOptionals);
  });

  it('updates orders from the venue, marks failures and lists pending and recent ones', async () => {
    await store.orders.insertPending(anOrder({ clientOrderId: 'p2', createdAt: 1_700_000_060_000 }));
    await store.orders.insertPending(anOrder({ clientOrderId: 'other', traderId: Ids.trader('t-2') }));
    await store.orders.updateFromVenue('c1a2b3', aVenueOrder(), 1_700_000_041_500);
    await store.orders.markFailed('p2', 'venue never saw it', 1_700_000_070_000);

    expect(await store.orders.get('c1a2b3')).toEqual(
      anOrder({ status: 'closed', exchangeOrderId: 'x-1', filled: '0.001', average: '65001.2', fee: '0.0325006', updatedAt: 1_700_000_041_500 }),
    );
    expect(await store.orders.get('p2')).toMatchObject({ status: 'failed', reason: 'venue never saw it', updatedAt: 1_700_000_070_000 });
    expect((await store.orders.listPending()).map((o) => o.clientOrderId)).toEqual(['other', 'bare1']);
    expect((await store.orders.recentForTrader(Ids.trader('t-1'), 2)).map((o) => o.clientOrderId)).toEqual(['p2', 'bare1']);
    expect(await store.orders.countForTrader(Ids.trader('t-1'))).toBe(3);
    expect(await store.orders.countForTrader(Ids.trader('t-none'))).toBe(0);
  });

  it('stores a fill once even when its batch is written twice', async () => {
    const batch: PaperBatch = { accounts: [], orders: [], fills: [{ accountId: 'paper:t-7', fill: aFill({ realizedPnl: '3' }) }] };
    await store.paper.saveBatch(batch);
    await store.paper.saveBatch(batch);
    expect(await store.fills.listForAccount('paper:t-7', 10)).toHaveLength(1);
    expect(await store.fills.netForAccount('paper:t-7')).not.toBe('0');
  });

  it('saves a paper batch and loads accounts, orders and fills back', async () => {
    const state = { wallet: '1000.000000000000000001', positions: [{ symbol: 'BTCUSDT', amount: '0.001' }], open: [] };
    await store.paper.saveBatch({
      accounts: [{ accountId: 'paper:t-1', state, updatedAt: 1 }],
      orders: [{ accountId: 'paper:t-1', order: aVenueOrder({ status: 'open', filled: '0', average: null }) }],
      fills: [
        { accountId: 'paper:t-1', fill: aFill() },
        { accountId: 'paper:t-1', fill: aFill({ orderId: 'x-2', side: 'sell', realizedPnl: '0.000000012345678901234', fee: '0.01', timestamp: 2 }) },
        { accountId: 'paper:t-2', fill: aFill({ realizedPnl: '5' }) },
      ],
    });
    await store.paper.saveBatch({
      accounts: [],
      orders: [{ accountId: 'paper:t-1', order: aVenueOrder() }],
      fills: [],
    });

    expect(await store.paper.loadAccounts()).toEqual([{ accountId: 'paper:t-1', state }]);
    expect(await store.paper.loadOrders()).toEqual([{ accountId: 'paper:t-1', order: aVenueOrder() }]);
    expect(await store.fills.listForAccount('paper:t-1', 10)).toEqual([
      aFill(),
      aFill({ orderId: 'x-2', side: 'sell', realizedPnl: '0.000000012345678901234', fee: '0.01', timestamp: 2 }),
    ]);
    expect(await store.fills.listForAccount('paper:t-1', 1)).toEqual([aFill()]);
    expect(await store.fills.netForAccount('paper:t-1')).toBe('-0.042500587654321098766');
    expect(await store.fills.netForAccount('paper:none')).toBe('0');
  });

  it('rolls back the whole paper batch when one row fails', async () => {
    const before = await store.paper.loadAccounts();
    await expect(
      store.paper.saveBatch({
        accounts: [{ accountId: 'paper:t-9', state: { wallet: '1' }, updatedAt: 3 }],
        orders: [{ accountId: 'paper:t-9', order: aVenueOrder({ clientOrderId: 'z9' }) }],
        fills: [
          { accountId: 'paper:t-9', fill: aFill() },
          { accountId: 'paper:t-9', fill: aFill({ amount: 'not-a-number' }) },
        ],
      }),
    ).rejects.toThrow();
    expect(await store.paper.loadAccounts()).toEqual(before);
    expect((await store.paper.loadOrders()).some((o) => o.accountId === 'paper:t-9')).toBe(false);
    expect(await store.fills.listForAccount('paper:t-9', 10)).toEqual([]);
  });

  it('upserts cycles with JSON targets and plans, and reads them back', async () => {
    await store.cycles.upsertMany([
      aCycle({ status: 'started', finishedAt: null, targets: null, plan: null }),
      aCycle({ cycleId: 't-1:1700000100000', startedAt: 1_700_000_100_000, finishedAt: null, status: 'failed', error: 'boom' }),
    ]);
    expect(await store.cycles.get('t-1:1700000040000')).toEqual(
      aCycle({ status: 'started', finishedAt: null, targets: null, plan: null }),
    );
    await store.cycles.upsertMany([aCycle()]);
    expect(await store.cycles.get('t-1:1700000040000')).toEqual(aCycle());
    expect(await store.cycles.get('none')).toBeNull();
    expect((await store.cycles.recentForTrader(Ids.trader('t-1'), 5)).map((c) => c.cycleId)).toEqual([
      't-1:1700000100000',
      't-1:1700000040000',
    ]);
  });

  it('stores metrics, replaces a recomputed point and answers latest and series', async () => {
    await store.metrics.insertMany([
      aMetric(),
      aMetric({ at: 1_700_000_100_000, sharpe: null }),
      aMetric({ scopeId: 't-2', pv: '5' }),
      aMetric({ scope: 'platform', scopeId: 'all' }),
    ]);
    await store.metrics.insertMany([aMetric({ at: 1_700_000_100_000, sharpe: 2.5, mdd: 0.5 })]);
    expect(await store.metrics.latest('trader')).toEqual([
      aMetric({ at: 1_700_000_100_000, sharpe: 2.5, mdd: 0.5 }),
      aMetric({ scopeId: 't-2', pv: '5' }),
    ]);
    expect(await store.metrics.series('trader', 't-1', 1_700_000_050_000)).toEqual([
      aMetric({ at: 1_700_000_100_000, sharpe: 2.5, mdd: 0.5 }),
    ]);
    expect((await store.metrics.series('trader', 't-1', 0)).length).toBe(2);
  });

  it('writes a bulk of many statements whole, or, when one statement fails, none of it', async () => {
    // 8 columns a row: 1,200 rows are several statements, pipelined in one transaction.
    const rows = Array.from({ length: 1_200 }, (_, i) => aMetric({ scopeId: `bulk-${i}`, at: 1_700_000_000_000 }));
    await store.metrics.insertMany(rows);
    const stored = (await store.metrics.latest('trader')).filter((m) => m.scopeId.startsWith('bulk-'));
    expect(stored).toHaveLength(1_200);
    expect(stored.find((m) => m.scopeId === 'bulk-1199')).toEqual(rows[1_199]);

    // A bad value in the last statement: the whole write fails, with the database's reason.
    const failing = Array.from({ length: 1_200 }, (_, i) =>
      aMetric({ scopeId: `half-${i}`, at: 1_700_000_000_000, ...(i === 1_150 ? { pv: 'not a number' } : {}) }),
    );
    await expect(store.metrics.insertMany(failing)).rejects.toThrow(/numeric/);
    expect((await store.metrics.latest('trader')).filter((m) => m.scopeId.startsWith('half-'))).toEqual([]);
  });

  it('serves transactions interleaved with reads and writes without losing a query', async () => {
    const failures: string[] = [];
    const jobs = Array.from({ length: 600 }, (_, i) => {
      const job =
        i % 3 === 0
          ? store.paper.saveBatch({ accounts: [{ accountId: `race:${i % 7}`, state: { i }, updatedAt: i }], orders: [], fills: [] })
          : i % 3 === 1
            ? store.settings.get(`race:${i}`)
            : store.events.appendMany([anEvent({ at: 10_000 + i, type: 'race.written' })]);
      return job.catch((err: unknown) => failures.push(String(err)));
    });
    await Promise.all(jobs);
    expect(failures).toEqual([]);
    expect((await store.events.recent({ limit: 1_000, types: ['race.written'] })).length).toBe(200);
  });

  it('sets and gets JSON settings', async () => {
    expect(await store.settings.get('trading')).toBeNull();
    await store.settings.set('trading', { paused: true, by: 'ops', list: [1, 'a', null] });
    await store.settings.set('count', 3);
    await store.settings.set('list', ['x', 'y']);
    expect(await store.settings.get('trading')).toEqual({ paused: true, by: 'ops', list: [1, 'a', null] });
    expect(await store.settings.get<number>('count')).toBe(3);
    expect(await store.settings.get('list')).toEqual(['x', 'y']);
    await store.settings.set('count', 4);
    expect(await store.settings.get('count')).toBe(4);
    await expect(store.settings.set('bad', undefined)).rejects.toThrow('setting bad: undefined is not a JSON value');
  });
});
