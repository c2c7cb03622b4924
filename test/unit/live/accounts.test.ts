/**
 * Live accounts against the loopback exchange double: keys opened from the key store once and
 * shared, refused with an operational reason when they cannot trade, checked against the venue,
 * and every trader's calls failure-tracked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../runtime/clock.ts';
import type { ErrorInfo } from '../../../runtime/domain.ts';
import { createRateLimits } from '../../../runtime/exchange/ccxt/limiter.ts';
import { ExchangeError } from '../../../runtime/exchange/port.ts';
import { createLiveAccounts, isLiveVenue, traderFailureCommands, type LiveAccounts } from '../../../runtime/live.ts';
import { SYNTHETIC_PROFILES } from '../../../runtime/market/markets.ts';
import { startExchangeDouble, type ExchangeDouble } from '../../support/exchange-double/index.ts';
import { liveTrader, memoryKeyStore, type MemoryKeyStore } from './support.ts';

const PRICES = Object.fromEntries(Object.entries(SYNTHETIC_PROFILES).map(([s, p]) => [s, String(p.basePrice)]));
const API_A = 'liveApiKeyAaaaaaaaaaaaaaaa0001';
const SECRET_A = 'liveSecretAaaaaaaaaaaaaaaaaa0001';
const API_B = 'liveApiKeyBbbbbbbbbbbbbbbb0002';
const SECRET_B = 'liveSecretBbbbbbbbbbbbbbbbbb0002';
const silent = { info: () => {}, warn: () => {}, error: () => {} };

interface Fixture {
  readonly double: ExchangeDouble;
  readonly keys: MemoryKeyStore;
  readonly live: LiveAccounts;
  readonly failures: { traderId: string; error: ErrorInfo }[];
}

describe.each(['binanceusdm', 'bybit'] as const)('live accounts on %s', (venue) => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.live.close();
    await f?.double.close();
    f = undefined;
  });

  const open = async (opts: { validateEveryMs?: number; timers?: Parameters<typeof createLiveAccounts>[0]['timers'] } = {}): Promise<Fixture> => {
    const double = await startExchangeDouble({
      venue,
      accounts: [
        { apiKey: API_A, secret: SECRET_A, wallet: '10000' },
        { apiKey: API_B, secret: SECRET_B, wallet: '500' },
      ],
      prices: PRICES,
    });
    const keys = memoryKeyStore();
    keys.put({ id: 'xk-a', exchange: venue, apiKey: API_A, secret: SECRET_A });
    keys.put({ id: 'xk-b', exchange: venue, apiKey: API_B, secret: SECRET_B, status: 'valid' });
    const failures: Fixture['failures'] = [];
    const live = createLiveAccounts({
      keyStore: keys,
      limits: createRateLimits({ clock: systemClock }),
      clock: systemClock,
      log: silent,
      apiBaseUrl: (v) => (v === venue ? double.url : undefined),
      onTraderFailure: (traderId, error) => failures.push({ traderId, error }),
      adapter: { timeoutMs: 1000 },
      ...opts,
    });
    f = { double, keys, live, failures };
    return f;
  };

  it('opens one adapter per key, shared by the key’s traders, after checking an unchecked key once', async () => {
    const { live, keys, double } = await open();
    const t1 = liveTrader('t-1', venue, 'xk-a');
    const t2 = liveTrader('t-2', venue, 'xk-a');
    const [a1, a2] = await Promise.all([live.ensure(t1), live.ensure(t2)]);
    expect(keys.opened).toEqual(['xk-a']);
    expect(keys.history).toEqual([{ keyId: 'xk-a', action: 'validated', reason: null }]);
    expect((await a1.fetchBalance()).wallet).toBe('10000');
    expect((await a2.fetchBalance()).wallet).toBe('10000');
    expect(live.get(t1)).toBe(a1);
    expect(double.log.filter((e) => e.op === 'balance').every((e) => e.apiKey === API_A)).toBe(true);
    const b = live.get(liveTrader('t-3', venue, 'xk-b'))!;
    expect((await b.fetchBalance()).wallet).toBe('500');
    expect(keys.opened).toEqual(['xk-a', 'xk-b']);

    const stats = live.stats();
    expect(stats).toHaveLength(1);
    expect(stats[0]).toMatchObject({ venue, keys: 2, traders: 3, rateLimitHits: 0, queued: 0 });
    expect(stats[0]!.requests).toBe(double.log.length);
  });

  it('returns no account for a venue that is not live', async () => {
    const { live } = await open();
    expect(live.get(liveTrader('t-p', 'paper', 'paper:t-p'))).toBeUndefined();
    await expect(live.ensure(liveTrader('t-p', 'paper', 'paper:t-p'))).rejects.toThrow('paper is not a live venue (binanceusdm, bybit, okx, bitget)');
    expect(isLiveVenue('okx')).toBe(true);
    expect(isLiveVenue('paper')).toBe(false);
  });

  it.each([
    ['revoked', 'leaked in a screenshot', 'exchange key xk-a is revoked: leaked in a screenshot'],
    ['disabled', 'holiday', 'exchange key xk-a is disabled: holiday'],
    ['invalid', `${venue} authentication failed: bad key`, `exchange key xk-a is invalid: ${venue} authentication failed: bad key`],
  ] as const)('refuses a %s key with an operational error naming the reason', async (status, reason, message) => {
    const { live, keys, double } = await open();
    keys.setStatus('xk-a', status, reason);
    const err = await live.ensure(liveTrader('t-1', venue, 'xk-a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect(err).toMatchObject({ kind: 'operational', message });
    expect(keys.opened).toEqual([]);
    expect(double.log).toEqual([]);
  });

  it('refuses a missing key, a key of another venue and a key of another user', async () => {
    const { live, keys } = await open();
    const other = venue === 'bybit' ? 'binanceusdm' : 'bybit';
    keys.put({ id: 'xk-other', exchange: other, apiKey: API_A, secret: SECRET_A, status: 'valid' });
    keys.put({ id: 'xk-them', exchange: venue, apiKey: API_A, secret: SECRET_A, status: 'valid', userId: 'u-2' });
    await expect(live.ensure(liveTrader('t-1', venue, 'xk-none'))).rejects.toThrow('exchange key xk-none does not exist (trader bot t-1)');
    await expect(live.ensure(liveTrader('t-1', venue, 'xk-other'))).rejects.toThrow(`exchange key xk-other is a ${other} key; bot t-1 trades on ${venue}`);
    await expect(live.ensure(liveTrader('t-1', venue, 'xk-them'))).rejects.toThrow("exchange key xk-them belongs to another user than bot t-1's");
  });

  it('fails the first call of a trader whose key is revoked, reporting the trader once', async () => {
    const { live, keys, failures } = await open();
    keys.setStatus('xk-a', 'revoked', 'leaked');
    const ex = live.get(liveTrader('t-1', venue, 'xk-a'))!;
    await expect(ex.fetchBalance()).rejects.toThrow('exchange key xk-a is revoked: leaked');
    await expect(ex.fetchPositions()).rejects.toThrow('exchange key xk-a is revoked: leaked');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ traderId: 't-1', error: { kind: 'operational', retryable: false, message: 'exchange key xk-a is revoked: leaked' } });
  });

  it('reopens a key after a history event: a key revoked while in use fails its traders’ next call', async () => {
    const { live, keys, failures } = await open();
    const t = liveTrader('t-1', venue, 'xk-b');
    const ex = await live.ensure(t);
    await ex.fetchBalance();
    live.keyChanged({ keyId: 'xk-b', action: 'validated' });
    await ex.fetchBalance();
    expect(keys.opened).toEqual(['xk-b']);
    keys.setStatus('xk-b', 'revoked', 'user left');
    live.keyChanged({ keyId: 'xk-b', action: 'revoked' });
    await expect(ex.fetchPositions()).rejects.toThrow('exchange key xk-b is revoked: user left');
    expect(failures.map((x) => x.error.message)).toEqual(['exchange key xk-b is revoked: user left']);
  });

  it('reports a trader once after three consecutive failed calls; a success or a new ensure starts over', async () => {
    const { live, double, failures } = await open();
    const t = liveTrader('t-1', venue, 'xk-b');
    const ex = await live.ensure(t);
    await ex.loadMarkets();
    double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'balance', times: 2 });
    await expect(ex.fetchBalance()).rejects.toThrow(ExchangeError);
    await expect(ex.fetchBalance()).rejects.toThrow(ExchangeError);
    await ex.fetchBalance();
    expect(failures).toEqual([]);

    double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'balance', times: 4 });
    for (let i = 0; i < 4; i++) await expect(ex.fetchBalance()).rejects.toThrow(ExchangeError);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.traderId).toBe('t-1');
    expect(failures[0]!.error).toMatchObject({ kind: 'transient', retryable: true });
    expect(failures[0]!.error.message).toMatch(new RegExp(`^3 consecutive exchange failures; last: ${venue} `));

    // An operator's restart reloads the trader: ensure starts a new streak.
    const again = await live.ensure(t);
    double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'balance', times: 3 });
    for (let i = 0; i < 2; i++) await expect(again.fetchBalance()).rejects.toThrow(ExchangeError);
    expect(failures).toHaveLength(1);
    await expect(again.fetchBalance()).rejects.toThrow(ExchangeError);
    expect(failures).toHaveLength(2);
  });

  it('checks a key against the venue and stores the venue’s reason when it refuses it', async () => {
    const { live, keys } = await open();
    keys.put({ id: 'xk-bad', exchange: venue, apiKey: API_A, secret: 'wrongSecretwrongSecret0000' });
    const bad = await live.validateKey('xk-bad', 'alice');
    expect(bad.status).toBe('invalid');
    expect(bad.reason).toMatch(new RegExp(`^${venue} authentication failed: .+ \\(code [-0-9]+\\)$`));
    expect(keys.keys.get('xk-bad')!.info).toMatchObject({ status: 'invalid', statusReason: bad.reason });
    await expect(live.ensure(liveTrader('t-1', venue, 'xk-bad'))).rejects.toThrow(`exchange key xk-bad is invalid: ${bad.reason}`);

    expect(await live.validateKey('xk-a')).toEqual({ keyId: 'xk-a', status: 'valid', reason: null });
    // An unchanged verdict writes no history row.
    expect(await live.validateKey('xk-a')).toMatchObject({ status: 'valid' });
    expect(await live.validateKey('xk-bad')).toMatchObject({ status: 'invalid' });
    expect(keys.history.map((h) => `${h.keyId} ${h.action}`)).toEqual(['xk-bad invalidated', 'xk-a validated']);
    expect(await live.validateKey('xk-none')).toEqual({ keyId: 'xk-none', status: 'skipped', reason: 'exchange key xk-none does not exist' });
  });

  it('fails an unchecked key at first use when the venue refuses it, and does not keep its adapter', async () => {
    const { live, keys, failures } = await open();
    keys.put({ id: 'xk-bad', exchange: venue, apiKey: 'unknownApiKeyZzzzzzzzzzzzz0009', secret: SECRET_A });
    const ex = live.get(liveTrader('t-1', venue, 'xk-bad'))!;
    const err = await ex.fetchBalance().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'operational' });
    expect((err as Error).message).toMatch(new RegExp(`^exchange key xk-bad is invalid: ${venue} (authentication failed|permission denied): `));
    expect(failures).toHaveLength(1);
    expect(keys.keys.get('xk-bad')!.info.status).toBe('invalid');
    expect(live.stats()[0]!.keys).toBe(0);
  });

  it('reports a key it cannot reach as unreachable and leaves its status alone', async () => {
    const { live, keys, double } = await open();
    double.inject({ fault: { kind: 'serverError', status: 503 }, op: 'balance', times: 1 });
    const v = await live.validateKey('xk-b');
    expect(v.status).toBe('unreachable');
    expect(v.reason).toMatch(new RegExp(`^${venue} `));
    expect(keys.keys.get('xk-b')!.info.status).toBe('valid');
    expect(keys.history).toEqual([]);
  });

  it('checks every usable key, periodically when asked, skipping revoked, disabled and paper keys', async () => {
    let tick: (() => void) | null = null;
    let cleared = false;
    const { live, keys } = await open({
      validateEveryMs: 60_000,
      timers: {
        setInterval: (fn) => {
          tick = fn;
          return 1;
        },
        clearInterval: () => {
          cleared = true;
        },
      },
    });
    keys.put({ id: 'xk-rev', exchange: venue, apiKey: API_A, secret: SECRET_A, status: 'revoked' });
    keys.put({ id: 'xk-dis', exchange: venue, apiKey: API_A, secret: SECRET_A, status: 'disabled' });
    keys.put({ id: 'xk-paper', exchange: 'paper', apiKey: API_A, secret: SECRET_A });
    const all = await live.validateAll();
    expect(all.map((v) => `${v.keyId} ${v.status}`)).toEqual(['xk-a valid', 'xk-b valid']);
    keys.setStatus('xk-a', 'unchecked', null);
    expect(tick).not.toBeNull();
    tick!();
    await expect.poll(() => keys.keys.get('xk-a')!.info.status).toBe('valid');
    await live.close();
    expect(cleared).toBe(true);
  });
});

describe('the commands for a trader stopped by exchange failures', () => {
  it('fails the trader with the tracker’s error and raises a critical alert naming it', () => {
    const error: ErrorInfo = { kind: 'transient', message: '3 consecutive exchange failures; last: bybit unavailable: 503', at: 5, retryable: true };
    expect(traderFailureCommands('t-1', error, 7, { name: 'Alpha', managerId: 'm-1' })).toEqual({
      send: { traderId: 't-1', event: { type: 'trader.fail', error } },
      event: {
        at: 7,
        type: 'exchange.failed',
        severity: 'critical',
        traderId: 't-1',
        managerId: 'm-1',
        actor: 'exchange',
        message: 'Alpha stopped: 3 consecutive exchange failures; last: bybit unavailable: 503',
        data: { kind: 'transient', retryable: true },
      },
    });
    expect(traderFailureCommands('t-2', error, 7).event).toMatchObject({ managerId: null, message: `t-2 stopped: ${error.message}` });
  });
});
