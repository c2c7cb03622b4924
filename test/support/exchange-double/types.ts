/**
 * Shared shapes of the exchange double: requests as a dialect sees them, replies, operations,
 * faults and the request log.
 */
import type { Books, DoubleAccount } from './books.ts';

/** The venues the double speaks. */
export type DoubleVenue = 'binanceusdm' | 'bybit' | 'okx' | 'bitget';

/** A venue-neutral name for what a request does (faults and the log match on it). */
export type DoubleOp =
  | 'time'
  | 'markets'
  | 'klines'
  | 'tickers'
  | 'balance'
  | 'positions'
  | 'leverageBrackets'
  | 'openOrders'
  | 'createOrder'
  | 'getOrder'
  | 'cancelOrder'
  | 'setLeverage'
  | 'setMarginMode'
  | 'other';

/** An HTTP reply. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A parsed request. */
export interface DoubleRequest {
  readonly method: string;
  readonly path: string;
  /** Query and body parameters merged. */
  readonly params: Readonly<Record<string, string>>;
  readonly rawQuery: string;
  readonly rawBody: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a dialect hands the server for one request. */
export interface Route {
  readonly op: DoubleOp;
  readonly signed: boolean;
  /** The venue's weight of this request on the IP budget. */
  readonly weight: number;
  /** Runs the request against the books (the account when signed). */
  handle(acc: DoubleAccount | null): Reply;
}

/** One venue's REST dialect. */
export interface Dialect {
  readonly venue: DoubleVenue;
  route(req: DoubleRequest, books: Books): Route | null;
  /** The API key the request names in the venue's header, if any (for the log). */
  apiKeyOf(req: DoubleRequest): string | null;
  /** Checks the API key header and the signature; the account or an error reply. */
  authenticate(req: DoubleRequest, books: Books): { readonly acc: DoubleAccount } | { readonly reply: Reply };
  /** The client order id a create or lookup names, for the log and for fault matching. */
  clientOrderIdOf(req: DoubleRequest, op: DoubleOp): string | null;
  rateLimited(retryAfterSec: number): Reply;
  banned(retryAfterSec: number): Reply;
  serverError(status: number): Reply;
  duplicate(): Reply;
}

/** A fault the double can inject. */
export type Fault =
  /** 429 Too Many Requests with Retry-After (seconds); the request is not processed. */
  | { readonly kind: 'rateLimit'; readonly retryAfterSec?: number }
  /** The venue's IP ban (Binance 418, Bybit 403; a 429 where the venue has none); not processed. */
  | { readonly kind: 'ban'; readonly retryAfterSec?: number }
  /** A 5xx; with `afterAccept` the request is processed first (an ambiguous outcome). */
  | { readonly kind: 'serverError'; readonly status?: number; readonly afterAccept?: boolean }
  /** No reply until the client gives up; with `afterAccept` the request is processed first. */
  | { readonly kind: 'timeout'; readonly afterAccept?: boolean }
  /** The connection is reset; with `afterAccept` the request is processed first. */
  | { readonly kind: 'reset'; readonly afterAccept?: boolean }
  /** The venue's duplicate-client-id refusal, whatever the books say. */
  | { readonly kind: 'duplicate' };

/** When and how often a fault fires. */
export interface FaultRule {
  readonly fault: Fault;
  readonly op?: DoubleOp;
  readonly method?: string;
  readonly clientOrderId?: string;
  /** How many matching requests it hits (default 1). */
  readonly times?: number;
}

/** One request as the double saw it. */
export interface LogEntry {
  /** Arrival time (ms, fractional, from the wall clock). */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly op: DoubleOp;
  readonly apiKey: string | null;
  readonly weight: number;
  readonly clientOrderId: string | null;
  /** What the request carried: its JSON body, else its query and form parameters. */
  readonly payload: unknown;
  /** The status replied, or 0 when no reply was sent (timeout or reset). */
  status: number;
  /** The fault that hit it, if any. */
  fault: Fault['kind'] | 'venueLimit' | null;
}
