/**
 * Reconciliation against the double: after the platform trades, the venue matches the order
 * records; a change made on the exchange behind the platform's back shows up as differences.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../runtime/exchange/clientId.ts';
import { expectedFromOrders, reconcileAccount } from '../../../runtime/exchange/ccxt/reconcile.ts';
import { executeRebalance } from '../../../runtime/rebalance/execute.ts';
import { executeDeps, KEY, openVenue, trader, VENUES, type VenueFixture } from './support.ts';

describe.each(VENUES)('reconciling a %s account', (venue) => {
  let f: VenueFixture;
  let deps: ReturnType<typeof executeDeps>;
  const resting = clientOrderId('t-1', 't-1:2', 'ETHUSDT', 0);

  beforeAll(async () => {
    f = await openVenue(venue);
    deps = executeDeps(await f.ex.loadMarkets());
    await executeRebalance(deps, deps.gate.wrap('t-1', 'm-1', f.ex), trader(), { cycleId: 't-1:1', targets: { BTCUSDT: { weight: 0.3 }, SOLUSDT: { weight: -0.2 } } }, new AbortController().signal);
    // A resting order the platform placed and recorded as open.
    const o = await f.ex.createOrder({ clientOrderId: resting, symbol: 'ETHUSDT', side: 'buy', type: 'limit', amount: '0.5', price: '3000' });
    const now = Date.now();
    await deps.orders.insertPending({
      clientOrderId: resting,
      traderId: trader().id,
      cycleId: 't-1:2',
      symbol: 'ETHUSDT',
      side: 'buy',
      type: 'limit',
      amount: '0.5',
      price: '3000',
      status: 'pending',
      exchangeOrderId: null,
      filled: '0',
      average: null,
      fee: '0',
      reason: null,
      createdAt: now,
      updatedAt: now,
    });
    await deps.orders.updateFromVenue(resting, o, now);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('finds the venue as the order records imply after the platform traded', async () => {
    const expected = expectedFromOrders([...deps.orders.rows.values()]);
    const report = await reconcileAccount(f.ex, expected, { amountSteps: { BTCUSDT: '0.001', SOLUSDT: '0.01' } });
    expect(report.differences).toEqual([]);
    expect(report.matches.map((m) => `${m.kind} ${m.symbol}`)).toEqual(['position BTCUSDT', 'position SOLUSDT', 'order ETHUSDT']);
  });

  it('detects a position enlarged, an order placed and an order canceled by hand on the exchange', async () => {
    const expected = expectedFromOrders([...deps.orders.rows.values()]);
    const btc = expected.positions['BTCUSDT']!;
    f.double.manual.setPosition(KEY, 'BTCUSDT', '0.2');
    f.double.manual.placeOrder(KEY, { clientOrderId: 'web1', symbol: 'XRPUSDT', side: 'sell', type: 'limit', amount: '100', price: '0.9' });
    f.double.manual.cancelOrder(KEY, 'ETHUSDT', resting);

    const report = await reconcileAccount(f.ex, expected, { amountSteps: { BTCUSDT: '0.001', SOLUSDT: '0.01' } });
    expect(report.ok).toBe(false);
    expect(report.differences.map((d) => [d.kind, d.action, d.message])).toEqual([
      [
        'position.mismatch',
        'flag',
        `BTCUSDT: the venue holds long 0.2, the platform expects long ${btc}; exposure the platform did not create: an operator must decide`,
      ],
      [
        'order.missing',
        'adopt',
        `ETHUSDT: order ${resting} (buy 0.5) is open on the platform but not on the venue; it filled or was canceled there: adopt the venue's status`,
      ],
      ['order.unknown', 'flag', 'XRPUSDT: open order web1 (sell 100) on the venue was placed outside the platform; an operator must decide'],
    ]);
    // Adopting the missing order: the venue says what became of it.
    expect(await f.ex.fetchOrderByClientId(resting, 'ETHUSDT')).toMatchObject({ status: 'canceled', filled: '0' });
  });

  it('adopts a position closed on the exchange', async () => {
    const expected = expectedFromOrders([...deps.orders.rows.values()]);
    f.double.manual.setPosition(KEY, 'BTCUSDT', expected.positions['BTCUSDT']!);
    f.double.manual.setPosition(KEY, 'SOLUSDT', '0');
    const report = await reconcileAccount(f.ex, expected, { amountSteps: { BTCUSDT: '0.001', SOLUSDT: '0.01' } });
    const sol = report.differences.find((d) => d.symbol === 'SOLUSDT');
    expect(sol).toMatchObject({ kind: 'position.mismatch', action: 'adopt', actual: '0', expected: expected.positions['SOLUSDT'] });
  });
});
