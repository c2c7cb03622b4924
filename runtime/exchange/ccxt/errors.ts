/**
 * ccxt failures classified by what the caller must do, and a per-trader tracker of consecutive
 * failed calls. ccxt's classes are not enough on their own: some venues' codes arrive as a bare
 * `ExchangeError` (Binance -4116 duplicate client id, -2019 insufficient margin), so the venue's
 * code is read from the message first.
 */
import type { BaseError } from 'ccxt';
import { loadedCcxt, type Ccxt } from './lib.ts';
import { ExchangeError, type ExchangeErrorKind } from '../port.ts';

/** Whether the failed call placed or changed an order (`order`) or only read (`read`). */
export type CallKind = 'order' | 'read';

/** A venue's reason and code, as parsed out of a ccxt error message. */
export interface VenueReason {
  readonly reason: string;
  readonly code: string | null;
  /** The HTTP status when the message carries one (e.g. `429 Too Many Requests`). */
  readonly status: number | null;
}

type Verdict = readonly [ExchangeErrorKind, string];

/** Venue codes whose meaning ccxt's class does not carry (or carries wrongly for us). */
const CODES: Readonly<Record<string, Readonly<Record<string, Verdict>>>> = {
  binanceusdm: {
    '-4116': ['duplicate', 'duplicate client order id'],
    '-1003': ['transient', 'rate limited'],
    '-1001': ['transient', 'unavailable'],
    '-1007': ['transient', 'timed out'],
    '-1008': ['transient', 'unavailable'],
    '-1021': ['transient', 'clock out of sync'],
    '-2019': ['operational', 'insufficient funds'],
    '-2014': ['operational', 'authentication failed'],
    '-2015': ['operational', 'authentication failed'],
    '-1022': ['operational', 'authentication failed'],
    '-4164': ['order', 'rejected the order'],
    '-1111': ['order', 'rejected the order'],
    '-2022': ['order', 'rejected the order'],
    '-2013': ['order', 'order not found'],
    '-2011': ['order', 'order not found'],
  },
  bybit: {
    '110072': ['duplicate', 'duplicate client order id'],
    '10006': ['transient', 'rate limited'],
    '10018': ['transient', 'rate limited'],
    '10016': ['transient', 'unavailable'],
    '10002': ['transient', 'clock out of sync'],
    '10003': ['operational', 'authentication failed'],
    '10004': ['operational', 'authentication failed'],
    '10005': ['operational', 'permission denied'],
    '33004': ['operational', 'authentication failed'],
    '110007': ['operational', 'insufficient funds'],
    '110001': ['order', 'order not found'],
  },
  okx: {
    '51016': ['duplicate', 'duplicate client order id'],
    '50011': ['transient', 'rate limited'],
    // The account's order-rate limit: ccxt calls it a bare ExchangeError (an order refusal to us).
    '50061': ['transient', 'rate limited'],
    '50001': ['transient', 'unavailable'],
    '51008': ['operational', 'insufficient funds'],
  },
  bitget: {
    '40757': ['duplicate', 'duplicate client order id'],
    '40786': ['duplicate', 'duplicate client order id'],
    '429': ['transient', 'rate limited'],
    // "System is abnormal, please try again later": ccxt's bare ExchangeError would make an
    // ambiguous submit look refused.
    '40015': ['transient', 'unavailable'],
    '40762': ['operational', 'insufficient funds'],
  },
};

/** Parses the venue's JSON body out of a ccxt message (`binanceusdm {"code":-4116,"msg":"…"}`). */
export function venueReason(message: string): VenueReason {
  const statusMatch = /\b(4\d\d|5\d\d)\s+[A-Z][A-Za-z' ]+/.exec(message);
  const status = statusMatch ? Number(statusMatch[1]) : null;
  const brace = message.indexOf('{');
  if (brace >= 0) {
    try {
      const body = JSON.parse(message.slice(brace)) as Record<string, unknown>;
      const first = Array.isArray(body['data']) ? (body['data'][0] as Record<string, unknown> | undefined) : undefined;
      const sCode = first?.['sCode'];
      const nested = sCode !== undefined && String(sCode) !== '0';
      const code = nested ? sCode : (body['code'] ?? body['retCode'] ?? null);
      const msg = nested ? first?.['sMsg'] : (body['msg'] ?? body['retMsg'] ?? body['message']);
      if (typeof msg === 'string' && msg.length > 0)
        return { reason: msg, code: code === null || code === undefined ? null : String(code), status };
    } catch {
      // not JSON after all: fall through to the plain message
    }
  }
  // Strip the venue id and any query string (it carries the request signature).
  const plain = message
    .replace(/^\S+\s+/, '')
    .replace(/\?\S*/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { reason: plain || message, code: null, status };
}

function byClass(c: Ccxt, err: BaseError, call: CallKind, status: number | null): Verdict {
  if (err instanceof c.DuplicateOrderId) return ['duplicate', 'duplicate client order id'];
  // Order matters: the network classes sit under OperationFailed, the auth ones under ExchangeError.
  if (err instanceof c.RateLimitExceeded) return ['transient', 'rate limited'];
  if (err instanceof c.DDoSProtection) return ['transient', status === 418 || status === 403 ? 'IP banned' : 'rate limited'];
  if (err instanceof c.RequestTimeout) return ['transient', 'timed out'];
  if (err instanceof c.ExchangeNotAvailable) return ['transient', 'unavailable'];
  if (err instanceof c.NetworkError || err instanceof c.OperationFailed) return ['transient', 'network error'];
  if (err instanceof c.AccountSuspended) return ['operational', 'account suspended'];
  if (err instanceof c.PermissionDenied) return ['operational', 'permission denied'];
  if (err instanceof c.AuthenticationError) return ['operational', 'authentication failed'];
  if (err instanceof c.InsufficientFunds) return ['operational', 'insufficient funds'];
  if (err instanceof c.NotSupported) return ['operational', 'not supported'];
  if (err instanceof c.OrderNotFound) return ['order', 'order not found'];
  if (err instanceof c.InvalidOrder || err instanceof c.OperationRejected) return ['order', 'rejected the order'];
  if (err instanceof c.BadSymbol || err instanceof c.BadRequest) return ['order', 'rejected the request'];
  if (err instanceof c.ExchangeError) return call === 'order' ? ['order', 'rejected the order'] : ['transient', 'error'];
  return ['transient', 'error'];
}

/**
 * Classifies a failed ccxt call: transient (retry with backoff), operational (stop the trader,
 * alert a human), order (the venue refused this order: record the reason) or duplicate (the
 * client order id was used: look the order up). The message reads `<venue> <what>: <reason>`,
 * with the venue's code when it gave one, e.g.
 * `binanceusdm duplicate client order id: ClientOrderId is duplicated. (code -4116)`.
 * Anything that is not a ccxt error (a bug) is returned unchanged.
 */
export function classifyCcxtError(err: BaseError, venue: string, call?: CallKind): ExchangeError;
export function classifyCcxtError(err: unknown, venue: string, call?: CallKind): unknown;
export function classifyCcxtError(err: unknown, venue: string, call: CallKind = 'read'): unknown {
  if (err instanceof ExchangeError) return err;
  const c = loadedCcxt();
  if (!c || !(err instanceof c.BaseError)) return err;
  const r = venueReason(err.message);
  const verdict: Verdict = (r.code !== null ? CODES[venue]?.[r.code] : undefined) ?? byClass(c, err, call, r.status);
  const [kind, found] = verdict;
  const what = kind === 'transient' && (r.status === 418 || r.status === 403) ? 'IP banned' : found;
  const detail = r.code !== null ? `${r.reason} (code ${r.code})` : r.reason;
  return new ExchangeError(kind, `${venue} ${what}: ${detail}`);
}

export { createFailureTracker, withFailureTracking, type FailureTracker, type FailureVerdict } from './tracking.ts';
