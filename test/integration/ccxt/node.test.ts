/**
 * A real trader end to end: a runtime node (PGlite, manual clock) with one trader on
 * `binanceusdm` whose account is the ccxt adapter pointed at the double (through
 * `NodeOptions.liveAccount`). The double's prices follow the node's synthetic candles.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createManualClock } from '../../../runtime/clock.ts';
import { loadConfig } from '../../../runtime/config.ts';
import { Ids } from '../../../runtime/domain.ts';
import { createCcxtExchange } from '../../../runtime/exchange/ccxt/adapter.ts';
import { createRateLimits } from '../../../runtime/exchange/ccxt/limiter.ts';
import { createLogger } from '../../../runtime/log.ts';
import { SYNTHETIC_MARKETS } from '../../../runtime/market/markets.ts';
import { syntheticCandle } from '../../../runtime/market/synthetic.ts';
import { startNode, type RuntimeNode } from '../../../runtime/node.ts';
import { createStore, migrate, openDatabase } from '../../../runtime/store/index.ts';
import { tempDataDir } from '../../support/db.ts';
import { startExchangeDouble, type ExchangeDouble } from '../../support/exchange-double/index.ts';
import { KEY, SECRET } from './support.ts';
import { loadCcxt } from '../../../runtime/exchange/ccxt/lib.ts';

// The runtime loads ccxt on first need; these tests build ccxt clients (or errors) directly.
await loadCcxt();

const REPO = path.resolve(import.meta.dirname, '../../..');
const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);
const MIN = 60_000;
const TRADER = Ids.trader('t-live');

describe('a binanceusdm trader on a runtime node', () => {
  const clock = createManualClock(T0);
  const actorClock = new SimulatedClock();
  actorClock.set(T0);
  let dataDir: string;
  let strategyDir: string;
  let double: ExchangeDouble;
  let node: RuntimeNode;

  const minute = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      clock.advance(MIN);
      await node.step();
      await node.settle();
    }
  };

  beforeAll(async () => {
    dataDir = tempDataDir();
    strategyDir = mkdtempSync(path.join(tmpdir(), 'fleet-strategies-'));
    cpSync(path.join(REPO, 'strategies'), strategyDir, { recursive: true });
    const config = loadConfig({ DATA_DIR: dataDir, STRATEGY_DIR: strategyDir, LOG_LEVEL: 'silent', POOL_THREADS: '1', MARKET_BACKFILL_BARS: '120', DEMO_FLEET: 'false' });

    // The venue's last price is the close of the node's last closed synthetic minute.
    double = await startExchangeDouble({
      venue: 'binanceusdm',
      accounts: [{ apiKey: KEY, secret: SECRET, wallet: '10000' }],
      now: () => clock.now(),
      price: (symbol, now) => {
        const m = SYNTHETIC_MARKETS.find((x) => x.symbol === symbol);
        return m ? syntheticCandle(config.marketSeed, m, Math.floor(now / MIN) - 1).close : undefined;
      },
    });

    const db = await openDatabase({ dataDir: config.dataDir });
    await migrate(db.sql);
    const store = createStore(db.sql, db.close);
    await store.users.upsert({ id: Ids.user('u-live'), email: 'live@example.com', displayName: 'Live', role: 'user', createdAt: T0 });
    await store.managers.upsert({ id: Ids.manager('m-live'), name: 'Live desk', capital: '10000', maxRestarts: 5, restartWindowMs: 600_000, createdAt: T0 });
    await store.traders.upsert({
      id: TRADER,
      managerId: Ids.manager('m-live'),
      userId: Ids.user('u-live'),
      name: 'Live equal-weight',
      strategyName: 'equal-weight',
      strategyVersion: 1,
      params: { gross: 1 },
      venue: 'binanceusdm',
      accountId: 'binanceusdm:main',
      initialCapital: '10000',
      leverage: 2,
      riskLimits: {},
      createdAt: T0,
      updatedAt: T0,
    });
    await store.close();

    const limits = createRateLimits({ clock });
    const account = createCcxtExchange({
      venue: 'binanceusdm',
      credentials: { apiKey: KEY, secret: SECRET },
      limiter: limits.account('binanceusdm', KEY),
      clock,
      apiBaseUrl: double.url,
      timeoutMs: 500,
    });
    node = await startNode({
      config,
      log: createLogger('silent'),
      clock,
      autoRun: false,
      liveAccount: (t) => (t.venue === 'binanceusdm' ? account : undefined),
      actorClock: actorClock as unknown as NonNullable<Parameters<typeof startNode>[0]['actorClock']>,
    });
    await node.step();
    await node.settle();
  }, 120_000);

  afterAll(async () => {
    await node?.stop().catch(() => undefined);
    await double?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (strategyDir) rmSync(strategyDir, { recursive: true, force: true });
  });

  it('trades the venue account through ccxt, each order sent once, in isolated margin at its leverage', async () => {
    await minute(2);
    expect(node.traders().get(TRADER)?.status).toBe('running');
    const orders = await node.store.orders.recentForTrader(TRADER, 100);
    expect(orders.length).toBeGreaterThanOrEqual(5);
    expect(orders.every((o) => o.status === 'closed')).toBe(true);
    const acc = double.books.account(KEY)!;
    expect(new Set(orders.map((o) => o.exchangeOrderId))).toEqual(new Set([...acc.orders.values()].map((o) => o.id)));
    for (const o of orders) expect(double.creates(o.clientOrderId)).toBe(1);
    expect([...acc.positions.keys()].sort()).toEqual(['BNBUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT']);
    expect(acc.leverage.get('BTCUSDT')).toBe(2);
    expect(acc.marginMode.get('BTCUSDT')).toBe('isolated');
    const balance = await node.account(TRADER)!.fetchBalance();
    expect(balance.wallet).toBe(acc.wallet.toFixed());
  });

  it('resolves an order whose reply was lost after the venue accepted it, without sending it again', async () => {
    // Push the book away from the targets so the next cycle trades: close BTC by hand.
    double.manual.setPosition(KEY, 'BTCUSDT', '0');
    double.inject({ fault: { kind: 'timeout', afterAccept: true }, op: 'createOrder' });
    const before = double.creates();
    await minute(1);
    expect(double.armed()).toBe(0);
    const orders = await node.store.orders.recentForTrader(TRADER, 100);
    const hit = double.log.filter((e) => e.op === 'createOrder' && e.status === 0)[0]!;
    expect(double.creates(hit.clientOrderId!)).toBe(1);
    expect(orders.find((o) => o.clientOrderId === hit.clientOrderId)).toMatchObject({ status: 'closed' });
    expect(double.creates()).toBeGreaterThan(before);
    expect(orders.every((o) => o.status === 'closed')).toBe(true);
    expect(double.books.account(KEY)!.positions.has('BTCUSDT')).toBe(true);
    expect(node.traders().get(TRADER)?.status).toBe('running');
  });
});
