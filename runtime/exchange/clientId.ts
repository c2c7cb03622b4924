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
    .digest();
  // The digest as a 256-bit big-endian number in eight 32-bit limbs, divided by 62 once per
  // digit (least significant digit first): the same digits as BigInt arithmetic, without a
  // BigInt allocated per step (that was ~25 µs an id, 1.5 % of an order-heavy wave).
  const limbs = new Array<number>(8);
  for (let i = 0; i < 8; i++) limbs[i] = digest.readUInt32BE(i * 4);
  let out = 'p';
  for (let d = 0; d < DIGITS; d++) {
    let rem = 0;
    for (let i = 0; i < 8; i++) {
      // rem < 62, so rem × 2³² + limb < 2⁴⁸: exact in a double.
      const cur = rem * 0x1_0000_0000 + limbs[i]!;
      const q = Math.floor(cur / 62);
      limbs[i] = q;
      rem = cur - q * 62;
    }
    out += BASE62[rem];
  }
  return out;
}
