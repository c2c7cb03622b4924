/**
 * The loopback exchange double for ccxt tests: Binance USDⓈ-M, Bybit v5, OKX v5 and Bitget v2 dialects, own books,
 * a request log with venue weights, and injectable faults.
 */
export { startExchangeDouble, connectDouble, type DoubleAccountSpec, type ExchangeDouble, type ExchangeDoubleOptions } from './server.ts';
export { Books, type DoubleAccount, type DoubleMarket, type DoubleOrder, type PlaceRequest } from './books.ts';
export type { CandleSource, DoubleCandle } from './candles.ts';
export type { DoubleOp, DoubleVenue, Fault, FaultRule, LogEntry } from './types.ts';
export { createMemoryOrders, type MemoryOrders } from './orders.ts';
