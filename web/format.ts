/**
 * Pure formatting for the console: money strings, percentages, times and DOM ids. Unknown
 * values render as an em dash, never as a made-up number.
 */
import { Decimal } from 'decimal.js';

/** What the console shows for an unknown value. */
export const DASH = '—';

function groupThousands(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Formats a decimal string with thousands separators and fixed decimals: `12345.678` → `12,345.68`. */
export function formatMoney(value: string | null | undefined, decimals = 2): string {
  if (value === null || value === undefined || value.trim() === '') return DASH;
  let d: Decimal;
  try {
    d = new Decimal(value);
  } catch {
    return DASH;
  }
  if (!d.isFinite()) return DASH;
  const fixed = d.toFixed(decimals);
  const negative = fixed.startsWith('-');
  const [intPart, frac] = (negative ? fixed.slice(1) : fixed).split('.');
  const body = groupThousands(intPart ?? '0') + (frac ? `.${frac}` : '');
  return negative && !/^[0.,]+$/.test(body) ? `-${body}` : body;
}

/** A plain decimal string: what the amount and price formatters rewrite (anything else is shown as given). */
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/** Formats a decimal string as given (no rounding), grouping the integer part. */
export function formatAmount(value: string | null | undefined): string {
  if (value === null || value === undefined || value.trim() === '') return DASH;
  if (!DECIMAL_TEXT.test(value.trim())) return value;
  const v = value.trim();
  const negative = v.startsWith('-');
  const [intPart, frac] = (negative ? v.slice(1) : v).split('.');
  return (negative ? '-' : '') + groupThousands(intPart ?? '0') + (frac ? `.${frac}` : '');
}

/** Significant digits a price is shown with when it has more (an average entry, a fill average). */
export const PRICE_DIGITS = 8;

/**
 * A price for a table: as given when it has at most {@link PRICE_DIGITS} significant digits, else
 * rounded half-even to that many (never dropping a digit of the integer part);
 * `0.53481786327312300642` → `0.53481786`, `59602.97702` → `59,602.977`. `rounded` tells the
 * caller to put the exact value in the cell's title.
 */
export function shownPrice(value: string | null | undefined): { readonly text: string; readonly rounded: boolean } {
  if (value === null || value === undefined || !DECIMAL_TEXT.test(value.trim())) return { text: formatAmount(value), rounded: false };
  const d = new Decimal(value.trim());
  const r = roundPrice(d);
  return r.eq(d) ? { text: formatAmount(value), rounded: false } : { text: formatAmount(r.toFixed()), rounded: true };
}

/** The text of {@link shownPrice}. */
export function formatPrice(value: string | null | undefined): string {
  return shownPrice(value).text;
}

/** Whether {@link shownPrice} rounds this value. */
export function isRoundedPrice(value: string | null | undefined): boolean {
  return shownPrice(value).rounded;
}

function roundPrice(d: Decimal): Decimal {
  const abs = d.abs();
  if (abs.lt(1)) return d.toSignificantDigits(PRICE_DIGITS, Decimal.ROUND_HALF_EVEN);
  const intDigits = abs.trunc().toFixed().length;
  return d.toDecimalPlaces(Math.max(0, PRICE_DIGITS - intDigits), Decimal.ROUND_HALF_EVEN);
}

/** Sign of a decimal string: -1, 0 or 1 (0 for unknown). */
export function signOf(value: string | number | null | undefined): -1 | 0 | 1 {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return Number.isFinite(value) ? (Math.sign(value) as -1 | 0 | 1) : 0;
  try {
    return new Decimal(value).cmp(0) as -1 | 0 | 1;
  } catch {
    return 0;
  }
}

/** Formats a fraction as a signed percentage: `0.0123` → `+1.23 %`. */
export function formatPct(fraction: number | null | undefined, decimals = 2): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return DASH;
  const pct = fraction * 100;
  const text = Math.abs(pct).toFixed(decimals);
  if (Number(text) === 0) return `${(0).toFixed(decimals)} %`;
  return `${pct > 0 ? '+' : '-'}${text} %`;
}

/** Formats a weight in [-1, 1] as a percentage of capital without a forced plus sign. */
export function formatWeight(weight: number | null | undefined): string {
  if (weight === null || weight === undefined || !Number.isFinite(weight)) return DASH;
  return `${(weight * 100).toFixed(1)} %`;
}

/** CSS class for a signed value: `pos`, `neg` or `` (zero or unknown). */
export function signClass(value: string | number | null | undefined): string {
  const s = signOf(value);
  return s > 0 ? 'pos' : s < 0 ? 'neg' : '';
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** A compact UTC time: `HH:MM:SS` when on the same UTC day as `now`, else `YYYY-MM-DD HH:MM`. */
export function formatTime(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const full = formatDateTime(ms);
  const sameDay = full.slice(0, 10) === formatDateTime(now).slice(0, 10);
  return sameDay ? full.slice(11) : full.slice(0, 16);
}

/** ISO 8601 for `title` and `datetime` attributes. */
export function isoTime(ms: number | null | undefined): string | undefined {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString();
}

/** A duration as `3d 4h`, `2h 5m`, `4m 10s` or `12s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return DASH;
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/**
 * A DOM id built from a prefix and an arbitrary id, collision-free and CSS-safe:
 * every character outside `[A-Za-z0-9-]` becomes `_hex_`.
 */
export function domId(prefix: string, id: string): string {
  const safe = id.replace(/[^A-Za-z0-9-]/g, (ch) => `_${ch.codePointAt(0)!.toString(16)}_`);
  return `${prefix}-${safe}`;
}

/** First characters of a hash, for display. */
export function shortHash(hash: string | null | undefined, length = 10): string {
  if (!hash) return DASH;
  return hash.slice(0, length);
}

/** Pretty JSON that never throws (for params and schemas). */
export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? 'null';
  } catch {
    return String(value);
  }
}
