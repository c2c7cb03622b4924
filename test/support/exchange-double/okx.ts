/**
 * The OKX v5 dialect of the double (USDT-margined perpetual swaps, net position mode): the
 * `/api/v5` endpoints ccxt's `okx` calls, `OK-ACCESS-*` headers signed with a base64
 * HMAC-SHA256 of timestamp + method + path (+ query) + body plus the key's passphrase, and
 * OKX's `{code, msg, data}` replies with a per-order `sCode`/`sMsg` for order operations.
 *
 * OKX counts swaps in contracts: one contract here is ten amount steps of the market (`ctVal`)
 * and the lot is a tenth of a contract, so the platform's step maps back exactly.
 */
import { Dec, dec } from '../../../runtime/exchange/precision.ts';
import type { Books, DoubleAccount, DoubleMarket, DoubleOrder, PlaceRefusal } from './books.ts';
import type { CandleSource } from './candles.ts';
import { candlesBetween } from './candles.ts';
import { header, hmacSha256, jsonBody, positionViews } from './kit.ts';
import type { Dialect, DoubleOp, DoubleRequest, Reply, Route } from './types.ts';

/** Contracts per lot (`lotSz`). */
const LOT = dec('0.1');
/** Candles per request at most: 300 recent, 100 from the history endpoint (ccxt asks for up to 300 on both). */
const MAX_CANDLES = 300;
const MAX_HISTORY_CANDLES = 100;
const MINUTE = 60_000;

const STATE: Record<DoubleOrder['status'], string> = { open: 'live', closed: 'filled', canceled: 'canceled', rejected: 'canceled' };

const REFUSAL: Record<PlaceRefusal, [string, string]> = {
  duplicate: ['51016', 'Duplicated clOrdId'],
  insufficient: ['51008', 'Order failed. Insufficient USDT margin in account'],
  precision: ['51121', 'Order quantity must be a multiple of the lot size.'],
  minNotional: ['51020', 'Your order should meet or exceed the minimum order amount.'],
  reduceOnly: ['51169', "Order failed because you don't have any positions in this direction for this contract."],
  unknownSymbol: ['51001', "Instrument ID or Spread ID doesn't exist."],
  badRequest: ['51000', 'Parameter sz error'],
};

/** Base units per contract of a market. */
const ctVal = (m: DoubleMarket): Dec => dec(m.amountStep).mul(10);
const instIdOf = (m: DoubleMarket): string => `${m.base}-${m.quote}-SWAP`;
const str = (d: Dec | null): string => (d === null ? '' : d.toFixed());
const CLORDID = /^[A-Za-z0-9]{1,32}$/;

/** Creates the OKX v5 dialect over a candle source. */
export function okxDialect(opts: { readonly candles: CandleSource; readonly now: () => number }): Dialect {
  const { candles, now } = opts;
  const ok = (data: unknown): Reply => ({ status: 200, body: { code: '0', msg: '', data } });
  const fail = (code: string, msg: string, status = 200): Reply => ({ status, body: { code, msg, data: [] } });
  /** An order operation refused: OKX answers 200 with the reason per order in `data`. */
  const opFail = (batch: boolean, rows: readonly Record<string, string>[]): Reply => ({
    status: 200,
    body: { code: '1', msg: batch ? 'All operations failed' : 'Operation failed.', data: rows },
  });

  const marketOf = (books: Books, instId: string | undefined): DoubleMarket | undefined => {
    for (const m of books.markets.values()) if (instIdOf(m) === instId) return m;
    return undefined;
  };

  function orderJson(books: Books, acc: DoubleAccount, o: DoubleOrder): Record<string, unknown> {
    const m = books.markets.get(o.symbol) as DoubleMarket;
    const cv = ctVal(m);
    const filled = o.filled.div(cv).toFixed();
    const attached =
      o.stopLoss || o.takeProfit
        ? [
            {
              attachAlgoId: `${o.id}1`,
              attachAlgoClOrdId: '',
              tpOrdKind: 'condition',
              tpTriggerPx: str(o.takeProfit),
              tpTriggerPxType: o.takeProfit ? 'last' : '',
              tpOrdPx: o.takeProfit ? '-1' : '',
              slTriggerPx: str(o.stopLoss),
              slTriggerPxType: o.stopLoss ? 'last' : '',
              slOrdPx: o.stopLoss ? '-1' : '',
              sz: '',
              amendPxOnTriggerType: '0',
              failCode: '',
              failReason: '',
            },
          ]
        : [];
    return {
      instType: 'SWAP',
      instId: instIdOf(m),
      tgtCcy: '',
      ccy: '',
      ordId: o.id,
      clOrdId: o.clientOrderId,
      tag: '',
      px: str(o.price),
      pxUsd: '',
      pxVol: '',
      pxType: '',
      sz: o.amount.div(cv).toFixed(),
      pnl: '0',
      ordType: o.type,
      side: o.side,
      posSide: 'net',
      tdMode: acc.marginMode.get(o.symbol) ?? 'cross',
      accFillSz: filled,
      fillPx: str(o.average),
      tradeId: o.average ? `${o.id}0` : '',
      fillSz: filled,
      fillTime: o.status === 'closed' ? String(o.updatedAt) : '',
      avgPx: str(o.average),
      state: STATE[o.status],
      stpId: '',
      stpMode: 'cancel_maker',
      lever: String(books.leverageOf(acc, o.symbol)),
      attachAlgoClOrdId: '',
      tpTriggerPx: '',
      tpTriggerPxType: '',
      tpOrdPx: '',
      slTriggerPx: '',
      slTriggerPxType: '',
      slOrdPx: '',
      attachAlgoOrds: attached,
      linkedAlgoOrd: { algoId: '' },
      feeCcy: 'USDT',
      fee: o.fee.isZero() ? '0' : o.fee.neg().toFixed(),
      rebateCcy: 'USDT',
      rebate: '0',
      source: '',
      category: 'normal',
      reduceOnly: String(o.reduceOnly),
      isTpLimit: 'false',
      cancelSource: o.status === 'canceled' ? '1' : '',
      cancelSourceReason: o.status === 'canceled' ? 'Order canceled by user' : '',
      quickMgnType: '',
      algoClOrdId: '',
      algoId: '',
      uTime: String(o.updatedAt),
      cTime: String(o.createdAt),
    };
  }

  function instruments(books: Books, p: Record<string, string>): Reply {
    if (!p['instType']) return fail('50014', 'Parameter instType can not be empty.', 400);
    if (p['instType'] !== 'SWAP') return ok([]);
    return ok(
      [...books.markets.values()].map((m) => {
        const cv = ctVal(m);
        return {
          alias: '',
          auctionEndTime: '',
          baseCcy: '',
          category: '1',
          ctMult: '1',
          ctType: 'linear',
          ctVal: cv.toFixed(),
          ctValCcy: m.base,
          expTime: '',
          instFamily: `${m.base}-${m.quote}`,
          instId: instIdOf(m),
          instType: 'SWAP',
          lever: String(m.maxLeverage),
          listTime: '1611916828000',
          lotSz: LOT.toFixed(),
          maxIcebergSz: '100000000',
          maxLmtAmt: '20000000',
          maxLmtSz: '100000000',
          maxMktAmt: '',
          maxMktSz: '10000',
          maxStopSz: '10000',
          maxTriggerSz: '100000000',
          maxTwapSz: '100000000',
          minSz: dec(m.minAmount).div(cv).toFixed(),
          optType: '',
          quoteCcy: '',
          ruleType: 'normal',
          settleCcy: m.quote,
          state: 'live',
          stk: '',
          tickSz: m.priceTick,
          uly: `${m.base}-${m.quote}`,
        };
      }),
    );
  }

  function ticker(books: Books, m: DoubleMarket): Record<string, string> {
    const px = books.priceOf(m.symbol).toFixed();
    const ts = String(now());
    return { instType: 'SWAP', instId: instIdOf(m), last: px, lastSz: '1', askPx: px, askSz: '1', bidPx: px, bidSz: '1', open24h: px, high24h: px, low24h: px, volCcy24h: '0', vol24h: '0', ts, sodUtc0: px, sodUtc8: px };
  }

  function candleRows(books: Books, p: Record<string, string>, history: boolean): Reply {
    const m = marketOf(books, p['instId']);
    if (!m) return fail('51001', "Instrument ID or Spread ID doesn't exist.", 400);
    if ((p['bar'] ?? '1m') !== '1m') return fail('51000', 'Parameter bar error', 400);
    const limit = Math.min(history ? MAX_HISTORY_CANDLES : MAX_CANDLES, Number(p['limit'] ?? 100));
    if (!(limit >= 1)) return fail('51000', 'Parameter limit error', 400);
    // `after` asks for older records than it, `before` for newer: both bounds are exclusive.
    const after = p['after'] === undefined ? undefined : Number(p['after']);
    const before = p['before'] === undefined ? undefined : Number(p['before']);
    const list = candlesBetween(candles, m.symbol, {
      start: before === undefined ? undefined : before + 1,
      end: after === undefined ? undefined : after - 1,
      limit,
      now: now(),
      fromStart: false,
    });
    const cv = ctVal(m);
    return ok(
      list
        .reverse()
        .map((c) => [
          String(c.openTime),
          c.open,
          c.high,
          c.low,
          c.close,
          dec(c.volume).div(cv).toFixed(),
          c.volume,
          dec(c.volume).mul(c.close).toFixed(),
          c.openTime + MINUTE <= now() ? '1' : '0',
        ]),
    );
  }

  function balance(books: Books, acc: DoubleAccount): Reply {
    const b = books.balance(acc);
    let isoEq = dec(0);
    for (const v of positionViews(books, acc)) if (v.isolated) isoEq = isoEq.plus(v.margin).plus(v.upnl);
    const frozen = b.positionMargin.plus(b.orderMargin);
    const t = String(now());
    return ok([
      {
        adjEq: '',
        borrowFroz: '',
        imr: '',
        isoEq: isoEq.toFixed(),
        mgnRatio: '',
        mmr: '',
        notionalUsd: '',
        ordFroz: '',
        totalEq: b.equity.toFixed(),
        uTime: t,
        upl: b.unrealized.toFixed(),
        details: [
          {
            ccy: 'USDT',
            eq: b.equity.toFixed(),
            cashBal: b.wallet.toFixed(),
            availBal: b.available.toFixed(),
            availEq: b.available.toFixed(),
            frozenBal: frozen.toFixed(),
            ordFrozen: b.orderMargin.toFixed(),
            isoEq: isoEq.toFixed(),
            upl: b.unrealized.toFixed(),
            eqUsd: b.equity.toFixed(),
            disEq: b.equity.toFixed(),
            fixedBal: '0',
            interest: '',
            liab: '',
            maxLoan: '',
            mgnRatio: '',
            notionalLever: '',
            stgyEq: '0',
            twap: '0',
            uTime: t,
          },
        ],
      },
    ]);
  }

  function positions(books: Books, acc: DoubleAccount, p: Record<string, string>): Reply {
    if (p['instType'] !== undefined && p['instType'] !== 'SWAP' && p['instType'] !== 'ANY') return ok([]);
    const wanted = p['instId'] ? new Set(p['instId'].split(',')) : null;
    const rows = positionViews(books, acc)
      .map((v) => ({ v, m: books.markets.get(v.symbol) as DoubleMarket }))
      .filter(({ m }) => wanted === null || wanted.has(instIdOf(m)))
      .map(({ v, m }) => {
        const notional = v.amount.abs().mul(v.mark);
        const stops =
          v.stopLoss || v.takeProfit
            ? [{ algoId: `${v.symbol}-tpsl`, slTriggerPx: str(v.stopLoss), slTriggerPxType: v.stopLoss ? 'last' : '', tpTriggerPx: str(v.takeProfit), tpTriggerPxType: v.takeProfit ? 'last' : '', closeFraction: '1' }]
            : [];
        return {
          adl: '1',
          availPos: v.isolated ? v.amount.abs().div(ctVal(m)).toFixed() : '',
          avgPx: v.entry.toFixed(),
          bePx: v.entry.toFixed(),
          cTime: '1700000000000',
          ccy: 'USDT',
          closeOrderAlgo: stops,
          imr: v.isolated ? '' : v.margin.toFixed(),
          instId: instIdOf(m),
          instType: 'SWAP',
          idxPx: v.mark.toFixed(),
          last: v.mark.toFixed(),
          lever: String(v.leverage),
          liqPx: '',
          margin: v.isolated ? v.margin.toFixed() : '',
          markPx: v.mark.toFixed(),
          mgnMode: v.isolated ? 'isolated' : 'cross',
          mgnRatio: '',
          mmr: '0',
          notionalUsd: notional.toFixed(),
          pos: v.amount.div(ctVal(m)).toFixed(),
          posCcy: '',
          posId: `${v.symbol}-net`,
          posSide: 'net',
          realizedPnl: '0',
          pnl: '0',
          fee: '0',
          fundingFee: '0',
          uTime: String(now()),
          upl: v.upnl.toFixed(),
          uplLastPx: v.upnl.toFixed(),
          uplRatio: v.margin.isZero() ? '0' : v.upnl.div(v.margin).toDecimalPlaces(8, Dec.ROUND_HALF_EVEN).toFixed(),
          usdPx: '',
        };
      });
    return ok(rows);
  }

  /** One order of a place request, placed or refused; the row OKX answers for it. */
  function placeOne(books: Books, acc: DoubleAccount, o: Record<string, unknown>): { ok: boolean; row: Record<string, string> } {
    const clOrdId = typeof o['clOrdId'] === 'string' ? o['clOrdId'] : '';
    const refuse = (sCode: string, sMsg: string) => ({ ok: false, row: { clOrdId, ordId: '', tag: '', ts: String(now()), sCode, sMsg } });
    const m = marketOf(books, typeof o['instId'] === 'string' ? o['instId'] : undefined);
    if (!m) return refuse(...REFUSAL.unknownSymbol);
    if (clOrdId !== '' && !CLORDID.test(clOrdId)) return refuse('51000', 'Parameter clOrdId error');
    const tdMode = o['tdMode'];
    if (tdMode !== 'isolated' && tdMode !== 'cross') return refuse('51000', 'Parameter tdMode error');
    const ordType = o['ordType'];
    if (ordType !== 'market' && ordType !== 'limit') return refuse('51000', 'Parameter ordType error');
    const side = o['side'];
    if (side !== 'buy' && side !== 'sell') return refuse('51000', 'Parameter side error');
    if (o['posSide'] !== undefined && o['posSide'] !== 'net') return refuse('51000', 'Parameter posSide error');
    let contracts: Dec;
    try {
      contracts = dec(String(o['sz']));
    } catch {
      return refuse('51000', 'Parameter sz error');
    }
    if (contracts.lte(0)) return refuse('51000', 'Parameter sz error');
    if (!contracts.mod(LOT).isZero()) return refuse(...REFUSAL.precision);
    const attached = Array.isArray(o['attachAlgoOrds']) ? (o['attachAlgoOrds'][0] as Record<string, unknown> | undefined) : undefined;
    const trigger = (key: string): string | undefined => {
      const v = attached?.[key] ?? o[key];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const fresh = !acc.positions.has(m.symbol);
    const res = books.place(acc, {
      symbol: m.symbol,
      side,
      type: ordType,
      amount: contracts.mul(ctVal(m)).toFixed(),
      price: typeof o['px'] === 'string' ? o['px'] : undefined,
      clientOrderId: clOrdId === '' ? undefined : clOrdId,
      reduceOnly: o['reduceOnly'] === true || o['reduceOnly'] === 'true',
      stopLoss: trigger('slTriggerPx'),
      takeProfit: trigger('tpTriggerPx'),
      minNotional: false,
    });
    if (!res.ok) return refuse(...REFUSAL[res.refusal]);
    // The order's trade mode is the margin mode of the position it opens.
    if (fresh) acc.marginMode.set(m.symbol, tdMode);
    return { ok: true, row: { clOrdId: res.order.clientOrderId, ordId: res.order.id, tag: '', ts: String(now()), sCode: '0', sMsg: 'Order placed' } };
  }

  function place(books: Books, acc: DoubleAccount, req: DoubleRequest, batch: boolean): Reply {
    const body = jsonBody(req);
    const list = batch ? body : [body];
    if (!Array.isArray(list) || list.length === 0 || list.some((x) => !x || typeof x !== 'object' || Array.isArray(x)))
      return fail('50002', 'Json data format error.', 400);
    const results = (list as Record<string, unknown>[]).map((o) => placeOne(books, acc, o));
    const rows = results.map((r) => r.row);
    if (results.every((r) => !r.ok)) return opFail(batch, rows);
    if (results.some((r) => !r.ok)) return { status: 200, body: { code: '2', msg: '', data: rows } };
    return ok(rows);
  }

  function findOrder(books: Books, acc: DoubleAccount, p: Record<string, string>): { m: DoubleMarket; o: DoubleOrder | null } | Reply {
    const m = marketOf(books, p['instId']);
    if (!m) return fail('51001', "Instrument ID or Spread ID doesn't exist.", 400);
    if (!p['ordId'] && !p['clOrdId']) return fail('51000', 'Parameter ordId error', 400);
    return { m, o: books.find(acc, m.symbol, { id: p['ordId'], clientOrderId: p['clOrdId'] }) };
  }

  const setLeverage = (books: Books, acc: DoubleAccount, p: Record<string, string>): Reply => {
    const m = marketOf(books, p['instId']);
    if (!m) return fail('51001', "Instrument ID or Spread ID doesn't exist.", 400);
    const lev = Number(p['lever']);
    if (!Number.isInteger(lev) || lev < 1 || lev > m.maxLeverage) return fail('59102', `Leverage exceeds the maximum limit of ${m.maxLeverage}x for this instrument.`, 400);
    const mode = p['mgnMode'];
    if (mode !== 'isolated' && mode !== 'cross') return fail('51000', 'Parameter mgnMode error', 400);
    if ((acc.marginMode.get(m.symbol) ?? 'cross') !== mode && acc.positions.has(m.symbol))
      return fail('59000', 'Settings failed. Close any open positions or orders before modifying settings.', 400);
    acc.marginMode.set(m.symbol, mode);
    acc.leverage.set(m.symbol, lev);
    return ok([{ lever: String(lev), mgnMode: mode, instId: instIdOf(m), posSide: p['posSide'] ?? 'net' }]);
  };

  return {
    venue: 'okx',

    route(req, books): Route | null {
      const p = req.params;
      const signedRoute = (op: DoubleOp, handle: (acc: DoubleAccount) => Reply): Route => ({ op, signed: true, weight: 1, handle: (acc) => handle(acc as DoubleAccount) });
      switch (`${req.method} ${req.path}`) {
        case 'GET /api/v5/public/time':
          return { op: 'time', signed: false, weight: 1, handle: () => ok([{ ts: String(now()) }]) };
        case 'GET /api/v5/public/instruments':
          return { op: 'markets', signed: false, weight: 1, handle: () => instruments(books, p) };
        case 'GET /api/v5/market/candles':
          return { op: 'klines', signed: false, weight: 1, handle: () => candleRows(books, p, false) };
        case 'GET /api/v5/market/history-candles':
          return { op: 'klines', signed: false, weight: 1, handle: () => candleRows(books, p, true) };
        case 'GET /api/v5/market/tickers':
          return {
            op: 'tickers',
            signed: false,
            weight: 1,
            handle: () => (p['instType'] === 'SWAP' ? ok([...books.markets.values()].map((m) => ticker(books, m))) : ok([])),
          };
        case 'GET /api/v5/market/ticker':
          return {
            op: 'tickers',
            signed: false,
            weight: 1,
            handle: () => {
              const m = marketOf(books, p['instId']);
              return m ? ok([ticker(books, m)]) : fail('51001', "Instrument ID or Spread ID doesn't exist.", 400);
            },
          };
        case 'GET /api/v5/account/balance':
          return signedRoute('balance', (acc) => balance(books, acc));
        case 'GET /api/v5/account/positions':
          return signedRoute('positions', (acc) => positions(books, acc, p));
        case 'GET /api/v5/trade/orders-pending':
          return signedRoute('openOrders', (acc) => {
            const m = p['instId'] ? marketOf(books, p['instId']) : undefined;
            if (p['instId'] && !m) return fail('51001', "Instrument ID or Spread ID doesn't exist.", 400);
            return ok(books.openOrders(acc, m?.symbol).map((o) => orderJson(books, acc, o)));
          });
        case 'GET /api/v5/trade/order':
          return signedRoute('getOrder', (acc) => {
            const r = findOrder(books, acc, p);
            if ('status' in r) return r;
            return r.o ? ok([orderJson(books, acc, r.o)]) : fail('51603', 'Order does not exist');
          });
        case 'POST /api/v5/trade/order':
          return signedRoute('createOrder', (acc) => place(books, acc, req, false));
        case 'POST /api/v5/trade/batch-orders':
          return signedRoute('createOrder', (acc) => place(books, acc, req, true));
        case 'POST /api/v5/trade/cancel-order':
          return signedRoute('cancelOrder', (acc) => {
            const r = findOrder(books, acc, p);
            if ('status' in r) return r;
            const done = r.o ? books.cancel(acc, r.m.symbol, { id: r.o.id }) : null;
            const row = { clOrdId: r.o?.clientOrderId ?? p['clOrdId'] ?? '', ordId: r.o?.id ?? p['ordId'] ?? '', ts: String(now()) };
            if (!done) return opFail(false, [{ ...row, sCode: '51400', sMsg: 'Order cancellation failed as the order has been filled, canceled or does not exist.' }]);
            return ok([{ ...row, sCode: '0', sMsg: '' }]);
          });
        case 'POST /api/v5/account/set-leverage':
          return signedRoute('setLeverage', (acc) => setLeverage(books, acc, p));
        default:
          return null;
      }
    },

    apiKeyOf: (req) => header(req, 'ok-access-key') ?? null,

    authenticate(req, books) {
      const apiKey = header(req, 'ok-access-key');
      if (!apiKey) return { reply: fail('50103', 'Request header OK-ACCESS-KEY cannot be empty.', 401) };
      const acc = books.account(apiKey);
      if (!acc) return { reply: fail('50111', 'Invalid OK-ACCESS-KEY.', 401) };
      const passphrase = header(req, 'ok-access-passphrase');
      if (!passphrase) return { reply: fail('50104', 'Request header OK-ACCESS-PASSPHRASE cannot be empty.', 401) };
      if (passphrase !== acc.passphrase) return { reply: fail('50105', 'Invalid OK-ACCESS-PASSPHRASE.', 401) };
      const ts = header(req, 'ok-access-timestamp');
      if (!ts || !Number.isFinite(Date.parse(ts))) return { reply: fail('50112', 'Invalid OK-ACCESS-TIMESTAMP.', 401) };
      const path = req.rawQuery.length > 0 ? `${req.path}?${req.rawQuery}` : req.path;
      const expected = hmacSha256(acc.secret, `${ts}${req.method}${path}${req.rawBody}`, 'base64');
      if (header(req, 'ok-access-sign') !== expected) return { reply: fail('50113', 'Invalid Sign', 401) };
      return { acc };
    },

    clientOrderIdOf(req, op) {
      if (op === 'createOrder') {
        const body = jsonBody(req);
        const first = (Array.isArray(body) ? body[0] : body) as Record<string, unknown> | undefined;
        return typeof first?.['clOrdId'] === 'string' ? first['clOrdId'] : null;
      }
      if (op === 'getOrder' || op === 'cancelOrder') return req.params['clOrdId'] ?? null;
      return null;
    },

    // OKX sends no Retry-After; its 429 carries code 50011. It has no separate IP ban either.
    rateLimited: () => ({ status: 429, body: { msg: 'Too Many Requests', code: '50011' } }),
    banned: () => ({ status: 429, body: { msg: 'Too Many Requests', code: '50011' } }),
    serverError: (status) => ({ status, body: { code: '50001', msg: 'Service temporarily unavailable. Try again later', data: [] } }),
    duplicate: () => opFail(true, [{ clOrdId: '', ordId: '', tag: '', ts: String(now()), sCode: REFUSAL.duplicate[0], sMsg: REFUSAL.duplicate[1] }]),
  };
}
