/**
 * The Bitget v2 dialect of the double (USDT-M futures, classic account, one-way position mode):
 * the `/api/v2/mix` endpoints ccxt's `bitget` calls, `ACCESS-*` headers signed with a base64
 * HMAC-SHA256 of timestamp + method + path (+ sorted query) + body plus the key's passphrase,
 * and Bitget's `{code: '00000', msg, requestTime, data}` replies (errors: HTTP 400 and a code).
 */
import { dec } from '../../../runtime/exchange/precision.ts';
import type { Books, DoubleAccount, DoubleMarket, DoubleOrder, PlaceRefusal } from './books.ts';
import type { CandleSource } from './candles.ts';
import { candlesBetween } from './candles.ts';
import { decimals, header, hmacSha256, positionViews } from './kit.ts';
import type { Dialect, DoubleOp, DoubleRequest, Reply, Route } from './types.ts';

const PRODUCT = 'USDT-FUTURES';
/** Candles per request at most: the recent endpoint and the history one. */
const MAX_CANDLES = 1000;
const MAX_HISTORY_CANDLES = 200;

const STATE: Record<DoubleOrder['status'], string> = { open: 'live', closed: 'filled', canceled: 'canceled', rejected: 'canceled' };

const REFUSAL: Record<PlaceRefusal, [string, string]> = {
  duplicate: ['40786', 'Duplicate clientOid'],
  insufficient: ['40762', 'The order amount exceeds the balance'],
  precision: ['40808', 'Parameter verification exception size checkBDScale error'],
  minNotional: ['45110', 'less than the minimum amount 5 USDT'],
  reduceOnly: ['22002', 'No position to close'],
  unknownSymbol: ['40034', 'Parameter symbol does not exist'],
  badRequest: ['40017', 'Parameter verification failed'],
};

const str = (d: { toFixed(): string } | null): string => (d === null ? '' : d.toFixed());
const decoded = (q: string): string => {
  try {
    return decodeURIComponent(q);
  } catch {
    return q;
  }
};

/** Creates the Bitget v2 (mix) dialect over a candle source. */
export function bitgetDialect(opts: { readonly candles: CandleSource; readonly now: () => number }): Dialect {
  const { candles, now } = opts;
  const ok = (data: unknown): Reply => ({ status: 200, body: { code: '00000', msg: 'success', requestTime: now(), data } });
  const fail = (code: string, msg: string, status = 400): Reply => ({ status, body: { code, msg, requestTime: now(), data: null } });
  const badProduct = (p: Record<string, string>): Reply | null =>
    p['productType'] === undefined ? fail('40019', 'Parameter productType cannot be empty') : null;

  function orderJson(books: Books, acc: DoubleAccount, o: DoubleOrder): Record<string, unknown> {
    const quote = o.average ? o.filled.mul(o.average) : null;
    return {
      symbol: o.symbol,
      size: o.amount.toFixed(),
      orderId: o.id,
      clientOid: o.clientOrderId,
      baseVolume: o.filled.toFixed(),
      fee: o.fee.isZero() ? '0' : o.fee.neg().toFixed(),
      price: o.price ? o.price.toFixed() : '0',
      priceAvg: str(o.average),
      state: STATE[o.status],
      side: o.side,
      force: 'gtc',
      totalProfits: '0',
      posSide: 'net',
      marginCoin: 'USDT',
      presetStopSurplusPrice: str(o.takeProfit),
      presetStopLossPrice: str(o.stopLoss),
      quoteVolume: quote ? quote.toFixed() : '0',
      orderType: o.type,
      leverage: String(books.leverageOf(acc, o.symbol)),
      marginMode: (acc.marginMode.get(o.symbol) ?? 'cross') === 'isolated' ? 'isolated' : 'crossed',
      reduceOnly: o.reduceOnly ? 'YES' : 'NO',
      enterPointSource: 'API',
      tradeSide: o.side === 'buy' ? 'buy_single' : 'sell_single',
      posMode: 'one_way_mode',
      orderSource: o.type === 'market' ? 'market' : 'normal',
      cancelReason: '',
      cTime: String(o.createdAt),
      uTime: String(o.updatedAt),
    };
  }

  function contracts(books: Books, p: Record<string, string>): Reply {
    if (p['productType'] !== PRODUCT) return ok([]);
    return ok(
      [...books.markets.values()].map((m) => {
        const pricePlace = decimals(m.priceTick);
        return {
          symbol: m.symbol,
          baseCoin: m.base,
          quoteCoin: m.quote,
          buyLimitPriceRatio: '0.05',
          sellLimitPriceRatio: '0.05',
          feeRateUpRatio: '0.005',
          makerFeeRate: '0.0002',
          takerFeeRate: '0.0005',
          openCostUpRatio: '0.01',
          supportMarginCoins: [m.quote],
          minTradeNum: m.minAmount,
          priceEndStep: dec(m.priceTick).mul(dec(10).pow(pricePlace)).toFixed(),
          volumePlace: String(decimals(m.amountStep)),
          pricePlace: String(pricePlace),
          sizeMultiplier: m.amountStep,
          symbolType: 'perpetual',
          minTradeUSDT: m.minCost,
          maxSymbolOrderNum: '200',
          maxProductOrderNum: '400',
          maxPositionNum: '150',
          symbolStatus: 'normal',
          offTime: '-1',
          limitOpenTime: '-1',
          deliveryTime: '',
          deliveryStartTime: '',
          deliveryPeriod: '',
          launchTime: '',
          fundInterval: '8',
          minLever: '1',
          maxLever: String(m.maxLeverage),
          posLimit: '0.05',
          maintainTime: '',
          openTime: '',
        };
      }),
    );
  }

  function ticker(books: Books, m: DoubleMarket): Record<string, string> {
    const px = books.priceOf(m.symbol).toFixed();
    return {
      symbol: m.symbol,
      lastPr: px,
      askPr: px,
      bidPr: px,
      bidSz: '1',
      askSz: '1',
      high24h: px,
      low24h: px,
      ts: String(now()),
      change24h: '0',
      baseVolume: '0',
      quoteVolume: '0',
      usdtVolume: '0',
      openUtc: px,
      changeUtc24h: '0',
      indexPrice: px,
      fundingRate: '0.0001',
      holdingAmount: '0',
      deliveryStartTime: '',
      deliveryTime: '',
      deliveryStatus: '',
      open24h: px,
      markPrice: px,
    };
  }

  function candleRows(books: Books, p: Record<string, string>, history: boolean): Reply {
    const bad = badProduct(p);
    if (bad) return bad;
    const symbol = p['symbol'] ?? '';
    if (!books.markets.has(symbol)) return fail('40034', 'Parameter symbol does not exist');
    if (p['granularity'] !== '1m') return fail('40017', 'Parameter verification failed granularity');
    const limit = Math.min(history ? MAX_HISTORY_CANDLES : MAX_CANDLES, Number(p['limit'] ?? 100));
    if (!(limit >= 1)) return fail('40017', 'Parameter verification failed limit');
    // Both bounds inclusive; the newest `limit` candles of the range.
    const list = candlesBetween(candles, symbol, {
      start: p['startTime'] === undefined ? undefined : Number(p['startTime']),
      end: p['endTime'] === undefined ? undefined : Number(p['endTime']),
      limit,
      now: now(),
      fromStart: false,
    });
    return ok(list.map((c) => [String(c.openTime), c.open, c.high, c.low, c.close, c.volume, dec(c.volume).mul(c.close).toFixed()]));
  }

  function accounts(books: Books, acc: DoubleAccount, p: Record<string, string>): Reply {
    const bad = badProduct(p);
    if (bad) return bad;
    if (p['productType'] !== PRODUCT) return ok([]);
    const b = books.balance(acc);
    let isolatedMargin = dec(0);
    let crossedMargin = dec(0);
    let isolatedUpl = dec(0);
    let crossedUpl = dec(0);
    for (const v of positionViews(books, acc)) {
      if (v.isolated) {
        isolatedMargin = isolatedMargin.plus(v.margin);
        isolatedUpl = isolatedUpl.plus(v.upnl);
      } else {
        crossedMargin = crossedMargin.plus(v.margin);
        crossedUpl = crossedUpl.plus(v.upnl);
      }
    }
    // `available` is the cash balance (equity = available + unrealized P&L); what new
    // positions may use is `crossedMaxAvailable` / `isolatedMaxAvailable`; margin frozen by
    // open orders shows as `locked`.
    return ok([
      {
        marginCoin: 'USDT',
        locked: b.orderMargin.toFixed(),
        available: b.wallet.toFixed(),
        crossedMaxAvailable: b.available.toFixed(),
        isolatedMaxAvailable: b.available.toFixed(),
        maxTransferOut: b.available.toFixed(),
        accountEquity: b.equity.toFixed(),
        usdtEquity: b.equity.toFixed(),
        btcEquity: '0',
        crossedRiskRate: '0',
        unrealizedPL: b.unrealized.toFixed(),
        coupon: '0',
        unionTotalMargin: b.equity.toFixed(),
        unionAvailable: b.available.toFixed(),
        unionMm: '0',
        assetList: [],
        isolatedMargin: isolatedMargin.toFixed(),
        crossedMargin: crossedMargin.toFixed(),
        crossedUnrealizedPL: crossedUpl.toFixed(),
        isolatedUnrealizedPL: isolatedUpl.toFixed(),
        assetMode: 'single',
      },
    ]);
  }

  function positions(books: Books, acc: DoubleAccount, p: Record<string, string>): Reply {
    const bad = badProduct(p);
    if (bad) return bad;
    if (p['productType'] !== PRODUCT) return ok([]);
    return ok(
      positionViews(books, acc).map((v) => ({
        marginCoin: 'USDT',
        symbol: v.symbol,
        holdSide: v.amount.isNeg() ? 'short' : 'long',
        openDelegateSize: '0',
        marginSize: v.margin.toFixed(),
        available: v.amount.abs().toFixed(),
        locked: '0',
        total: v.amount.abs().toFixed(),
        leverage: String(v.leverage),
        achievedProfits: '0',
        openPriceAvg: v.entry.toFixed(),
        marginMode: v.isolated ? 'isolated' : 'crossed',
        posMode: 'one_way_mode',
        unrealizedPL: v.upnl.toFixed(),
        liquidationPrice: '0',
        keepMarginRate: '0.004',
        markPrice: v.mark.toFixed(),
        marginRatio: '0',
        breakEvenPrice: v.entry.toFixed(),
        totalFee: '0',
        deductedFee: '0',
        takeProfit: str(v.takeProfit),
        stopLoss: str(v.stopLoss),
        takeProfitId: v.takeProfit ? `${v.symbol}-tp` : '',
        stopLossId: v.stopLoss ? `${v.symbol}-sl` : '',
        cTime: '1700000000000',
        uTime: String(now()),
      })),
    );
  }

  function place(books: Books, acc: DoubleAccount, p: Record<string, string>): Reply {
    if (p['productType'] !== PRODUCT) return fail('40017', 'Parameter verification failed productType');
    if (p['marginCoin'] !== 'USDT') return fail('40017', 'Parameter verification failed marginCoin');
    const symbol = p['symbol'] ?? '';
    if (!books.markets.has(symbol)) return fail(...REFUSAL.unknownSymbol);
    const type = p['orderType'];
    if (type !== 'market' && type !== 'limit') return fail('40017', 'Parameter verification failed orderType');
    const side = p['side'];
    if (side !== 'buy' && side !== 'sell') return fail('40017', 'Parameter verification failed side');
    const mode = p['marginMode'];
    if (mode !== 'isolated' && mode !== 'crossed') return fail('40017', 'Parameter verification failed marginMode');
    // One-way mode: an open/close trade side is for hedge mode.
    if (p['tradeSide'] !== undefined) return fail('40774', 'The order type for unilateral position must also be the unilateral position type.');
    if (p['clientOid'] !== undefined && (p['clientOid'].length === 0 || p['clientOid'].length > 50)) return fail('40017', 'Parameter verification failed clientOid');
    const fresh = !acc.positions.has(symbol);
    const res = books.place(acc, {
      symbol,
      side,
      type,
      amount: p['size'] ?? '',
      price: p['price'],
      clientOrderId: p['clientOid'],
      reduceOnly: p['reduceOnly'] === 'YES',
      stopLoss: p['presetStopLossPrice'],
      takeProfit: p['presetStopSurplusPrice'],
    });
    if (!res.ok) return fail(...REFUSAL[res.refusal]);
    // The order's margin mode is that of the position it opens.
    if (fresh) acc.marginMode.set(symbol, mode === 'isolated' ? 'isolated' : 'cross');
    return ok({ clientOid: res.order.clientOrderId, orderId: res.order.id });
  }

  function findOrder(books: Books, acc: DoubleAccount, p: Record<string, string>): DoubleOrder | null | Reply {
    const bad = badProduct(p);
    if (bad) return bad;
    if (!books.markets.has(p['symbol'] ?? '')) return fail(...REFUSAL.unknownSymbol);
    if (!p['orderId'] && !p['clientOid']) return fail('40019', 'Parameter orderId or clientOid cannot be empty');
    return books.find(acc, p['symbol'], { id: p['orderId'], clientOrderId: p['clientOid'] });
  }

  const isReply = (x: unknown): x is Reply => typeof x === 'object' && x !== null && 'status' in x && 'body' in x;

  return {
    venue: 'bitget',

    route(req, books): Route | null {
      const p = req.params;
      const signedRoute = (op: DoubleOp, handle: (acc: DoubleAccount) => Reply): Route => ({ op, signed: true, weight: 1, handle: (acc) => handle(acc as DoubleAccount) });
      switch (`${req.method} ${req.path}`) {
        case 'GET /api/v2/public/time':
          return { op: 'time', signed: false, weight: 1, handle: () => ok({ serverTime: String(now()) }) };
        case 'GET /api/v2/mix/market/contracts':
          return { op: 'markets', signed: false, weight: 1, handle: () => contracts(books, p) };
        case 'GET /api/v2/mix/market/candles':
          return { op: 'klines', signed: false, weight: 1, handle: () => candleRows(books, p, false) };
        case 'GET /api/v2/mix/market/history-candles':
          return { op: 'klines', signed: false, weight: 1, handle: () => candleRows(books, p, true) };
        case 'GET /api/v2/mix/market/tickers':
          return { op: 'tickers', signed: false, weight: 1, handle: () => (p['productType'] === PRODUCT ? ok([...books.markets.values()].map((m) => ticker(books, m))) : ok([])) };
        case 'GET /api/v2/mix/market/ticker':
          return {
            op: 'tickers',
            signed: false,
            weight: 1,
            handle: () => {
              const m = books.markets.get(p['symbol'] ?? '');
              return m ? ok([ticker(books, m)]) : fail(...REFUSAL.unknownSymbol);
            },
          };
        case 'GET /api/v2/mix/account/accounts':
          return signedRoute('balance', (acc) => accounts(books, acc, p));
        case 'GET /api/v2/mix/position/all-position':
          return signedRoute('positions', (acc) => positions(books, acc, p));
        case 'GET /api/v2/mix/order/orders-pending':
          return signedRoute('openOrders', (acc) => {
            const bad = badProduct(p);
            if (bad) return bad;
            const list = p['productType'] === PRODUCT ? books.openOrders(acc, p['symbol']) : [];
            // Bitget answers `null` rather than an empty list.
            return ok({ entrustedList: list.length > 0 ? list.map((o) => orderJson(books, acc, o)) : null, endId: list.at(-1)?.id ?? null });
          });
        case 'GET /api/v2/mix/order/detail':
          return signedRoute('getOrder', (acc) => {
            const o = findOrder(books, acc, p);
            if (isReply(o)) return o;
            return o ? ok(orderJson(books, acc, o)) : fail('40109', 'The data of the order cannot be found, please confirm the order number');
          });
        case 'POST /api/v2/mix/order/place-order':
          return signedRoute('createOrder', (acc) => place(books, acc, p));
        case 'POST /api/v2/mix/order/cancel-order':
          return signedRoute('cancelOrder', (acc) => {
            const o = findOrder(books, acc, p);
            if (isReply(o)) return o;
            const done = o ? books.cancel(acc, o.symbol, { id: o.id }) : null;
            return done ? ok({ orderId: done.id, clientOid: done.clientOrderId }) : fail('40768', 'Order does not exist');
          });
        case 'POST /api/v2/mix/account/set-leverage':
          return signedRoute('setLeverage', (acc) => {
            const m = books.markets.get(p['symbol'] ?? '');
            if (!m) return fail(...REFUSAL.unknownSymbol);
            const lev = Number(p['leverage']);
            if (!Number.isInteger(lev) || lev < 1 || lev > m.maxLeverage) return fail('40017', `Parameter verification failed leverage must be between 1 and ${m.maxLeverage}`);
            acc.leverage.set(m.symbol, lev);
            const mode = (acc.marginMode.get(m.symbol) ?? 'cross') === 'isolated' ? 'isolated' : 'crossed';
            return ok({ symbol: m.symbol, marginCoin: 'USDT', longLeverage: String(lev), shortLeverage: String(lev), crossMarginLeverage: String(lev), marginMode: mode });
          });
        case 'POST /api/v2/mix/account/set-margin-mode':
          return signedRoute('setMarginMode', (acc) => {
            const m = books.markets.get(p['symbol'] ?? '');
            if (!m) return fail(...REFUSAL.unknownSymbol);
            const want = p['marginMode'];
            if (want !== 'isolated' && want !== 'crossed') return fail('40017', 'Parameter verification failed marginMode');
            const mode = want === 'isolated' ? 'isolated' : 'cross';
            if ((acc.marginMode.get(m.symbol) ?? 'cross') !== mode && (acc.positions.has(m.symbol) || books.openOrders(acc, m.symbol).length > 0))
              return fail('45117', 'Currently holding positions or orders, the margin mode cannot be adjusted');
            acc.marginMode.set(m.symbol, mode);
            const lev = String(books.leverageOf(acc, m.symbol));
            return ok({ symbol: m.symbol, marginCoin: 'USDT', longLeverage: lev, shortLeverage: lev, marginMode: want });
          });
        default:
          return null;
      }
    },

    apiKeyOf: (req) => header(req, 'access-key') ?? null,

    authenticate(req: DoubleRequest, books) {
      const apiKey = header(req, 'access-key');
      if (!apiKey) return { reply: fail('40001', 'ACCESS_KEY cannot be empty') };
      const acc = books.account(apiKey);
      if (!acc) return { reply: fail('40037', 'Apikey does not exist') };
      const passphrase = header(req, 'access-passphrase');
      if (!passphrase) return { reply: fail('40011', 'ACCESS_PASSPHRASE cannot be empty') };
      if (passphrase !== acc.passphrase) return { reply: fail('40012', 'apikey/password is incorrect') };
      const ts = header(req, 'access-timestamp');
      if (!ts || !/^\d+$/.test(ts)) return { reply: fail('40005', 'Invalid ACCESS_TIMESTAMP') };
      // GET signs the sorted query without percent-encoding; POST signs the JSON body.
      const queries = req.rawQuery.length === 0 ? [''] : [`?${req.rawQuery}`, `?${decoded(req.rawQuery)}`];
      const sign = header(req, 'access-sign');
      const valid = queries.some((q) => hmacSha256(acc.secret, `${ts}${req.method}${req.path}${q}${req.rawBody}`, 'base64') === sign);
      if (!valid) return { reply: fail('40009', 'sign signature error') };
      return { acc };
    },

    clientOrderIdOf(req, op) {
      if (op === 'createOrder' || op === 'getOrder' || op === 'cancelOrder') return req.params['clientOid'] ?? null;
      return null;
    },

    // Bitget sends no Retry-After; a 429 carries code 429. It has no separate IP ban either.
    rateLimited: () => ({ status: 429, body: { code: '429', msg: 'Too Many Requests', requestTime: now(), data: null } }),
    banned: () => ({ status: 429, body: { code: '429', msg: 'Too Many Requests', requestTime: now(), data: null } }),
    serverError: (status) => ({ status, body: { code: '40015', msg: 'System is abnormal, please try again later', requestTime: now(), data: null } }),
    duplicate: () => fail(...REFUSAL.duplicate),
  };
}
