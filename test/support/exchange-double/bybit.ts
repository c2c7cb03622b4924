/**
 * The Bybit v5 dialect of the double (unified trading account, linear USDT perpetuals): the
 * `/v5` endpoints ccxt's `bybit` calls, `X-BAPI-*` HMAC signatures, `retCode` errors.
 */
import type { Dec } from '../../../runtime/exchange/precision.ts';
import type { Books, DoubleAccount, DoubleOrder, PlaceRefusal } from './books.ts';
import type { CandleSource } from './candles.ts';
import { candlesBetween } from './candles.ts';
import { decimals, header, hmacSha256, positionViews } from './kit.ts';
import type { Dialect, DoubleRequest, Reply, Route } from './types.ts';

const STATUS: Record<DoubleOrder['status'], string> = { open: 'New', closed: 'Filled', canceled: 'Cancelled', rejected: 'Rejected' };

const REFUSAL: Record<PlaceRefusal, [number, string]> = {
  duplicate: [110072, 'OrderLinkedID is duplicate'],
  insufficient: [110007, 'ab not enough for new order'],
  precision: [10001, 'Qty invalid'],
  minNotional: [110094, 'Order does not meet minimum order value 5USDT'],
  reduceOnly: [110017, 'current position is zero, cannot fix reduce-only order qty'],
  unknownSymbol: [10001, 'params error: symbol invalid'],
  badRequest: [10001, 'params error'],
};

const s = (d: Dec | null): string => (d === null ? '' : d.toFixed());

function orderJson(o: DoubleOrder): Record<string, unknown> {
  const value = o.average ? o.filled.mul(o.average) : null;
  return {
    orderId: o.id,
    orderLinkId: o.clientOrderId,
    blockTradeId: '',
    symbol: o.symbol,
    price: o.price ? o.price.toFixed() : '0',
    qty: o.amount.toFixed(),
    side: o.side === 'buy' ? 'Buy' : 'Sell',
    isLeverage: '',
    positionIdx: 0,
    orderStatus: STATUS[o.status],
    cancelType: o.status === 'canceled' ? 'CancelByUser' : 'UNKNOWN',
    rejectReason: 'EC_NoError',
    avgPrice: o.average ? o.average.toFixed() : '',
    leavesQty: o.status === 'open' ? o.amount.minus(o.filled).toFixed() : '0',
    leavesValue: '0',
    cumExecQty: o.filled.toFixed(),
    cumExecValue: value ? value.toFixed() : '0',
    cumExecFee: o.fee.toFixed(),
    cumFeeDetail: o.fee.isZero() ? {} : { USDT: o.fee.toFixed() },
    timeInForce: o.type === 'market' ? 'IOC' : 'GTC',
    orderType: o.type === 'market' ? 'Market' : 'Limit',
    stopOrderType: '',
    orderIv: '',
    triggerPrice: '',
    takeProfit: s(o.takeProfit),
    stopLoss: s(o.stopLoss),
    tpTriggerBy: '',
    slTriggerBy: '',
    triggerDirection: 0,
    triggerBy: '',
    lastPriceOnCreated: '',
    reduceOnly: o.reduceOnly,
    closeOnTrigger: false,
    smpType: 'None',
    smpGroup: 0,
    smpOrderId: '',
    tpslMode: o.stopLoss || o.takeProfit ? 'Full' : '',
    tpLimitPrice: '',
    slLimitPrice: '',
    placeType: '',
    createdTime: String(o.createdAt),
    updatedTime: String(o.updatedAt),
  };
}

/** Creates the Bybit v5 dialect over a candle source. */
export function bybitDialect(opts: { readonly candles: CandleSource; readonly now: () => number }): Dialect {
  const { candles, now } = opts;
  const ok = (result: unknown): Reply => ({ status: 200, body: { retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: now() } });
  const fail = (code: number, msg: string, status = 200): Reply => ({ status, body: { retCode: code, retMsg: msg, result: {}, retExtInfo: {}, time: now() } });

  function instruments(books: Books, p: Record<string, string>): Reply {
    if (p['status'] === 'PreLaunch' || p['category'] !== 'linear') return ok({ category: p['category'] ?? 'linear', list: [], nextPageCursor: '' });
    return ok({
      category: 'linear',
      nextPageCursor: '',
      list: [...books.markets.values()].map((m) => ({
        symbol: m.symbol,
        contractType: 'LinearPerpetual',
        status: 'Trading',
        baseCoin: m.base,
        quoteCoin: m.quote,
        launchTime: '1585526400000',
        deliveryTime: '0',
        deliveryFeeRate: '',
        priceScale: String(decimals(m.priceTick)),
        leverageFilter: { minLeverage: '1', maxLeverage: `${m.maxLeverage}.00`, leverageStep: '0.01' },
        priceFilter: { minPrice: m.priceTick, maxPrice: '1999999.80', tickSize: m.priceTick },
        lotSizeFilter: {
          maxOrderQty: '1190.000',
          minOrderQty: m.minAmount,
          qtyStep: m.amountStep,
          postOnlyMaxOrderQty: '1190.000',
          maxMktOrderQty: '500.000',
          minNotionalValue: m.minCost,
        },
        unifiedMarginTrade: true,
        fundingInterval: 480,
        settleCoin: m.quote,
        copyTrading: 'both',
        upperFundingRate: '0.00375',
        lowerFundingRate: '-0.00375',
      })),
    });
  }

  function wallet(books: Books, acc: DoubleAccount): Reply {
    const b = books.balance(acc);
    const im = b.positionMargin.plus(b.orderMargin);
    return ok({
      list: [
        {
          accountType: 'UNIFIED',
          accountIMRate: '0',
          accountMMRate: '0',
          totalEquity: b.equity.toFixed(),
          totalWalletBalance: b.wallet.toFixed(),
          totalMarginBalance: b.equity.toFixed(),
          totalAvailableBalance: b.available.toFixed(),
          totalPerpUPL: b.unrealized.toFixed(),
          totalInitialMargin: im.toFixed(),
          totalMaintenanceMargin: '0',
          accountLTV: '0',
          coin: [
            {
              coin: 'USDT',
              equity: b.equity.toFixed(),
              usdValue: b.equity.toFixed(),
              walletBalance: b.wallet.toFixed(),
              free: '',
              locked: '0',
              borrowAmount: '0',
              availableToWithdraw: b.available.toFixed(),
              availableToBorrow: '',
              accruedInterest: '0',
              totalOrderIM: b.orderMargin.toFixed(),
              totalPositionIM: b.positionMargin.toFixed(),
              totalPositionMM: '0',
              unrealisedPnl: b.unrealized.toFixed(),
              cumRealisedPnl: '0',
              bonus: '0',
              collateralSwitch: true,
              marginCollateral: true,
              spotHedgingQty: '0',
            },
          ],
        },
      ],
    });
  }

  function positions(books: Books, acc: DoubleAccount, symbol: string | undefined): Reply {
    const list = positionViews(books, acc, symbol).map((v) => ({
      positionIdx: 0,
      riskId: 1,
      riskLimitValue: '2000000',
      symbol: v.symbol,
      side: v.amount.isNeg() ? 'Sell' : 'Buy',
      size: v.amount.abs().toFixed(),
      avgPrice: v.entry.toFixed(),
      positionValue: v.amount.abs().mul(v.entry).toFixed(),
      tradeMode: v.isolated ? 1 : 0,
      autoAddMargin: 0,
      positionStatus: 'Normal',
      leverage: String(v.leverage),
      markPrice: v.mark.toFixed(),
      liqPrice: '',
      bustPrice: '',
      positionIM: v.margin.toFixed(),
      positionMM: '0',
      positionBalance: v.margin.toFixed(),
      tpslMode: 'Full',
      takeProfit: v.takeProfit ? v.takeProfit.toFixed() : '0',
      stopLoss: v.stopLoss ? v.stopLoss.toFixed() : '0',
      trailingStop: '0',
      unrealisedPnl: v.upnl.toFixed(),
      curRealisedPnl: '0',
      cumRealisedPnl: '0',
      adlRankIndicator: 2,
      createdTime: '1676538056258',
      updatedTime: String(now()),
      seq: 1,
      isReduceOnly: false,
      mmrSysUpdatedTime: '',
      leverageSysUpdatedTime: '',
    }));
    return ok({ category: 'linear', list, nextPageCursor: '' });
  }

  function klines(books: Books, p: Record<string, string>): Reply {
    const symbol = p['symbol'] ?? '';
    if (!books.markets.has(symbol)) return fail(10001, 'params error: symbol invalid');
    if (p['interval'] !== '1') return fail(10001, 'params error: interval invalid');
    const limit = Math.min(1000, Number(p['limit'] ?? 200));
    const list = candlesBetween(candles, symbol, {
      start: p['start'] === undefined ? undefined : Number(p['start']),
      end: p['end'] === undefined ? undefined : Number(p['end']),
      limit,
      now: now(),
      fromStart: false,
    });
    return ok({
      category: 'linear',
      symbol,
      list: list.reverse().map((c) => [String(c.openTime), c.open, c.high, c.low, c.close, c.volume, '0']),
    });
  }

  function orders(books: Books, acc: DoubleAccount, p: Record<string, string>, history: boolean): Reply {
    let list: DoubleOrder[];
    if (p['orderLinkId'] || p['orderId']) {
      const o = books.find(acc, p['symbol'], { id: p['orderId'], clientOrderId: p['orderLinkId'] });
      // realtime answers open orders (and recent closed ones); history answers finished ones.
      list = o && (history ? o.status !== 'open' : true) ? [o] : [];
    } else if (history) {
      list = [...acc.orders.values()].filter((o) => o.status !== 'open' && (p['symbol'] === undefined || o.symbol === p['symbol']));
    } else {
      list = books.openOrders(acc, p['symbol']);
    }
    return ok({ category: 'linear', list: list.map(orderJson), nextPageCursor: '' });
  }

  function create(books: Books, acc: DoubleAccount, p: Record<string, string>): Reply {
    const type = (p['orderType'] ?? '').toLowerCase();
    if (type !== 'market' && type !== 'limit') return fail(10001, 'params error: orderType invalid');
    const res = books.place(acc, {
      symbol: p['symbol'] ?? '',
      side: p['side'] === 'Sell' ? 'sell' : 'buy',
      type,
      amount: p['qty'] ?? '',
      price: p['price'],
      clientOrderId: p['orderLinkId'],
      reduceOnly: p['reduceOnly'] === 'true',
      stopLoss: p['stopLoss'],
      takeProfit: p['takeProfit'],
    });
    if (!res.ok) {
      const [code, msg] = REFUSAL[res.refusal];
      return fail(code, msg);
    }
    return ok({ orderId: res.order.id, orderLinkId: res.order.clientOrderId });
  }

  return {
    venue: 'bybit',

    route(req, books): Route | null {
      const p = req.params;
      switch (`${req.method} ${req.path}`) {
        case 'GET /v5/market/time':
          return {
            op: 'time',
            signed: false,
            weight: 1,
            handle: () => ok({ timeSecond: String(Math.floor(now() / 1000)), timeNano: `${now()}000000` }),
          };
        case 'GET /v5/market/instruments-info':
          return { op: 'markets', signed: false, weight: 1, handle: () => instruments(books, p) };
        case 'GET /v5/market/kline':
          return { op: 'klines', signed: false, weight: 1, handle: () => klines(books, p) };
        case 'GET /v5/market/tickers':
          return {
            op: 'tickers',
            signed: false,
            weight: 1,
            handle: () =>
              ok({
                category: 'linear',
                list: [...books.markets.keys()]
                  .filter((sym) => p['symbol'] === undefined || sym === p['symbol'])
                  .map((sym) => {
                    const px = books.priceOf(sym).toFixed();
                    return { symbol: sym, lastPrice: px, markPrice: px, indexPrice: px, bid1Price: px, ask1Price: px, volume24h: '0', turnover24h: '0' };
                  }),
              }),
          };
        case 'GET /v5/account/wallet-balance':
          return { op: 'balance', signed: true, weight: 1, handle: (acc) => wallet(books, acc as DoubleAccount) };
        case 'GET /v5/position/list':
          return { op: 'positions', signed: true, weight: 1, handle: (acc) => positions(books, acc as DoubleAccount, p['symbol']) };
        case 'GET /v5/order/realtime':
          return {
            op: p['orderLinkId'] || p['orderId'] ? 'getOrder' : 'openOrders',
            signed: true,
            weight: 1,
            handle: (acc) => orders(books, acc as DoubleAccount, p, false),
          };
        case 'GET /v5/order/history':
          return { op: 'getOrder', signed: true, weight: 1, handle: (acc) => orders(books, acc as DoubleAccount, p, true) };
        case 'POST /v5/order/create':
          return { op: 'createOrder', signed: true, weight: 1, handle: (acc) => create(books, acc as DoubleAccount, p) };
        case 'POST /v5/order/cancel':
          return {
            op: 'cancelOrder',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const o = books.cancel(acc as DoubleAccount, p['symbol'] ?? '', { id: p['orderId'], clientOrderId: p['orderLinkId'] });
              return o ? ok({ orderId: o.id, orderLinkId: o.clientOrderId }) : fail(110001, 'order not exists or too late to cancel');
            },
          };
        case 'POST /v5/position/set-leverage':
          return {
            op: 'setLeverage',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const a = acc as DoubleAccount;
              const m = books.markets.get(p['symbol'] ?? '');
              const lev = Number(p['buyLeverage']);
              if (!m) return fail(10001, 'params error: symbol invalid');
              if (!(lev >= 1 && lev <= m.maxLeverage)) return fail(110013, 'cannot set leverage due to risk limit level');
              if (books.leverageOf(a, m.symbol) === lev && a.leverage.has(m.symbol)) return fail(110043, 'leverage not modified');
              a.leverage.set(m.symbol, lev);
              return ok({});
            },
          };
        case 'POST /v5/account/set-margin-mode':
          return {
            op: 'setMarginMode',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const a = acc as DoubleAccount;
              const mode = p['setMarginMode'] === 'ISOLATED_MARGIN' ? 'isolated' : 'cross';
              for (const sym of books.markets.keys()) a.marginMode.set(sym, mode);
              return ok({ reasons: [] });
            },
          };
        case 'POST /v5/position/switch-isolated':
          return {
            op: 'setMarginMode',
            signed: true,
            weight: 1,
            handle: (acc) => {
              const a = acc as DoubleAccount;
              const mode = p['tradeMode'] === '1' ? 'isolated' : 'cross';
              if ((a.marginMode.get(p['symbol'] ?? '') ?? 'cross') === mode) return fail(110026, 'Cross/isolated margin mode is not modified');
              a.marginMode.set(p['symbol'] ?? '', mode);
              return ok({});
            },
          };
        default:
          return null;
      }
    },

    authenticate(req, books) {
      const h = (name: string): string | undefined => header(req, name);
      const apiKey = h('x-bapi-api-key');
      if (!apiKey) return { reply: fail(10003, 'API key is invalid.', 401) };
      const acc = books.account(apiKey);
      if (!acc) return { reply: fail(10003, 'API key is invalid.', 401) };
      const payload = `${h('x-bapi-timestamp') ?? ''}${apiKey}${h('x-bapi-recv-window') ?? ''}${req.method === 'POST' ? req.rawBody : req.rawQuery}`;
      const expected = hmacSha256(acc.secret, payload, 'hex');
      if (h('x-bapi-sign') !== expected) return { reply: fail(10004, 'error sign! origin_string[...]', 401) };
      return { acc };
    },

    apiKeyOf: (req) => header(req, 'x-bapi-api-key') ?? null,

    clientOrderIdOf(req: DoubleRequest) {
      return req.params['orderLinkId'] ?? null;
    },

    rateLimited: (retryAfterSec) => ({
      status: 200,
      headers: {
        'Retry-After': String(retryAfterSec),
        'X-Bapi-Limit-Status': '0',
        'X-Bapi-Limit-Reset-Timestamp': String(now() + retryAfterSec * 1000),
      },
      body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: now() },
    }),
    banned: (retryAfterSec) => ({
      status: 403,
      headers: { 'Retry-After': String(retryAfterSec) },
      body: '<html><body>403 Forbidden: access too frequent</body></html>',
    }),
    serverError: (status) => ({ status, body: { retCode: 10016, retMsg: 'Internal server error.', result: {}, retExtInfo: {}, time: now() } }),
    duplicate: () => fail(110072, 'OrderLinkedID is duplicate'),
  };
}
