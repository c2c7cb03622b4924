import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../runtime/exchange/index.ts';

describe('clientOrderId', () => {
  it('is 32 characters of [A-Za-z0-9] and the same for the same inputs', () => {
    const id = clientOrderId('t-0001', 't-0001:1700000000000', 'BTCUSDT', 0);
    expect(id).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(clientOrderId('t-0001', 't-0001:1700000000000', 'BTCUSDT', 0)).toBe(id);
  });

  it('differs when any part differs, a missing leg included', () => {
    const base = clientOrderId('t-1', 'c', 'BTCUSDT', 1);
    expect(clientOrderId('t-2', 'c', 'BTCUSDT', 1)).not.toBe(base);
    expect(clientOrderId('t-1', 'd', 'BTCUSDT', 1)).not.toBe(base);
    expect(clientOrderId('t-1', 'c', 'ETHUSDT', 1)).not.toBe(base);
    expect(clientOrderId('t-1', 'c', 'BTCUSDT', 2)).not.toBe(base);
    expect(clientOrderId('t-1', 'c', 'BTCUSDT')).not.toBe(clientOrderId('t-1', 'c', 'BTCUSDT', 0));
  });

  it('does not confuse parts that concatenate to the same text', () => {
    expect(clientOrderId('a:b', 'c', 'X')).not.toBe(clientOrderId('a', 'b:c', 'X'));
  });

  it('gives the same ids as the BigInt arithmetic it replaced (ids already recorded stay valid)', () => {
    const reference = (traderId: string, cycleId: string, symbol: string, leg?: number) => {
      const hex = createHash('sha256')
        .update(JSON.stringify([traderId, cycleId, symbol, leg ?? null]))
        .digest('hex');
      const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
      let n = BigInt(`0x${hex}`);
      let out = 'p';
      for (let i = 0; i < 31; i++) {
        out += alphabet[Number(n % 62n)];
        n /= 62n;
      }
      return out;
    };
    expect(clientOrderId('t-0001', 't-0001:1700000000000', 'BTCUSDT', 0)).toBe(reference('t-0001', 't-0001:1700000000000', 'BTCUSDT', 0));
    for (let i = 0; i < 2_000; i++) {
      const args = [`t-${i * 7919}`, `t-${i}:${1_700_000_000_000 + i * 60_000}`, i % 3 ? 'BTCUSDT' : 'ETH/USDT:USDT', i % 5 === 0 ? undefined : i % 4] as const;
      expect(clientOrderId(...args)).toBe(reference(...args));
    }
  });

  it('produces no collision over 100,000 generated inputs', () => {
    const seen = new Set<string>();
    for (let t = 0; t < 100; t++)
      for (let c = 0; c < 100; c++)
        for (let leg = 0; leg < 10; leg++) seen.add(clientOrderId(`t-${t}`, `t-${t}:${1_700_000_000_000 + c * 60_000}`, leg % 2 ? 'BTCUSDT' : 'ETHUSDT', leg));
    expect(seen.size).toBe(100_000);
  });

  it('refuses a leg that is not a non-negative integer', () => {
    expect(() => clientOrderId('t', 'c', 'BTCUSDT', -1)).toThrow('leg must be a non-negative integer');
    expect(() => clientOrderId('t', 'c', 'BTCUSDT', 1.5)).toThrow('leg must be a non-negative integer');
  });
});
