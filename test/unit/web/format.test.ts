import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DASH, domId, formatAmount, formatDuration, formatMoney, formatPct, formatPrice, formatTime, isRoundedPrice } from '../../../web/format.ts';
import { readPlan, verdictTone } from '../../../web/plan.ts';
import type { WebLogger } from '../../../web/index.ts';

describe('formatting', () => {
  it('formats money strings with separators and two decimals without floats', () => {
    expect(formatMoney('1234567.891')).toBe('1,234,567.89');
    expect(formatMoney('0.005')).toBe('0.01');
    expect(formatMoney('-2500')).toBe('-2,500.00');
    expect(formatMoney('-0.001')).toBe('0.00');
    expect(formatMoney('90071992547409931.37')).toBe('90,071,992,547,409,931.37');
  });

  it('shows a dash for unknown or malformed values', () => {
    expect(formatMoney(null)).toBe(DASH);
    expect(formatMoney('abc')).toBe(DASH);
    expect(formatPct(null)).toBe(DASH);
    expect(formatPct(Number.NaN)).toBe(DASH);
    expect(formatAmount(undefined)).toBe(DASH);
    expect(formatTime(null, 0)).toBe(DASH);
  });

  it('formats fractions as signed percentages', () => {
    expect(formatPct(0.012345)).toBe('+1.23 %');
    expect(formatPct(-0.5)).toBe('-50.00 %');
    expect(formatPct(0.00001)).toBe('0.00 %');
  });

  it('keeps amounts exact and groups their integer part', () => {
    expect(formatAmount('97012.50')).toBe('97,012.50');
    expect(formatAmount('0.00012345')).toBe('0.00012345');
  });

  it('shortens long average prices to 8 significant digits and says when it did', () => {
    expect(formatPrice('0.53481786327312300642')).toBe('0.53481786');
    expect(formatPrice('59602.97702')).toBe('59,602.977');
    expect(formatPrice('151.929608')).toBe('151.92961');
    expect(formatPrice('0.000012345678912')).toBe('0.000012345679');
    // Half-even, and never a digit of the integer part dropped.
    expect(formatPrice('2.000000125')).toBe('2.0000001');
    expect(formatPrice('123456789012.5')).toBe('123,456,789,012');
    // Short prices are shown as given, zeros and all.
    expect(formatPrice('0.5357')).toBe('0.5357');
    expect(formatPrice('97012.50')).toBe('97,012.50');
    expect(isRoundedPrice('0.5357')).toBe(false);
    expect(isRoundedPrice('0.53481786327312300642')).toBe(true);
    expect(formatPrice(null)).toBe(DASH);
    expect(formatPrice('n/a')).toBe('n/a');
    expect(isRoundedPrice('n/a')).toBe(false);
  });

  it('shows the time of day for today and the date otherwise (UTC)', () => {
    const now = Date.UTC(2026, 10, 21, 12, 0, 0);
    expect(formatTime(Date.UTC(2026, 10, 21, 9, 5, 7), now)).toBe('09:05:07');
    expect(formatTime(Date.UTC(2026, 10, 20, 23, 59, 0), now)).toBe('2026-11-20 23:59');
  });

  it('formats durations compactly', () => {
    expect(formatDuration(12_000)).toBe('12s');
    expect(formatDuration(3_723_000)).toBe('1h 2m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 4h');
  });

  it('builds collision-free, CSS-safe DOM ids', () => {
    expect(domId('bot', 't-0001')).toBe('bot-t-0001');
    expect(domId('bot', 'a b')).not.toBe(domId('bot', 'a_b'));
    expect(domId('bot', 'x:y/z')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('accepts a pino logger as the console logger', () => {
    const log: WebLogger = pino({ level: 'silent' });
    expect(() => log.info({ a: 1 }, 'ok')).not.toThrow();
  });
});

describe('reading a cycle plan', () => {
  const line = (symbol: string, risk: unknown, outcome: unknown) => ({
    order: { symbol, side: 'buy', kind: 'open', amount: '0.5', price: '100', reduceOnly: false, stopLoss: '97', takeProfit: null },
    risk,
    outcome,
  });

  it('reads orders with risk decisions, outcomes and dropped orders', () => {
    const view = readPlan({
      equity: '1000',
      canceled: false,
      lines: [
        line('BTCUSDT', { allowed: true }, { status: 'sent', clientOrderId: 'p1', order: { status: 'closed', reason: null } }),
        line('ETHUSDT', { allowed: false, check: 'maxLeverage', reason: 'leverage 8 exceeds the limit 5' }, { status: 'denied', reason: 'x' }),
      ],
      skipped: [{ symbol: 'SOLUSDT', reason: 'under minimum' }],
    });
    expect(view).not.toBeNull();
    expect(view!.orders[0]).toMatchObject({ symbol: 'BTCUSDT', amount: '0.5', clientOrderId: 'p1', risk: { verdict: 'approved' }, outcome: { verdict: 'filled' } });
    expect(view!.orders[1]).toMatchObject({ risk: { verdict: 'denied', reason: 'maxLeverage: leverage 8 exceeds the limit 5' }, outcome: { verdict: 'denied' } });
    expect(view!.dropped).toEqual([{ symbol: 'SOLUSDT', reason: 'under minimum' }]);
  });

  it('reads an absent plan as empty', () => {
    expect(readPlan(null)).toEqual({ orders: [], dropped: [] });
  });

  it('returns null for a shape it does not know, so the raw JSON is shown', () => {
    expect(readPlan({ steps: [1, 2] })).toBeNull();
    expect(readPlan([{ symbol: 42 }])).toBeNull();
    expect(readPlan('text')).toBeNull();
  });

  it('colours verdicts by meaning', () => {
    expect(verdictTone('approved')).toBe('ok');
    expect(verdictTone('denied')).toBe('bad');
    expect(verdictTone('not_allowed')).toBe('bad');
    expect(verdictTone('canceled')).toBe('bad');
    expect(verdictTone('open')).toBe('warn');
    expect(verdictTone('mystery')).toBe('neutral');
  });
});
