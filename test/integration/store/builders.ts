/**
 * Record builders with defaults for the store tests.
 */
import { Ids } from '../../../runtime/domain.ts';
import type { Fill, Order } from '../../../runtime/exchange/port.ts';
import type {
  ActorStateRecord,
  CandleRecord,
  CycleRecord,
  EventRecord,
  ManagerRecord,
  MetricRecord,
  OrderRecord,
  StrategyFileRecord,
  StrategyVersionRecord,
  TraderRecord,
  UserRecord,
} from '../../../runtime/store/types.ts';

/** A user. */
export const aUser = (o: Partial<UserRecord> = {}): UserRecord => ({
  id: Ids.user('u-1'),
  email: 'ada@example.test',
  displayName: 'Ada',
  role: 'user',
  createdAt: 1_700_000_000_000,
  ...o,
});

/** A manager. */
export const aManager = (o: Partial<ManagerRecord> = {}): ManagerRecord => ({
  id: Ids.manager('m-1'),
  name: 'Alpha desk',
  capital: '100000.50',
  maxRestarts: 5,
  restartWindowMs: 600_000,
  createdAt: 1_700_000_000_001,
  ...o,
});

/** A trader of `u-1` under `m-1`. */
export const aTrader = (o: Partial<TraderRecord> = {}): TraderRecord => ({
  id: Ids.trader('t-1'),
  managerId: Ids.manager('m-1'),
  userId: Ids.user('u-1'),
  name: 'momentum bot',
  strategyName: 'momentum',
  strategyVersion: 3,
  params: { lookback: 20, symbols: ['BTCUSDT', 'ETHUSDT'], nested: { on: true, k: null } },
  venue: 'paper',
  accountId: 'paper:t-1',
  initialCapital: '1000.000000000000000001',
  leverage: 2,
  riskLimits: { maxOpenPositions: 3, dailyLossLimit: 0.05 },
  createdAt: 1_700_000_000_002,
  updatedAt: 1_700_000_000_003,
  ...o,
});

/** A persisted actor state. */
export const anActorState = (o: Partial<ActorStateRecord> = {}): ActorStateRecord => ({
  actorId: 't-1',
  kind: 'trader',
  status: 'paused',
  state: {
    pause: { by: 'risk', reason: 'daily stop-loss', scope: 'risk', at: 1_700_000_000_100 },
    error: null,
    restarts: [1_700_000_000_010, 1_700_000_000_020],
    escalated: false,
    lastCycleAt: 1_700_000_000_050,
    custom: { anything: [1, 'two'] },
  },
  updatedAt: 1_700_000_000_200,
  ...o,
});

/** An event. */
export const anEvent = (o: Partial<EventRecord> = {}): EventRecord => ({
  at: 1_700_000_000_000,
  type: 'trader.paused',
  severity: 'warning',
  traderId: 't-1',
  managerId: 'm-1',
  actor: 'risk',
  message: 'paused by the daily stop-loss',
  data: { loss: '0.051', symbols: ['BTCUSDT'] },
  ...o,
});

/** A strategy version without its number. */
export const aStrategyVersion = (o: Partial<Omit<StrategyVersionRecord, 'version'>> = {}): Omit<StrategyVersionRecord, 'version'> => ({
  name: 'momentum',
  hash: 'hash-a',
  filename: 'momentum.ts',
  language: 'ts',
  source: 'export default {}',
  compiled: 'export default {};',
  meta: {
    description: 'Buys strength',
    defaults: { lookback: 20 },
    universe: ['BTCUSDT', 'ETHUSDT'],
    timeframe: '1m',
    lookback: 20,
    paramsSchema: { type: 'object', properties: { lookback: { type: 'integer' } } },
  },
  createdAt: 1_700_000_000_000,
  ...o,
});

/** A strategy file as scanned. */
export const aStrategyFile = (o: Partial<StrategyFileRecord> = {}): StrategyFileRecord => ({
  filename: 'momentum.ts',
  hash: 'hash-a',
  status: 'valid',
  name: 'momentum',
  version: 1,
  error: null,
  updatedAt: 1_700_000_000_000,
  ...o,
});

/** A 1-minute candle. */
export const aCandle = (o: Partial<CandleRecord> = {}): CandleRecord => ({
  symbol: 'BTCUSDT',
  timeframe: '1m',
  openTime: 1_700_000_040_000,
  open: '65000.1',
  high: '65010.5',
  low: '64990',
  close: '65005.3',
  volume: '12.345',
  ...o,
});

/** A pending order record with every optional field set. */
export const anOrder = (o: Partial<OrderRecord> = {}): OrderRecord => ({
  clientOrderId: 'c1a2b3',
  traderId: Ids.trader('t-1'),
  cycleId: 't-1:1700000040000',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  amount: '0.001',
  price: '65000.1',
  reduceOnly: false,
  stopLoss: '60000',
  takeProfit: '70000',
  leverage: 3,
  status: 'pending',
  exchangeOrderId: null,
  filled: '0',
  average: null,
  fee: '0',
  reason: null,
  createdAt: 1_700_000_040_000,
  updatedAt: 1_700_000_040_000,
  ...o,
});

/** A venue order. */
export const aVenueOrder = (o: Partial<Order> = {}): Order => ({
  id: 'x-1',
  clientOrderId: 'c1a2b3',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'market',
  amount: '0.001',
  price: null,
  status: 'closed',
  filled: '0.001',
  average: '65001.2',
  fee: '0.0325006',
  reduceOnly: false,
  reason: null,
  timestamp: 1_700_000_041_000,
  ...o,
});

/** A fill. */
export const aFill = (o: Partial<Fill> = {}): Fill => ({
  orderId: 'x-1',
  clientOrderId: 'c1a2b3',
  symbol: 'BTCUSDT',
  side: 'buy',
  amount: '0.001',
  price: '65001.2',
  fee: '0.0325006',
  realizedPnl: '0',
  timestamp: 1_700_000_041_000,
  trigger: 'order',
  ...o,
});

/** A cycle decision record. */
export const aCycle = (o: Partial<CycleRecord> = {}): CycleRecord => ({
  cycleId: 't-1:1700000040000',
  traderId: Ids.trader('t-1'),
  strategyRef: 'momentum@3',
  params: { lookback: 20 },
  candleFrom: 1_699_999_000_000,
  candleTo: 1_700_000_040_000,
  targets: { BTCUSDT: { weight: 0.5, stopLoss: 0.02 }, ETHUSDT: { weight: -0.25 } },
  plan: [{ symbol: 'BTCUSDT', side: 'buy', amount: '0.001', decision: 'allowed' }],
  status: 'completed',
  error: null,
  startedAt: 1_700_000_040_000,
  finishedAt: 1_700_000_040_500,
  ...o,
});

/** A metrics point. */
export const aMetric = (o: Partial<MetricRecord> = {}): MetricRecord => ({
  scope: 'trader',
  scopeId: 't-1',
  at: 1_700_000_040_000,
  pv: '1012.345678901234567890',
  roe: 0.012345,
  upnl: '-3.5',
  sharpe: 1.25,
  mdd: 0.031,
  ...o,
});
