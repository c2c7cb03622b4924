/**
 * Live trading wired into a runtime node: binanceusdm traders whose exchange keys are in the key
 * store (sealed at rest), their accounts served by `createLiveAccounts` through
 * `NodeOptions.liveAccount`, against the loopback exchange double. The test wires the node as the
 * lead's lines do (`onTraderFailure` → `trader.fail` and an alert; reconciliation at start →
 * events and a `risk` pause), through the node's public surface.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ids } from '../../../runtime/index.ts';
import { clientOrderId } from '../../../runtime/exchange/clientId.ts';
import { createRateLimits } from '../../../runtime/exchange/ccxt/limiter.ts';
import { createKeyStore, type KeyStore } from '../../../runtime/keys/index.ts';
import { createLiveAccounts, traderFailureCommands, type LiveAccounts } from '../../../runtime/live.ts';
import { SYNTHETIC_MARKETS } from '../../../runtime/market/markets.ts';
import { syntheticCandle } from '../../../runtime/market/synthetic.ts';
import { createStore, migrate, openDatabase, type Store } from '../../../runtime/store/index.ts';
import type { EventRecord, TraderRecord } from '../../../runtime/store/types.ts';
import { startExchangeDouble, type ExchangeDouble } from '../../support/exchange-double/index.ts';
import { harness, T0, type Harness } from '../../support/runtime.ts';

const MIN = 60_000;
const KEY_A = 'liveApiKeyAaaaaaaaaaaaaaaa0001';
const SECRET_A = 'liveSecretAaaaaaaaaaaaaaaaaa0001';
const KEY_B = 'liveApiKeyBbbbbbbbbbbbbbbb0002';
const SECRET_B = 'liveSecretBbbbbbbbbbbbbbbbbb0002';
const KEY_C = 'liveApiKeyCccccccccccccccc0003';
const SECRET_C = 'liveSecretCccccccccccccccccc0003';
const TA = Ids.trader('t-a');
const TB = Ids.trader('t-b');
const TC = Ids.trader('t-c');
const silent = { info: () => {}, warn: () => {}, error: () => {} };

const trader = (id: string, keyId: string): TraderRecord => ({
  id: Ids.trader(id),
  managerId: Ids.manager('m-live'),
  userId: Ids.user('u-live'),
  name: `Live ${id}`,
  strategyName: 'equal-weight',
  strategyVersion: 1,
  params: { gross: 1 },
  venue: 'binanceusdm',
  accountId: keyId,
  initialCapital: '10000',
  leverage: 2,
  riskLimits: {},
  createdAt: T0,
  updatedAt: T0,
});

/**
 * What the lead's lines do at start, through the node's public surface: reconcile every live
 * trader that is not in error, write the events, block and pause the flagged ones.
 */
describe('live binanceusdm traders on a runtime node', () => {
  let h: Harness;
  let double: ExchangeDouble;
  let keysDb: Awaited<ReturnType<typeof openDatabase>>;
  let keyStore: KeyStore;
  let live: LiveAccounts;
  const alerts: EventRecord[] = [];
  const ids = { a: '', b: '', c: '' };

  beforeAll(async () => {
    // The key store on its own embedded database: the node's PGlite admits one client.
    keysDb = await openDatabase({ dataDir: 'memory://' });
    await migrate(keysDb.sql);
    const keysStore: Store = createStore(keysDb.sql, keysDb.close);
    await keysStore.users.upsert({ id: Ids.user('u-live'), email: 'live@example.com', displayName: 'Live', role: 'user', createdAt: T0 });
    let n = 0;
    keyStore = createKeyStore({
      sql: keysDb.sql,
      keys: new Map([['k1', randomBytes(32)]]),
      currentKeyId: 'k1',
      clock: { now: () => T0 },
      log: silent,
      newId: () => `xk-${++n}`,
      onEvent: (e) => live?.keyChanged(e),
    });
    ids.a = (await keyStore.add({ userId: 'u-live', exchange: 'binanceusdm', label: 'A', apiKey: KEY_A, secret: SECRET_A }, 'alice')).id;
    ids.b = (await keyStore.add({ userId: 'u-live', exchange: 'binanceusdm', label: 'B', apiKey: KEY_B, secret: SECRET_B }, 'alice')).id;
    ids.c = (await keyStore.add({ userId: 'u-live', exchange: 'binanceusdm', label: 'C', apiKey: KEY_C, secret: SECRET_C }, 'alice')).id;
    await keyStore.revoke(ids.b, 'leaked in a screenshot', 'alice');

    h = await harness('pglite', {
      demoFleet: false,
      env: { MARKET_BACKFILL_BARS: '120' },
      liveAccount: (t) => live.get(t),
    });
    // The venue's last price is the close of the node's last closed synthetic minute.
    double = await startExchangeDouble({
      venue: 'binanceusdm',
      accounts: [
        { apiKey: KEY_A, secret: SECRET_A, wallet: '10000' },
        { apiKey: KEY_B, secret: SECRET_B, wallet: '10000' },
        { apiKey: KEY_C, secret: SECRET_C, wallet: '10000' },
      ],
      now: () => h.clock.now(),
      price: (symbol, now) => {
        const m = SYNTHETIC_MARKETS.find((x) => x.symbol === symbol);
        return m ? syntheticCandle(h.config.marketSeed, m, Math.floor(now / MIN) - 1).close : undefined;
      },
    });
    live = createLiveAccounts({
      keyStore,
      limits: createRateLimits({ clock: h.clock }),
      clock: h.clock,
      log: silent,
      apiBaseUrl: () => double.url,
      adapter: { timeoutMs: 1000 },
      // The lead's wiring: the alert on the timeline, then `trader.fail`.
      onTraderFailure: (traderId, error) => {
        const v = h.node?.traders().get(traderId);
        const c = traderFailureCommands(traderId, error, h.clock.now(), v?.record);
        alerts.push(c.event);
        void h.node?.store.events.appendMany([c.event]);
        v?.ref.send(c.send.event);
      },
    });
    await h.seed(async (store) => {
      await store.users.upsert({ id: Ids.user('u-live'), email: 'live@example.com', displayName: 'Live', role: 'user', createdAt: T0 });
      await store.managers.upsert({ id: Ids.manager('m-live'), name: 'Live desk', capital: '30000', maxRestarts: 5, restartWindowMs: 600_000, createdAt: T0 });
      for (const [id, key] of [['t-a', ids.a], ['t-b', ids.b], ['t-c', ids.c]] as const) await store.traders.upsert(trader(id, key));
    });
    await h.start();
    await h.minute(1);
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
    await live?.close();
    await double?.close();
    await keysDb?.close();
  });

  it('trades each account with its own key from the key store, every order sent once', async () => {
    for (const [id, key] of [[TA, KEY_A], [TC, KEY_C]] as const) {
      expect(h.node.traders().get(id)?.status).toBe('running');
      const orders = await h.node.store.orders.recentForTrader(id, 100);
      expect(orders.length).toBeGreaterThanOrEqual(5);
      expect(orders.every((o) => o.status === 'closed')).toBe(true);
      for (const o of orders) expect(double.creates(o.clientOrderId)).toBe(1);
      const acc = double.books.account(key)!;
      expect(new Set(orders.map((o) => o.exchangeOrderId))).toEqual(new Set([...acc.orders.values()].map((o) => o.id)));
      expect([...acc.positions.keys()].sort()).toEqual(['BNBUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT']);
      expect((await h.node.account(id)!.fetchBalance()).wallet).toBe(acc.wallet.toFixed());
    }
    // Checked against the venue on first use, and the verdict stored on the key.
    expect((await keyStore.get(ids.a))?.status).toBe('valid');
    expect((await keyStore.get(ids.c))?.status).toBe('valid');
    expect(double.log.every((e) => e.apiKey !== KEY_B)).toBe(true);
    expect(live.stats()).toEqual([expect.objectContaining({ venue: 'binanceusdm', keys: 2, traders: 3, rateLimitHits: 0 })]);
    // One bot per exchange account: a second bot on A's key is refused.
    const second = await h.node.api.createBot(
      { name: 'Second on A', userId: 'u-live', managerId: 'm-live', strategy: { name: 'equal-weight', version: 1 }, params: null, venue: 'binanceusdm', keyId: ids.a, initialCapital: '1000', leverage: 1 },
      { by: 'olivia' },
    );
    expect(second).toMatchObject({ ok: false, code: 'conflict' });
    if (!second.ok) expect(second.error).toBe(`exchange key ${ids.a} already trades for Live t-a (t-a): one bot per exchange account (use a sub-account key)`);
  });

  it('puts the trader of a revoked key in error with the operational reason, escalated with an alert', async () => {
    const v = h.node.traders().get(TB)!;
    expect(v.status).toBe('error');
    expect(v.error).toMatchObject({ kind: 'operational', retryable: false, message: `exchange key ${ids.b} is revoked: leaked in a screenshot` });
    expect(await h.node.store.orders.countForTrader(TB)).toBe(0);
    const events = await h.node.store.events.recent({ limit: 100, traderId: TB });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['exchange.failed', 'trader.failed', 'trader.escalated']));
    expect(events.find((e) => e.type === 'exchange.failed')).toMatchObject({ severity: 'critical', message: `Live t-b stopped: exchange key ${ids.b} is revoked: leaked in a screenshot` });
  });

  it('puts a trader in error after three consecutive failed exchange calls, with an alert', async () => {
    // Move t-c's book off its targets so that its next cycle places one order (BTC, leg 0).
    double.manual.setPosition(KEY_C, 'BTCUSDT', '0');
    const candle = Math.floor((h.clock.now() + MIN) / MIN) * MIN - MIN;
    const id = clientOrderId(TC, `${TC}:${candle}`, 'BTCUSDT', 0);
    double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'createOrder', clientOrderId: id, times: 2 });
    double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'getOrder', clientOrderId: id, times: 2 });
    const before = alerts.length;
    await h.minute(1);
    await expect.poll(() => h.node.traders().get(TC)?.status).toBe('error');
    const v = h.node.traders().get(TC)!;
    expect(v.error).toMatchObject({ kind: 'transient', retryable: true });
    expect(v.error?.message).toMatch(/^3 consecutive exchange failures; last: binanceusdm unavailable: /);
    expect(alerts.slice(before).map((e) => [e.type, e.severity, e.traderId])).toEqual([['exchange.failed', 'critical', TC]]);
    // The cycle stops at the failure: the order is recorded as failed and was never accepted.
    await expect.poll(async () => (await h.node.store.orders.get(id))?.status, { timeout: 10_000 }).toBe('failed');
    expect(double.armed()).toBe(0);
    expect(double.books.account(KEY_C)!.byClientId.has(id)).toBe(false);
    expect(h.node.traders().get(TA)?.status).toBe('running');
    await h.node.flush();
    expect((await h.node.store.events.recent({ limit: 50, traderId: TC, types: ['exchange.failed'] })).length).toBe(1);
  });

  it('flags a position changed by hand while the trader runs at its next cycle, and resumes it once an operator accepts the venue state', async () => {
    const acc = double.books.account(KEY_A)!;
    const sol = acc.positions.get('SOLUSDT')!.amount;
    const doubled = sol.mul(2).toFixed();
    double.manual.setPosition(KEY_A, 'SOLUSDT', doubled);
    const creates = double.creates();
    await h.minute(1);
    await h.node.flush();
    const a = h.node.traders().get(TA)!;
    expect(a.status).toBe('paused');
    expect(a.pause).toMatchObject({ by: 'reconcile', scope: 'risk' });
    const flagged = await h.node.store.events.recent({ limit: 10, traderId: TA, types: ['reconcile.flagged'] });
    expect(flagged.map((e) => e.message)).toEqual([
      `SOLUSDT: the venue holds long ${doubled}, the platform expects long ${sol.toFixed()}; exposure the platform did not create: an operator must decide`,
    ]);
    // Caught before the cycle traded: nothing was sent for it.
    expect(double.creates()).toBe(creates);
    // A plain resume does not settle it: the next cycle finds the same difference and pauses it again.
    expect(await h.node.api.resumeBot(TA, { by: 'olivia' })).toMatchObject({ ok: true });
    await h.minute(1);
    await h.node.flush();
    expect(h.node.traders().get(TA)!.pause).toMatchObject({ by: 'reconcile', scope: 'risk' });
    expect(await h.node.store.events.recent({ limit: 10, traderId: TA, types: ['reconcile.flagged'] })).toHaveLength(2);
    expect(double.creates()).toBe(creates);
    // A re-check still sees the difference.
    const recheck = await h.node.api.resolveReconciliation(TA, 'recheck', { by: 'olivia' });
    expect(recheck).toMatchObject({ ok: false });
    if (!recheck.ok) expect(recheck.error).toMatch(/^the venue still differs: SOLUSDT/);
    expect(h.node.traders().get(TA)!.status).toBe('paused');
    // Accepting the venue's word makes the doubled position the baseline and resumes the trader.
    const accepted = await h.node.api.resolveReconciliation(TA, 'accept', { by: 'olivia', reason: 'client added SOL by hand' });
    expect(accepted).toMatchObject({ ok: true });
    await h.node.settle();
    expect(h.node.traders().get(TA)!.status).toBe('running');
    await h.minute(1);
    expect(h.node.traders().get(TA)!.status).toBe('running');
    expect(await h.node.store.events.recent({ limit: 10, traderId: TA, types: ['reconcile.flagged'] })).toHaveLength(2);
    const audit = await h.node.admin.auditLog({ action: 'bot.reconcile_accept', limit: 5 });
    expect(audit.entries.map((e) => [e.actorLabel, e.outcome, e.targetId])).toEqual([['olivia', 'ok', TA]]);
  });

  it('flags a position changed by hand on the exchange at the next start and pauses the trader', async () => {
    await h.node.stop();
    const eth = double.books.account(KEY_A)!.positions.get('ETHUSDT')!.amount;
    const enlarged = eth.mul(3).toFixed();
    double.manual.setPosition(KEY_A, 'ETHUSDT', enlarged);
    const creates = double.creates();
    const since = h.clock.now();
    // The node reconciles every live trader as it loads it, before its first cycle.
    await h.start();
    await h.node.flush();
    const flagged = (await h.node.store.events.recent({ limit: 20, types: ['reconcile.flagged'] })).filter((e) => e.at >= since);
    expect(flagged.map((e) => [e.type, e.traderId])).toEqual([['reconcile.flagged', TA]]);
    const message = `ETHUSDT: the venue holds long ${enlarged}, the platform expects long ${eth.toFixed()}; exposure the platform did not create: an operator must decide`;
    expect(flagged[0]!.message).toBe(message);
    const a = h.node.traders().get(TA)!;
    expect(a.status).toBe('paused');
    expect(a.pause).toMatchObject({ by: 'reconcile', scope: 'risk', reason: `reconciliation: ${message}` });
    expect(h.node.gate.check(TA, 'm-live').allowed).toBe(false);
    await h.minute(1);
    expect(h.node.traders().get(TA)?.status).toBe('paused');
    expect(double.creates()).toBe(creates);
    expect(h.node.traders().get(TB)?.status).toBe('error');
    expect(h.node.traders().get(TC)?.status).toBe('error');
    expect((await h.node.store.events.recent({ limit: 10, traderId: TA, types: ['reconcile.flagged'] })).map((e) => e.severity)).toEqual(['critical', 'critical', 'critical']);
  });
});
