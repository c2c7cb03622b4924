/**
 * The executor's recorded-before-send and lookup-before-retry flow, driven through the real
 * ccxt adapter against the double under every injected fault: never a second order for one
 * client order id, and an ambiguous submit is resolved by lookup, never resent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../runtime/exchange/clientId.ts';
import { createFailureTracker, withFailureTracking } from '../../../runtime/exchange/ccxt/errors.ts';
import { DEFAULT_BUDGETS } from '../../../runtime/exchange/ccxt/limiter.ts';
import { Dec } from '../../../runtime/exchange/precision.ts';
import { ExchangeError, type Exchange } from '../../../runtime/exchange/port.ts';
import { executeRebalance } from '../../../runtime/rebalance/execute.ts';
import type { Fault } from '../../support/exchange-double/index.ts';
import { executeDeps, KEY, openVenue, trader, VENUES, type VenueFixture } from './support.ts';

const CYCLE = 't-1:1';
const ID = clientOrderId('t-1', CYCLE, 'BTCUSDT', 0);
const TARGETS = { BTCUSDT: { weight: 0.5 } };
/** Bybit's 50 cost units a second would make each case wait a second; the limiter has its own tests. */
const FAST = { limits: { budgets: { bybit: { ip: DEFAULT_BUDGETS.bybit.ip, account: [{ name: 'cost/1s', measure: 'weight' as const, capacity: 1000, windowMs: 1000 }] } } } };

const FAULTS: readonly { readonly name: string; readonly fault: Fault; readonly ambiguous: boolean }[] = [
  { name: 'a 429 with Retry-After', fault: { kind: 'rateLimit', retryAfterSec: 0 }, ambiguous: false },
  { name: 'an IP ban with Retry-After', fault: { kind: 'ban', retryAfterSec: 0 }, ambiguous: false },
  { name: 'a 503 before the venue accepted', fault: { kind: 'serverError', status: 503 }, ambiguous: false },
  { name: 'a timeout before the venue accepted', fault: { kind: 'timeout' }, ambiguous: false },
  { name: 'a spurious duplicate refusal', fault: { kind: 'duplicate' }, ambiguous: false },
  { name: 'a 502 after the venue accepted', fault: { kind: 'serverError', status: 502, afterAccept: true }, ambiguous: true },
  { name: 'a timeout after the venue accepted', fault: { kind: 'timeout', afterAccept: true }, ambiguous: true },
  { name: 'a connection reset after the venue accepted', fault: { kind: 'reset', afterAccept: true }, ambiguous: true },
];

describe.each(VENUES)('orders through faults on %s', (venue) => {
  let f: VenueFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  const run = async (fx: VenueFixture, deps = executeDeps({})) => {
    const markets = await fx.ex.loadMarkets();
    const d = { ...deps, markets };
    const report = await executeRebalance(d, d.gate.wrap('t-1', 'm-1', fx.ex), trader(), { cycleId: CYCLE, targets: TARGETS }, new AbortController().signal);
    return { report, deps: d };
  };

  it.each(FAULTS)('places exactly one order through $name', async ({ fault, ambiguous }) => {
    f = await openVenue(venue, FAST);
    f.double.inject({ fault, op: 'createOrder' });
    const deps = executeDeps({});
    const { report } = await run(f, deps);

    expect(f.double.armed()).toBe(0);
    expect(report.lines).toHaveLength(1);
    const outcome = report.lines[0]!.outcome;
    expect(outcome).toMatchObject({ status: 'sent', clientOrderId: ID, order: { status: 'closed' } });
    const acc = f.double.books.account(KEY)!;
    expect([...acc.orders.values()].map((o) => o.clientOrderId)).toEqual([ID]);
    const record = deps.orders.rows.get(ID)!;
    expect(record).toMatchObject({ status: 'closed', exchangeOrderId: [...acc.orders.values()][0]!.id });
    expect(new Dec(record.filled).eq(record.amount)).toBe(true);
    expect(acc.positions.get('BTCUSDT')!.amount.eq(record.amount)).toBe(true);
    // An ambiguous submit is looked up and never sent again; a refused one is resent once.
    expect(f.double.creates(ID)).toBe(ambiguous ? 1 : 2);
  });

  it('resolves a submit that timed out after acceptance by looking it up, never resending it', async () => {
    f = await openVenue(venue, { ...FAST, timeoutMs: 300 });
    f.double.inject({ fault: { kind: 'timeout', afterAccept: true }, op: 'createOrder' });
    const { report, deps } = await run(f);
    const trail = f.double.log.filter((e) => e.clientOrderId === ID).map((e) => [e.op, e.status]);
    expect(trail[0]).toEqual(['createOrder', 0]);
    expect(trail.slice(1).every(([op]) => op === 'getOrder')).toBe(true);
    expect(trail.filter(([op]) => op === 'createOrder')).toHaveLength(1);
    expect(report.lines[0]!.outcome).toMatchObject({ status: 'sent', order: { status: 'closed' } });
    expect(deps.events.map((e) => e.type)).toEqual(['order.placed']);
  });

  it('finds an order the venue already holds when it refuses the client id as a duplicate', async () => {
    f = await openVenue(venue, FAST);
    // An earlier attempt got through (a resting order, so the position is still to be built).
    f.double.manual.placeOrder(KEY, { clientOrderId: ID, symbol: 'BTCUSDT', side: 'buy', type: 'limit', amount: '0.15', price: '60000' });
    const { report, deps } = await run(f);
    expect(f.double.creates(ID)).toBe(1);
    expect(f.double.books.account(KEY)!.orders.size).toBe(1);
    expect(report.lines[0]!.outcome).toMatchObject({ status: 'sent', order: { status: 'open', filled: '0' } });
    expect(deps.orders.rows.get(ID)).toMatchObject({ status: 'open', filled: '0' });
    expect(deps.events.map((e) => e.type)).toEqual(['order.placed']);
  });

  it('says error after three consecutive failed calls and starts over after a success', async () => {
    f = await openVenue(venue, FAST);
    await f.ex.loadMarkets();
    const tracker = createFailureTracker(3);
    const reported: string[] = [];
    const ex = withFailureTracking(f.ex, { traderId: 't-1', tracker, clock: { now: () => 1 }, onError: (e) => reported.push(`${e.kind}: ${e.message}`) });
    f.double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'balance', times: 2 });
    await expect(ex.fetchBalance()).rejects.toThrow(ExchangeError);
    await expect(ex.fetchBalance()).rejects.toThrow(ExchangeError);
    await ex.fetchBalance();
    expect(tracker.consecutive('t-1')).toBe(0);
    f.double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'balance', times: 3 });
    for (let i = 0; i < 3; i++) await expect(ex.fetchBalance()).rejects.toThrow(ExchangeError);
    const reason = venue === 'binanceusdm' ? 'binanceusdm unavailable: Internal error; unable to process your request. Please try again. (code -1001)' : 'bybit unavailable: Internal server error. (code 10016)';
    expect(reported).toEqual([`transient: 3 consecutive exchange failures; last: ${reason}`]);
  });

  it('halts the trader at once on an operational refusal such as insufficient margin', async () => {
    f = await openVenue(venue, { ...FAST, wallet: '10' });
    const deps = executeDeps(await f.ex.loadMarkets());
    const ex = deps.gate.wrap('t-1', 'm-1', f.ex);
    // A stale equity reading makes the plan far larger than the 10 USDT wallet can carry.
    const stale: Exchange = Object.assign(Object.create(ex) as Exchange, { fetchBalance: async () => ({ ...(await ex.fetchBalance()), equity: '100000' }) });
    const err = await executeRebalance(deps, stale, trader(), { cycleId: CYCLE, targets: TARGETS }, new AbortController().signal).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TradingHalted');
    expect((err as Error).message).toBe(
      venue === 'binanceusdm' ? 'BTCUSDT: binanceusdm insufficient funds: Margin is insufficient. (code -2019)' : 'BTCUSDT: bybit insufficient funds: ab not enough for new order (code 110007)',
    );
    expect(deps.orders.rows.get(ID)).toMatchObject({ status: 'failed' });
    expect(f.double.creates(ID)).toBe(1);
    expect(f.double.books.account(KEY)!.orders.size).toBe(0);
  });
});
