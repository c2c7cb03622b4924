/**
 * The market feed and exchange configuration: MARKET_FEED, MARKET_SYMBOLS, EXCHANGE_API_URL.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../runtime/config.ts';

const problems = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('market feed configuration', () => {
  it('defaults to the synthetic market on its ten symbols, with no API override', () => {
    const c = loadConfig({});
    expect(c.marketFeed).toBe('synthetic');
    expect(c.marketSymbols).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT', 'ADAUSDT', 'AVAXUSDT', 'LINKUSDT', 'LTCUSDT']);
    expect(c.exchangeApiUrl).toBeUndefined();
  });

  it('takes a venue feed with its own symbols, trimmed and without repeats, and an API override', () => {
    const c = loadConfig({ MARKET_FEED: 'bybit', MARKET_SYMBOLS: ' PEPEUSDT, BTCUSDT,,BTCUSDT', EXCHANGE_API_URL: 'http://127.0.0.1:8080/proxy' });
    expect(c).toMatchObject({ marketFeed: 'bybit', marketSymbols: ['PEPEUSDT', 'BTCUSDT'], exchangeApiUrl: 'http://127.0.0.1:8080/proxy' });
  });

  it('names each bad variable with what was given and what is expected', () => {
    expect(problems({ MARKET_FEED: 'kraken', MARKET_SYMBOLS: 'BTCUSDT,eth', EXCHANGE_API_URL: 'ftp://x' })).toEqual([
      'MARKET_FEED="kraken": expected one of synthetic, binanceusdm, bybit, okx, bitget',
      'MARKET_SYMBOLS="BTCUSDT,eth": expected a comma-separated list of USDT perpetual symbols like BTCUSDT; not one: eth',
      'EXCHANGE_API_URL="ftp://x": expected an http:// or https:// URL',
    ]);
    expect(problems({ MARKET_SYMBOLS: ' , ' })).toEqual(['MARKET_SYMBOLS=" , ": expected a comma-separated list of USDT perpetual symbols like BTCUSDT']);
  });

  it('refuses a symbol the synthetic market does not have', () => {
    expect(problems({ MARKET_SYMBOLS: 'BTCUSDT,PEPEUSDT' })).toEqual([
      'MARKET_SYMBOLS="BTCUSDT,PEPEUSDT": the synthetic market has only BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT, XRPUSDT, DOGEUSDT, ADAUSDT, AVAXUSDT, LINKUSDT, LTCUSDT; unknown: PEPEUSDT',
    ]);
  });

  it('refuses a faster-than-real clock with a venue feed', () => {
    expect(problems({ MARKET_FEED: 'binanceusdm', MARKET_TIME_SCALE: '60' })).toEqual([
      "MARKET_TIME_SCALE=\"60\": expected 1 with MARKET_FEED=binanceusdm: a venue's candles come in real time",
    ]);
    expect(loadConfig({ MARKET_TIME_SCALE: '60' }).marketTimeScale).toBe(60);
  });
});
