/**
 * The Binance USDⓈ-M futures dialect of the double: the `/fapi` endpoints ccxt's `binanceusdm`
 * calls, HMAC-SHA256 query signatures with `X-MBX-APIKEY`, Binance's error codes and weights.
 */
import type { Dec } from '../../../runtime/exchange/precision.ts';
import type { Books, DoubleAccount, DoubleOrder, PlaceRefusal } from './books.ts';
import type { CandleSource } from './candles.ts';
import { candlesBetween } from './candles.ts';
import { decimals, header, hmacSha256, positionViews } from './kit.ts';
import type { Dialect, Reply, Route } from './types.ts';

const ok = (body: unknown): Reply => ({ status: 200, body });
const err = (status: number, code: number, msg: string): Reply => ({ status, body: { code, msg } });

const STATUS: Record<DoubleOrder['status'], string> = { open: 'NEW', closed: 'FILLED', canceled: 'CANCELED', rejected: 'REJECTED' };

const REFUSAL: Record<PlaceRefusal, [number, string]> = {
  duplicate: [-4116, 'ClientOrderId is duplicated.'],
  insufficient: [-2019, 'Margin is insufficient.'],
  precision: [-1111, 'Precision is over the maximum defined for this asset.'],
  minNotional: [-4164, "Order's notional must be no smaller than 5 (unless you choose reduce only)."],
  reduceOnly: [-2022, 'ReduceOnly Order is rejected.'],
  unknownSymbol: [-1121, 'Invalid symbol.'],
  badRequest: [-1102, 'Mandatory parameter was not sent, was empty/null, or malformed.'],
};

const s = (d: Dec | null, dp?: number): string => (d === null ? '0' : dp === undefined ? d.toFixed() : d.toFixed(dp));

function orderJson(o: DoubleOrder): Record<string, unknown> {
  const cumQuote = o.average ? o.filled.mul(o.average) : null;
  return {
    orderId: Number(o.id),
    symbol: o.symbol,
    status: STATUS[o.status],
    clientOrderId: o.clientOrderId,
    price: s(o.price),
    avgPrice: s(o.average),
    origQty: s(o.amount),
    executedQty: s(o.filled),
    cumQty: s(o.filled),
    cumQuote: s(cumQuote),
    timeInForce: o.type === 'limit' ? 'GTC' : 'GTC',
    type: o.type.toUpperCase(),
    reduceOnly: o.reduceOnly,
    closePosition: false,
    side: o.side.toUpperCase(),
    positionSide: 'BOTH',
    stopPrice: '0',
    workingType: 'CONTRACT_PRICE',
    priceProtect: false,
    origType: o.type.toUpperCase(),
    priceMatch: 'NONE',
    selfTradePreventionMode: 'NONE',
    goodTillDate: 0,
    time: o.createdAt,
    updateTime: o.updatedAt,
  };
}

function klineWeight(limit: number): number {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

/** Creates the Binance USDⓈ-M dialect over a candle source. */
export function binanceDialect(opts: { readonly candles: CandleSource; readonly now: () => number }): Dialect {
  const { candles, now } = opts;

  function exchangeInfo(books: Books): Reply {
    return ok({
      timezone: 'UTC',
      serverTime: now(),
      futuresType: 'U_MARGINED',
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
        { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
      ],
      exchangeFilters: [],
      assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
      symbols: [...books.markets.values()].map((m) => ({
        symbol: m.symbol,
        pair: m.symbol,
        contractType: 'PERPETUAL',
        deliveryDate: 4133404800000,
        onboardDate: 1569398400000,
        status: 'TRADING',
        maintMarginPercent: '2.5000',
        requiredMarginPercent: '5.0000',
        baseAsset: m.base,
        quoteAsset: m.quote,
        marginAsset: m.quote,
        pricePrecision: decimals(m.priceTick),
        quantityPrecision: decimals(m.amountStep),
        baseAssetPrecision: 8,
        quotePrecision: 8,
        underlyingType: 'COIN',
        underlyingSubType: [],
        triggerProtect: '0.0500',
        liquidationFee: '0.012500',
        marketTakeBound: '0.05',
        maxMoveOrderLimit: 10000,
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: m.priceTick, maxPrice: '4529764', tickSize: m.priceTick },
          { filterType: 'LOT_SIZE', minQty: m.minAmount, maxQty: '1000000', stepSize: m.amountStep },
          { filterType: 'MARKET_LOT_SIZE', minQty: m.minAmount, maxQty: '1000000', stepSize: m.amountStep },
          { filterType: 'MAX_NUM_ORDERS', limit: 200 },
          { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
          { filterType: 'MIN_NOTIONAL', notional: m.minCost },
          { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
        ],
        orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
        timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      })),
    });
  }

  function account(books: Books, acc: DoubleAccount): Reply {
    const b = books.balance(acc);
    const usdt = {
      asset: 'USDT',
      walletBalance: s(b.wallet, 8),
      unrealizedProfit: s(b.unrealized, 8),
      marginBalance: s(b.equity, 8),
      maintMargin: '0.00000000',
      initialMargin: s(b.positionMargin.plus(b.orderMargin), 8),
      positionInitialMargin: s(b.positionMargin, 8),
      openOrderInitialMargin: s(b.orderMargin, 8),
      crossWalletBalance: s(b.wallet, 8),
      crossUnPnl: s(b.unrealized, 8),
      availableBalance: s(b.available, 8),
      maxWithdrawAmount: s(b.available, 8),
      updateTime: now(),
    };
    return ok({
      totalInitialMargin: usdt.initialMargin,
      totalMaintMargin: '0.00000000',
      totalWalletBalance: usdt.walletBalance,
      totalUnrealizedProfit: usdt.unrealizedProfit,
      totalMarginBalance: usdt.marginBalance,
      totalPositionInitialMargin: usdt.positionInitialMargin,
      totalOpenOrderInitialMargin: usdt.openOrderInitialMargin,
      totalCrossWalletBalance: usdt.crossWalletBalance,
      totalCrossUnPnl: usdt.crossUnPnl,
      availableBalance: usdt.availableBalance,
      maxWithdrawAmount: usdt.maxWithdrawAmount,
      assets: [usdt],
      positions: positionViews(books, acc).map((v) => ({
        symbol: v.symbol,
        positionSide: 'BOTH',
        positionAmt: s(v.amount),
        unrealizedProfit: s(v.upnl, 8),
        isolatedMargin: '0',
        notional: s(v.amount.mul(v.mark), 8),
        isolatedWallet: '0',
        initialMargin: s(v.margin, 8),
        maintMargin: '0',
        updateTime: now(),
      })),
    });
  }

  function positionRisk(books: Books, acc: DoubleAccount, symbol: string | undefined): Reply {
    const rows = positionViews(books, acc, symbol).map((v) => {
      const im = v.margin;
      const markIm = v.amount.abs().mul(v.mark).div(v.leverage);
      return {
        symbol: v.symbol,
        positionSide: 'BOTH',
        positionAmt: s(v.amount),
        entryPrice: s(v.entry),
        breakEvenPrice: s(v.entry),
        markPrice: s(v.mark),
        unRealizedProfit: s(v.upnl, 8),
        liquidationPrice: '0',
        isolatedMargin: v.isolated ? s(im.plus(v.upnl), 8) : '0',
        notional: s(v.amount.mul(v.mark), 8),
        marginAsset: 'USDT',
        isolatedWallet: v.isolated ? s(im, 8) : '0',
        initialMargin: s(markIm, 8),
        maintMargin: '0',
        positionInitialMargin: s(markIm, 8),
        openOrderInitialMargin: '0',
        adl: 0,
        bidNotional: '0',
        askNotional: '0',
        updateTime: now(),
      };
    });
    return ok(rows);
  }

  function klines(books: Books, p: Record<string, string>): Reply {
    const symbol = p['symbol'] ?? '';
    if (!books.markets.has(symbol)) return err(400, -1121, 'Invalid symbol.');
    if (p['interval'] !== '1m') return err(400, -1120, 'Invalid interval.');
    const limit = Math.min(1500, Number(p['limit'] ?? 500));
    const list = candlesBetween(candles, symbol, {
      start: p['startTime'] === undefined ? undefined : Number(p['startTime']),
      end: p['endTime'] === undefined ? undefined : Number(p['endTime']),
      limit,
      now: now(),
      fromStart: p['startTime'] !== undefined,
    });
    return ok(
      list.map((c) => [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.openTime + 59_999, '0', 1, '0', '0', '0']),
    );
  }

  function createOrder(books: Books, acc: DoubleAccount, p: Record<string, string>): Reply {
    const type = (p['type'] ?? '').toLowerCase();
    if (type !== 'market' && type !== 'limit') return err(400, -1116, 'Invalid orderType.');
    if (p['stopLoss'] !== undefined || p['takeProfit'] !== undefined) return err(400, -1104, 'Not all sent parameters were read.');
    const res = books.place(acc, {
      symbol: p['symbol'] ?? '',
      side: (p['side'] ?? '').toLowerCase() === 'sell' ? 'sell' : 'buy',
      type,
      amount: p['quantity'] ?? '',
      price: p['price'],
      clientOrderId: p['newClientOrderId'],
      reduceOnly: p['reduceOnly'] === 'true',
    });
    if (!res.ok) {
      const [code, msg] = REFUSAL[res.refusal];
      return err(400, code, msg);
    }
    const body = orderJson(res.order);
    // Binance's default for futures is ACK: an order as just accepted.
    if ((p['newOrderRespType'] ?? 'ACK') === 'ACK')
      return ok({ ...body, status: 'NEW', executedQty: '0', cumQty: '0', cumQuote: '0', avgPrice: '0.00' });
    return ok(body);
  }

  return {
    venue: 'binanceusdm',

    route(req, books): Route | null {
      const p = req.params;
      const key = `${req.method} ${req.path}`;
      const symbol = p['symbol'];
      switch (key) {
        case 'GET /fapi/v1/ping':
          return { op: 'time', signed: false, weight: 1, handle: () => ok({}) };
        case 'GET /fapi/v1/time':
          return { op: 'time', signed: false, weight: 1, handle: () => ok({ serverTime: now() }) };
        case 'GET /fapi/v1/exchangeInfo':
          return { op: 'markets', signed: false, weight: 1, handle: () => exchangeInfo(books) };
        case 'GET /fapi/v1/klines':
          return { op: 'klines', signed: false, weight: klineWeight(Number(p['limit'] ?? 500)), handle: () => klines(books, p) };
        case 'GET /fapi/v1/ticker/price':
        case 'GET /fapi/v2/ticker/price':
          return {
            op: 'tickers',
            signed: false,
            weight: symbol ? 1 : 2,
            handle: () => {
              const row = (sym: string) => ({ symbol: sym, price: books.priceOf(sym).toFixed(), time: now() });
              if (symbol) return books.markets.has(symbol) ? ok(row(symbol)) : err(400, -1121, 'Invalid symbol.');
              return ok([...books.markets.keys()].map(row));
            },
          };
        case 'GET /fapi/v1/premiumIndex':
          return {
            op: 'tickers',
            signed: false,
            weight: symbol ? 1 : 10,
            handle: () => {
              const row = (sym: string) => ({
                symbol: sym,
                markPrice: books.priceOf(sym).toFixed(),
                indexPrice: books.priceOf(sym).toFixed(),
                lastFundingRate: '0.0001',
                nextFundingTime: now() + 3_600_000,
                time: now(),
              });
              return symbol ? ok(row(symbol)) : ok([...books.markets.keys()].map(row));
            },
          };
        case 'GET /fapi/v3/account':
        case 'GET /fapi/v2/account':
          return { op: 'balance', signed: true, weight: 5, handle: (acc) => account(books, acc as DoubleAccount) };
        case 'GET /fapi/v3/positionRisk':
        case 'GET /fapi/v2/positionRisk':
          return { op: 'positions', signed: true, weight: 5, handle: (acc) => positionRisk(books, acc as DoubleAccount, symbol) };
        case 'GET /fapi/v1/leverageBracket':
          return {
            op: 'leverageBrackets',
            signed: true,
            weight: 1,
            handle: () =>
              ok(
                [...books.markets.values()].map((m) => ({
                  symbol: m.symbol,
                  brackets: [
                    { bracket: 1, initialLeverage: m.maxLeverage, notionalCap: 50_000, notionalFloor: 0, maintMarginRatio: 0.004, cum: 0 },
                  ],
                })),
              ),
          };
        case 'GET /fapi/v1/openOrders':
          return {
            op: 'openOrders',
            signed: true,
            weight: symbol ? 1 : 40,
            handle: (acc) => ok(books.openOrders(acc as DoubleAccount, symbol).map(orderJson)),
          };
        case 'GET /fapi/v1/order':
          return {
            op: 'getOrder',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const o = books.find(acc as DoubleAccount, symbol, { id: p['orderId'], clientOrderId: p['origClientOrderId'] });
              return o ? ok(orderJson(o)) : err(400, -2013, 'Order does not exist.');
            },
          };
        case 'POST /fapi/v1/order':
          return { op: 'createOrder', signed: true, weight: 1, handle: (acc) => createOrder(books, acc as DoubleAccount, p) };
        case 'DELETE /fapi/v1/order':
          return {
            op: 'cancelOrder',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const o = books.cancel(acc as DoubleAccount, symbol ?? '', { id: p['orderId'], clientOrderId: p['origClientOrderId'] });
              return o ? ok(orderJson(o)) : err(400, -2011, 'Unknown order sent.');
            },
          };
        case 'POST /fapi/v1/leverage':
          return {
            op: 'setLeverage',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const m = books.markets.get(symbol ?? '');
              const lev = Number(p['leverage']);
              if (!m) return err(400, -1121, 'Invalid symbol.');
              if (!Number.isInteger(lev) || lev < 1 || lev > m.maxLeverage) return err(400, -4028, `Leverage ${p['leverage']} is not valid`);
              (acc as DoubleAccount).leverage.set(m.symbol, lev);
              return ok({ leverage: lev, maxNotionalValue: '1000000', symbol: m.symbol });
            },
          };
        case 'POST /fapi/v1/marginType':
          return {
            op: 'setMarginMode',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const a = acc as DoubleAccount;
              const mode = (p['marginType'] ?? '').toUpperCase() === 'ISOLATED' ? 'isolated' : 'cross';
              if (!books.markets.has(symbol ?? '')) return err(400, -1121, 'Invalid symbol.');
              if ((a.marginMode.get(symbol as string) ?? 'cross') === mode) return err(400, -4046, 'No need to change margin type.');
              if (a.positions.has(symbol as string)) return err(400, -4048, 'Margin type cannot be changed if there exists position.');
              a.marginMode.set(symbol as string, mode);
              return ok({ code: 200, msg: 'success' });
            },
          };
        default:
          return null;
      }
    },

    authenticate(req, books) {
      const apiKey = header(req, 'x-mbx-apikey');
      if (!apiKey) return { reply: err(401, -2014, 'API-key format invalid.') };
      const acc = books.account(apiKey);
      if (!acc) return { reply: err(401, -2015, 'Invalid API-key, IP, or permissions for action.') };
      const total = [req.rawQuery, req.rawBody].filter((x) => x.length > 0).join('&');
      const m = /(?:^|&)signature=([0-9a-f]+)/.exec(total);
      const payload = total.replace(/&?signature=[0-9a-f]+/, '');
      const expected = hmacSha256(acc.secret, payload, 'hex');
      if (!m || m[1] !== expected) return { reply: err(400, -1022, 'Signature for this request is not valid.') };
      return { acc };
    },

    apiKeyOf: (req) => header(req, 'x-mbx-apikey') ?? null,

    clientOrderIdOf(req, op) {
      if (op === 'createOrder') return req.params['newClientOrderId'] ?? null;
      if (op === 'getOrder' || op === 'cancelOrder') return req.params['origClientOrderId'] ?? null;
      return null;
    },

    rateLimited: (retryAfterSec) => ({
      status: 429,
      headers: { 'Retry-After': String(retryAfterSec) },
      body: {
        code: -1003,
        msg: 'Too many requests; current limit of IP(127.0.0.1) request weight per minute is 2400. Please use WebSocket Streams for live updates to avoid polling the API.',
      },
    }),
    banned: (retryAfterSec) => ({
      status: 418,
      headers: { 'Retry-After': String(retryAfterSec) },
      body: { code: -1003, msg: `Way too many requests; IP(127.0.0.1) banned until ${now() + retryAfterSec * 1000}. Please use the websocket for live updates to avoid bans.` },
    }),
    serverError: (status) => ({ status, body: { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' } }),
    duplicate: () => err(400, -4116, 'ClientOrderId is duplicated.'),
  };
}
