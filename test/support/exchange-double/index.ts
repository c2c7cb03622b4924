/**
 * The loopback exchange double for ccxt tests: Binance USDⓈ-M and Bybit v5 dialects, own books,
 * a request log with venue weights, and injectable faults.
 */
export { startExchangeDouble, connectDouble, type ExchangeDouble, type ExchangeDoubleOptions } from './server.ts';
export { Books, type DoubleAccount, type DoubleMarket, type DoubleOrder, type PlaceRequest } from './books.ts';
export type { CandleSource, DoubleCandle } from './candles.ts';
export type { DoubleOp, Fault, FaultRule, LogEntry } from './types.ts';
export { createMemoryOrders, type MemoryOrders } from './orders.ts';
