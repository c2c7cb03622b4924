/**
 * `BENCH_SCALE` (default 1) shrinks every fleet for quick iterations while developing; the
 * recorded figures always name the N they ran with.
 */

/** `n` times `BENCH_SCALE`, at least 1 (0 stays 0). */
export function scaled(n: number): number {
  const s = Number(process.env['BENCH_SCALE'] ?? 1);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env['BENCH_SCALE']}`);
  return n === 0 ? 0 : Math.max(1, Math.round(n * s));
}
