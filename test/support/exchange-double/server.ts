/**
 * The exchange double: a loopback HTTP server (node:http, random port) speaking the REST dialect
 * of Binance USDⓈ-M, Bybit v5, OKX v5 or Bitget v2 (USDT perpetuals) as ccxt calls it, keeping
 * its own books, logging every request with its venue weight, enforcing an optional venue rate
 * limit, and injecting faults on demand.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { rewriteApiUrls } from '../../../runtime/exchange/ccxt/adapter.ts';
import { SYNTHETIC_MARKETS } from '../../../runtime/market/markets.ts';
import { binanceDialect } from './binance.ts';
import { bitgetDialect } from './bitget.ts';
import { Books, type DoubleAccount, type DoubleMarket, type PlaceRequest } from './books.ts';
import { bybitDialect } from './bybit.ts';
import type { CandleSource } from './candles.ts';
import { okxDialect } from './okx.ts';
import type { Dialect, DoubleOp, DoubleRequest, DoubleVenue, Fault, FaultRule, LogEntry, Reply } from './types.ts';

/** One account of the double: an API key, its secret (and passphrase on OKX and Bitget) and a USDT wallet. */
export interface DoubleAccountSpec {
  readonly apiKey: string;
  readonly secret: string;
  readonly wallet: string;
  readonly passphrase?: string;
}

const DIALECTS: Readonly<Record<DoubleVenue, (opts: { readonly candles: CandleSource; readonly now: () => number }) => Dialect>> = {
  binanceusdm: binanceDialect,
  bybit: bybitDialect,
  okx: okxDialect,
  bitget: bitgetDialect,
};

/** Options of {@link startExchangeDouble}. */
export interface ExchangeDoubleOptions {
  readonly venue: DoubleVenue;
  /** Listed markets (default: the ten synthetic USDT perpetuals). */
  readonly markets?: readonly DoubleMarket[];
  /** Accounts by API key. */
  readonly accounts?: readonly DoubleAccountSpec[];
  /** Initial last prices. */
  readonly prices?: Readonly<Record<string, string>>;
  /** A live price source consulted before every request (e.g. the synthetic candles' close). */
  readonly price?: (symbol: string, now: number) => string | undefined;
  /** 1-minute candles (default: flat candles at the last price). */
  readonly candles?: CandleSource;
  /** The venue's time (default the wall clock). */
  readonly now?: () => number;
  /** The venue's own IP weight limit over a sliding window; beyond it the double answers 429. */
  readonly limit?: { readonly weight: number; readonly windowMs: number; readonly retryAfterSec?: number };
}

/** A running double. */
export interface ExchangeDouble {
  readonly venue: DoubleVenue;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly books: Books;
  /** Every request in arrival order. */
  readonly log: LogEntry[];
  /** Arms a fault for the next matching request(s). */
  inject(rule: FaultRule): void;
  /** Faults still armed. */
  armed(): number;
  openAccount(apiKey: string, secret: string, wallet: string, passphrase?: string): DoubleAccount;
  setPrice(symbol: string, price: string): void;
  /** Create-order requests that reached the double (optionally for one client order id). */
  creates(clientOrderId?: string): number;
  /** The largest weight inside any sliding window of `windowMs` (requests served since `since`, a log index). */
  maxWindowWeight(windowMs: number, since?: number): number;
  /** Sets (or with null lifts) the venue's own rate limit, counting from the next request. */
  setLimit(limit: ExchangeDoubleOptions['limit'] | null): void;
  /** Changes behind the platform's back. */
  readonly manual: {
    setPosition(apiKey: string, symbol: string, signedAmount: string, entry?: string): void;
    placeOrder(apiKey: string, req: PlaceRequest): void;
    cancelOrder(apiKey: string, symbol: string, clientOrderId: string): void;
  };
  close(): Promise<void>;
}

interface ArmedRule {
  readonly rule: FaultRule;
  left: number;
}

const flatCandles =
  (books: Books): CandleSource =>
  (symbol) => {
    const p = books.priceOf(symbol).toFixed();
    return { open: p, high: p, low: p, close: p, volume: '1' };
  };

/** Starts a double on 127.0.0.1 at a random port. */
export async function startExchangeDouble(opts: ExchangeDoubleOptions): Promise<ExchangeDouble> {
  const now = opts.now ?? (() => Date.now());
  const markets = opts.markets ?? SYNTHETIC_MARKETS;
  const books = new Books(markets, now);
  for (const a of opts.accounts ?? []) books.openAccount(a.apiKey, a.secret, a.wallet, a.passphrase);
  for (const [sym, p] of Object.entries(opts.prices ?? {})) books.setPrice(sym, p);
  const candles = opts.candles ?? flatCandles(books);
  const make = DIALECTS[opts.venue];
  if (!make) throw new Error(`double: unknown venue ${String(opts.venue)}`);
  const dialect: Dialect = make({ candles, now });
  const log: LogEntry[] = [];
  let limit = opts.limit ?? null;
  /** The venue limit counts requests from this log index on. */
  let limitFrom = 0;
  const faults: ArmedRule[] = [];
  const held = new Set<ServerResponse>();

  const refreshPrices = () => {
    if (!opts.price) return;
    const t = now();
    for (const sym of books.markets.keys()) {
      const p = opts.price(sym, t);
      if (p !== undefined && books.prices.get(sym)?.toFixed() !== p) books.setPrice(sym, p);
    }
  };

  const takeFault = (op: DoubleOp, method: string, cid: string | null): Fault | null => {
    for (const a of faults) {
      const r = a.rule;
      if (a.left <= 0) continue;
      if (r.op !== undefined && r.op !== op) continue;
      if (r.method !== undefined && r.method !== method) continue;
      if (r.clientOrderId !== undefined && r.clientOrderId !== cid) continue;
      a.left -= 1;
      return r.fault;
    }
    return null;
  };

  const windowWeight = (at: number, windowMs: number): number => {
    let sum = 0;
    for (let i = log.length - 1; i >= limitFrom; i--) {
      const e = log[i] as LogEntry;
      if (e.at <= at - windowMs) break;
      if (e.fault !== 'venueLimit' && e.fault !== 'rateLimit' && e.fault !== 'ban') sum += e.weight;
    }
    return sum;
  };

  const send = (res: ServerResponse, entry: LogEntry | null, reply: Reply) => {
    if (entry) entry.status = reply.status;
    const text = typeof reply.body === 'string';
    const body = text ? (reply.body as string) : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': text ? 'text/html' : 'application/json', ...(reply.headers ?? {}) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = performance.timeOrigin + performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    let payload: unknown = Object.fromEntries(url.searchParams);
    if (rawBody.length > 0) {
      if ((req.headers['content-type'] ?? '').includes('json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(rawBody);
        } catch {
          log.push({ at, method: req.method ?? 'GET', path: url.pathname, op: 'other', apiKey: null, weight: 1, clientOrderId: null, payload: rawBody, status: 400, fault: null });
          send(res, null, { status: 400, body: { code: -1102, msg: 'double: the request body is not JSON' } });
          return;
        }
        payload = parsed;
        // An array body (OKX batch orders) stays in `payload`; its dialect reads the raw body.
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          for (const [k, v] of Object.entries(parsed)) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
      } else {
        for (const [k, v] of new URLSearchParams(rawBody)) params[k] = v;
        payload = { ...params };
      }
    }
    const dreq: DoubleRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      params,
      rawQuery: url.search.startsWith('?') ? url.search.slice(1) : url.search,
      rawBody,
      headers: req.headers,
    };
    refreshPrices();
    const route = dialect.route(dreq, books);
    if (!route) {
      log.push({ at, method: dreq.method, path: dreq.path, op: 'other', apiKey: dialect.apiKeyOf(dreq), weight: 1, clientOrderId: null, payload, status: 404, fault: null });
      send(res, null, { status: 404, body: { code: -5000, msg: `double: no route for ${dreq.method} ${dreq.path}` } });
      return;
    }
    const cid = dialect.clientOrderIdOf(dreq, route.op);
    const entry: LogEntry = {
      at,
      method: dreq.method,
      path: dreq.path,
      op: route.op,
      apiKey: dialect.apiKeyOf(dreq),
      weight: route.weight,
      clientOrderId: cid,
      payload,
      status: 0,
      fault: null,
    };
    if (limit && windowWeight(at, limit.windowMs) + route.weight > limit.weight) {
      entry.fault = 'venueLimit';
      log.push(entry);
      send(res, entry, dialect.rateLimited(limit.retryAfterSec ?? 1));
      return;
    }
    log.push(entry);
    const fault = takeFault(route.op, dreq.method, cid);
    if (fault) entry.fault = fault.kind;
    const after = fault !== null && 'afterAccept' in fault && fault.afterAccept === true;
    if (fault && !after) {
      switch (fault.kind) {
        case 'rateLimit':
          return send(res, entry, dialect.rateLimited(fault.retryAfterSec ?? 1));
        case 'ban':
          return send(res, entry, dialect.banned(fault.retryAfterSec ?? 1));
        case 'serverError':
          return send(res, entry, dialect.serverError(fault.status ?? 503));
        case 'timeout':
          held.add(res);
          res.on('close', () => held.delete(res));
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'duplicate':
          return send(res, entry, dialect.duplicate());
      }
    }
    let acc: DoubleAccount | null = null;
    if (route.signed) {
      const auth = dialect.authenticate(dreq, books);
      if ('reply' in auth) return send(res, entry, auth.reply);
      acc = auth.acc;
    }
    const reply = route.handle(acc);
    if (fault && after) {
      if (fault.kind === 'serverError') return send(res, entry, dialect.serverError(fault.status ?? 502));
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    send(res, entry, reply);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: -1000, msg: `double failed: ${e instanceof Error ? e.message : String(e)}` }));
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const accountOf = (apiKey: string): DoubleAccount => {
    const acc = books.account(apiKey);
    if (!acc) throw new Error(`double: no account ${apiKey}`);
    return acc;
  };

  return {
    venue: opts.venue,
    url: `http://127.0.0.1:${port}`,
    books,
    log,
    inject(rule) {
      faults.push({ rule, left: rule.times ?? 1 });
    },
    armed: () => faults.reduce((n, a) => n + Math.max(0, a.left), 0),
    openAccount: (apiKey, secret, wallet, passphrase) => books.openAccount(apiKey, secret, wallet, passphrase),
    setPrice: (symbol, price) => books.setPrice(symbol, price),
    creates: (clientOrderId) => log.filter((e) => e.op === 'createOrder' && (clientOrderId === undefined || e.clientOrderId === clientOrderId)).length,
    setLimit(next) {
      limit = next ?? null;
      limitFrom = log.length;
    },
    maxWindowWeight(windowMs, since = 0) {
      const served = log.slice(since).filter((e) => e.fault !== 'venueLimit' && e.fault !== 'rateLimit' && e.fault !== 'ban');
      let max = 0;
      let sum = 0;
      let lo = 0;
      for (const e of served) {
        sum += e.weight;
        while ((served[lo] as LogEntry).at <= e.at - windowMs) sum -= (served[lo++] as LogEntry).weight;
        max = Math.max(max, sum);
      }
      return max;
    },
    manual: {
      setPosition: (apiKey, symbol, signedAmount, entry) => books.setPosition(accountOf(apiKey), symbol, signedAmount, entry),
      placeOrder(apiKey, req) {
        const r = books.place(accountOf(apiKey), req);
        if (!r.ok) throw new Error(`double: manual order refused: ${r.message}`);
      },
      cancelOrder(apiKey, symbol, clientOrderId) {
        if (!books.cancel(accountOf(apiKey), symbol, { clientOrderId })) throw new Error(`double: no open order ${clientOrderId}`);
      },
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Points a ccxt exchange at a double (or any base URL): every string in `exchange.urls.api`
 * becomes `http://127.0.0.1:PORT` + its original path (the adapter's `apiBaseUrl` does the same).
 */
export function connectDouble(exchange: { urls: Record<string, unknown> }, target: ExchangeDouble | string): void {
  rewriteApiUrls(exchange, typeof target === 'string' ? target : target.url);
}
