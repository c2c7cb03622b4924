import {
  AccountSuspended,
  AuthenticationError,
  DDoSProtection,
  DuplicateOrderId,
  ExchangeError as CcxtExchangeError,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidOrder,
  NetworkError,
  OrderNotFound,
  PermissionDenied,
  RateLimitExceeded,
  RequestTimeout,
} from 'ccxt';
import { describe, expect, it } from 'vitest';
import { classifyCcxtError, createFailureTracker, venueReason, withFailureTracking } from '../../../runtime/exchange/ccxt/errors.ts';
import { ExchangeError } from '../../../runtime/exchange/port.ts';
import type { Exchange } from '../../../runtime/exchange/port.ts';
import { loadCcxt } from '../../../runtime/exchange/ccxt/lib.ts';

// The runtime loads ccxt on first need; these tests build ccxt clients (or errors) directly.
await loadCcxt();

const classify = (err: Error, venue: string, call: 'order' | 'read' = 'read') => {
  const out = classifyCcxtError(err, venue, call);
  if (!(out instanceof ExchangeError)) throw new Error('expected an ExchangeError');
  return { kind: out.kind, message: out.message };
};

describe('classifying ccxt errors by what the caller must do', () => {
  it.each([
    [
      'binance -4116 arriving as a bare ExchangeError',
      new CcxtExchangeError('binanceusdm {"code":-4116,"msg":"ClientOrderId is duplicated."}'),
      'binanceusdm',
      'binanceusdm duplicate client order id: ClientOrderId is duplicated. (code -4116)',
    ],
    [
      'bybit 110072',
      new InvalidOrder('bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate","result":{},"retExtInfo":{},"time":1}'),
      'bybit',
      'bybit duplicate client order id: OrderLinkedID is duplicate (code 110072)',
    ],
    [
      'okx 51016 inside the data array',
      new InvalidOrder('okx {"code":"1","data":[{"clOrdId":"p1","ordId":"","sCode":"51016","sMsg":"Duplicated clOrdId","tag":""}],"msg":""}'),
      'okx',
      'okx duplicate client order id: Duplicated clOrdId (code 51016)',
    ],
    ['ccxt DuplicateOrderId on any venue', new DuplicateOrderId('bitget {"code":"40786","msg":"Duplicate clientOid"}'), 'bitget', 'bitget duplicate client order id: Duplicate clientOid (code 40786)'],
  ])('reads a duplicate client id from %s', (_name, err, venue, message) => {
    expect(classify(err, venue, 'order')).toEqual({ kind: 'duplicate', message });
  });

  it.each([
    [
      new DDoSProtection('binanceusdm 429 Too Many Requests {"code":-1003,"msg":"Too many requests; current limit is 2400."}'),
      'binanceusdm',
      'binanceusdm rate limited: Too many requests; current limit is 2400. (code -1003)',
    ],
    [
      new DDoSProtection("binanceusdm 418 I'm a Teapot {\"code\":-1003,\"msg\":\"Way too many requests; IP banned until 1700000000000.\"}"),
      'binanceusdm',
      'binanceusdm IP banned: Way too many requests; IP banned until 1700000000000. (code -1003)',
    ],
    [new RateLimitExceeded('bybit {"retCode":10006,"retMsg":"Too many visits!"}'), 'bybit', 'bybit rate limited: Too many visits! (code 10006)'],
    [new RateLimitExceeded('bybit 403 Forbidden <html><body>403 Forbidden: access too frequent</body></html>'), 'bybit', 'bybit IP banned: 403 Forbidden 403 Forbidden: access too frequent'],
    [new ExchangeNotAvailable('bybit 502 Bad Gateway <html>bad gateway</html>'), 'bybit', 'bybit unavailable: 502 Bad Gateway bad gateway'],
    [
      new CcxtExchangeError('bybit {"retCode":10016,"retMsg":"Internal server error."}'),
      'bybit',
      'bybit unavailable: Internal server error. (code 10016)',
    ],
    [
      new RequestTimeout('binanceusdm POST http://127.0.0.1:4000/fapi/v1/order?symbol=BTCUSDT&signature=abc request timed out (500 ms)'),
      'binanceusdm',
      'binanceusdm timed out: POST http://127.0.0.1:4000/fapi/v1/order request timed out (500 ms)',
    ],
    [new NetworkError('binanceusdm GET http://h/fapi/v3/account?timestamp=1&signature=s fetch failed: other side closed'), 'binanceusdm', 'binanceusdm network error: GET http://h/fapi/v3/account fetch failed: other side closed'],
  ])('calls %s transient', (err, venue, message) => {
    expect(classify(err, venue)).toEqual({ kind: 'transient', message });
  });

  it.each([
    [new AuthenticationError('binanceusdm {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'), 'binanceusdm', 'binanceusdm authentication failed: Invalid API-key, IP, or permissions for action. (code -2015)'],
    [new PermissionDenied('okx {"code":"50120","msg":"API key does not have trade permission"}'), 'okx', 'okx permission denied: API key does not have trade permission (code 50120)'],
    [new AccountSuspended('bitget {"code":"40014","msg":"account frozen"}'), 'bitget', 'bitget account suspended: account frozen (code 40014)'],
    [new InsufficientFunds('bybit {"retCode":110007,"retMsg":"ab not enough for new order"}'), 'bybit', 'bybit insufficient funds: ab not enough for new order (code 110007)'],
    [new CcxtExchangeError('binanceusdm {"code":-2019,"msg":"Margin is insufficient."}'), 'binanceusdm', 'binanceusdm insufficient funds: Margin is insufficient. (code -2019)'],
  ])('calls %s operational', (err, venue, message) => {
    expect(classify(err, venue, 'order')).toEqual({ kind: 'operational', message });
  });

  it.each([
    [new InvalidOrder('binanceusdm {"code":-4164,"msg":"Order\'s notional must be no smaller than 5."}'), 'binanceusdm rejected the order: Order\'s notional must be no smaller than 5. (code -4164)'],
    [new OrderNotFound('binanceusdm {"code":-2013,"msg":"Order does not exist."}'), 'binanceusdm order not found: Order does not exist. (code -2013)'],
    [new CcxtExchangeError('binanceusdm {"code":-4999,"msg":"Something new."}'), 'binanceusdm rejected the order: Something new. (code -4999)'],
  ])('calls %s an order-level refusal with the venue reason', (err, message) => {
    expect(classify(err, 'binanceusdm', 'order')).toEqual({ kind: 'order', message });
  });

  it('treats an unmapped venue error on a read as transient, so the failure tracker decides', () => {
    expect(classify(new CcxtExchangeError('binanceusdm {"code":-4999,"msg":"Something new."}'), 'binanceusdm', 'read').kind).toBe('transient');
  });

  it('passes through our own errors and anything that is not a ccxt error', () => {
    const ours = new ExchangeError('order', 'x');
    const bug = new TypeError('undefined is not a function');
    expect(classifyCcxtError(ours, 'bybit')).toBe(ours);
    expect(classifyCcxtError(bug, 'bybit')).toBe(bug);
  });

  it('parses the venue reason, code and HTTP status out of a message', () => {
    expect(venueReason('binanceusdm 429 Too Many Requests {"code":-1003,"msg":"slow down"}')).toEqual({ reason: 'slow down', code: '-1003', status: 429 });
    expect(venueReason('bybit something odd happened')).toEqual({ reason: 'something odd happened', code: null, status: null });
  });
});

describe('the failure tracker', () => {
  const transient = () => new ExchangeError('transient', 'binanceusdm unavailable: Internal error (code -1001)');

  it('says error after three consecutive failed calls of a trader, and not before', () => {
    const tracker = createFailureTracker();
    expect(tracker.failure('t-1', transient(), 1).action).toBe('retry');
    expect(tracker.failure('t-1', transient(), 2).action).toBe('retry');
    expect(tracker.failure('t-2', transient(), 2).action).toBe('retry');
    expect(tracker.failure('t-1', transient(), 3)).toEqual({
      action: 'error',
      consecutive: 3,
      error: {
        kind: 'transient',
        message: '3 consecutive exchange failures; last: binanceusdm unavailable: Internal error (code -1001)',
        at: 3,
        retryable: true,
      },
    });
    expect(tracker.consecutive('t-2')).toBe(1);
  });

  it('starts over after a successful call', () => {
    const tracker = createFailureTracker(2);
    tracker.failure('t-1', transient(), 1);
    tracker.success('t-1');
    expect(tracker.failure('t-1', transient(), 2).action).toBe('retry');
  });

  it('errs at once on an operational failure', () => {
    const tracker = createFailureTracker();
    const v = tracker.failure('t-1', new ExchangeError('operational', 'bybit authentication failed: API key is invalid. (code 10003)'), 5);
    expect(v).toEqual({
      action: 'error',
      consecutive: 1,
      error: { kind: 'operational', message: 'bybit authentication failed: API key is invalid. (code 10003)', at: 5, retryable: false },
    });
  });

  it('does not count an order refusal or a duplicate as a failure of the venue', () => {
    const tracker = createFailureTracker();
    tracker.failure('t-1', transient(), 1);
    tracker.failure('t-1', new ExchangeError('order', 'rejected'), 2);
    tracker.failure('t-1', new ExchangeError('duplicate', 'dup'), 3);
    expect(tracker.consecutive('t-1')).toBe(1);
  });

  it('reports through a tracked account once the limit is reached, and lets every error through', async () => {
    const tracker = createFailureTracker();
    const errors: string[] = [];
    let fail = true;
    const base = {
      venue: 'binanceusdm',
      fetchBalance: async () => {
        if (fail) throw transient();
        return { currency: 'USDT', wallet: '1', used: '0', free: '1', unrealizedPnl: '0', equity: '1' };
      },
    } as unknown as Exchange;
    const ex = withFailureTracking(base, { traderId: 't-1', tracker, clock: { now: () => 7 }, onError: (e) => errors.push(e.message) });
    for (let i = 0; i < 4; i++) await expect(ex.fetchBalance()).rejects.toThrow('binanceusdm unavailable');
    expect(errors).toEqual(['3 consecutive exchange failures; last: binanceusdm unavailable: Internal error (code -1001)']);
    fail = false;
    await ex.fetchBalance();
    expect(tracker.consecutive('t-1')).toBe(0);
  });
});
