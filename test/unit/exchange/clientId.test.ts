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
