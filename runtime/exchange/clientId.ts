/**
 * Deterministic client order ids, so a retried submit carries the same id and a venue refuses
 * the duplicate instead of doubling the order.
 */
import { createHash } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGITS = 31;

/**
 * The client order id of one order leg of one trader's cycle: `p` + 31 base62 digits of the
 * SHA-256 of the parts (32 characters of [A-Za-z0-9], ~184 bits), e.g. `clientOrderId('t-1', 't-1:1700000000000', 'BTCUSDT', 0)`.
 */
export function clientOrderId(traderId: string, cycleId: string, symbol: string, leg?: number): string {
  if (leg !== undefined && (!Number.isSafeInteger(leg) || leg < 0))
    throw new Error(`clientOrderId: leg must be a non-negative integer, got ${leg}`);
  // JSON framing keeps ('a:b', 'c') and ('a', 'b:c') apart.
  const digest = createHash('sha256')
    .update(JSON.stringify([traderId, cycleId, symbol, leg ?? null]))
    .digest('hex');
  let n = BigInt(`0x${digest}`);
  let out = 'p';
  for (let i = 0; i < DIGITS; i++) {
    out += BASE62[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}
