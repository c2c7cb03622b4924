/**
 * zod schemas for rows as they come back from the database (snake_case columns). Rows enter
 * the program here: a row that does not match is a broken invariant and throws.
 */
import { z } from 'zod';

const ms = z.number().int();
const dec = z.string().regex(/^-?\d+(\.\d+)?$/, 'not a decimal string');
/** A JSON value, as the type `z.json()` gives it. */
type JsonValue = z.infer<ReturnType<typeof z.json>>;
/**
 * A `jsonb` column: the driver hands back what `JSON.parse` made of PostgreSQL's JSON text, which
 * is JSON by construction, so it is not walked again (`z.json()` re-checked every value of every
 * paper book and order on each boot: a third of the rows' parsing). What a value must contain is
 * checked where it is used (paper books and orders by the venue's schemas, pauses and errors
 * below, params by the strategy's own schema).
 */
const json = z.custom<JsonValue>((v) => v !== undefined, 'missing JSON value');
const jsonObject = z.custom<Record<string, JsonValue>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'expected a JSON object',
);

const pauseInfo = z.object({
  by: z.string(),
  reason: z.string(),
  scope: z.enum(['trader', 'manager', 'all', 'risk']),
  at: ms,
});
const errorInfo = z.object({
  kind: z.enum(['strategy', 'transient', 'operational', 'internal']),
  message: z.string(),
  at: ms,
  retryable: z.boolean(),
});

/** `users` row. */
export const UserRow = z.object({ id: z.string(), email: z.string(), display_name: z.string(), role: z.string(), created_at: ms });

/** `managers` row. */
export const ManagerRow = z.object({
  id: z.string(),
  name: z.string(),
  capital: dec,
  max_restarts: z.number().int(),
  restart_window_ms: ms,
  created_at: ms,
});

/** Risk limits as stored in `traders.risk_limits`. */
export const RiskLimitsJson = z.object({
  maxOpenPositions: z.number().optional(),
  maxLeverage: z.number().optional(),
  maxOrderNotional: z.number().optional(),
  dailyLossLimit: z.number().optional(),
});

/** `traders` row. */
export const TraderRow = z.object({
  id: z.string(),
  manager_id: z.string(),
  user_id: z.string(),
  name: z.string(),
  strategy_name: z.string(),
  strategy_version: z.number().int(),
  params: jsonObject,
  venue: z.string(),
  account_id: z.string(),
  initial_capital: dec,
  leverage: z.number().int(),
  risk_limits: RiskLimitsJson,
  created_at: ms,
  updated_at: ms,
});

/** `actor_states` row. */
export const ActorStateRow = z.object({
  actor_id: z.string(),
  kind: z.enum(['supervisor', 'manager', 'trader']),
  status: z.enum(['starting', 'running', 'paused', 'error', 'stopped', 'active']),
  state: z.looseObject({
    pause: pauseInfo.nullable().optional(),
    error: errorInfo.nullable().optional(),
    restarts: z.array(ms).optional(),
    escalated: z.boolean().optional(),
    lastCycleAt: ms.nullable().optional(),
  }),
  updated_at: ms,
});

/** `events` row. */
export const EventRow = z.object({
  id: z.number().int(),
  at: ms,
  type: z.string(),
  severity: z.enum(['debug', 'info', 'warning', 'error', 'critical']),
  trader_id: z.string().nullable(),
  manager_id: z.string().nullable(),
  actor: z.string().nullable(),
  message: z.string(),
  data: jsonObject,
});

/** `strategy_versions.meta`. */
export const StrategyMetaJson = z.object({
  description: z.string(),
  defaults: jsonObject,
  universe: z.array(z.string()),
  timeframe: z.string(),
  lookback: z.number(),
  paramsSchema: json,
});

/** `strategy_versions` row. */
export const StrategyVersionRow = z.object({
  name: z.string(),
  version: z.number().int(),
  hash: z.string(),
  filename: z.string(),
  language: z.enum(['ts', 'js']),
  source: z.string(),
  compiled: z.string(),
  meta: StrategyMetaJson,
  created_at: ms,
});

/** `strategy_files` row. */
export const StrategyFileRow = z.object({
  filename: z.string(),
  hash: z.string(),
  status: z.enum(['valid', 'broken']),
  name: z.string().nullable(),
  version: z.number().int().nullable(),
  error: z.string().nullable(),
  updated_at: ms,
});

/** `candles` row. */
export const CandleRow = z.object({
  symbol: z.string(),
  timeframe: z.string(),
  open_time: ms,
  open: dec,
  high: dec,
  low: dec,
  close: dec,
  volume: dec,
});

const side = z.enum(['buy', 'sell']);
const orderType = z.enum(['market', 'limit']);

/** `orders` row. */
export const OrderRow = z.object({
  client_order_id: z.string(),
  trader_id: z.string(),
  cycle_id: z.string(),
  symbol: z.string(),
  side,
  type: orderType,
  amount: dec,
  price: dec.nullable(),
  reduce_only: z.boolean(),
  stop_loss: dec.nullable(),
  take_profit: dec.nullable(),
  leverage: z.number().int().nullable(),
  status: z.enum(['pending', 'open', 'closed', 'canceled', 'rejected', 'failed']),
  exchange_order_id: z.string().nullable(),
  filled: dec,
  average: dec.nullable(),
  fee: dec,
  reason: z.string().nullable(),
  created_at: ms,
  updated_at: ms,
});

/** `fills` row. */
export const FillRow = z.object({
  exchange_order_id: z.string(),
  client_order_id: z.string(),
  symbol: z.string(),
  side,
  amount: dec,
  price: dec,
  fee: dec,
  realized_pnl: dec,
  at: ms,
  trigger: z.enum(['order', 'stopLoss', 'takeProfit', 'liquidation']),
});

/** A venue order as the paper exchange stores it in `paper_orders.order_data`. */
export const OrderJson = z.object({
  id: z.string(),
  clientOrderId: z.string(),
  symbol: z.string(),
  side,
  type: orderType,
  amount: dec,
  price: dec.nullable(),
  status: z.enum(['open', 'closed', 'canceled', 'rejected']),
  filled: dec,
  average: dec.nullable(),
  fee: dec,
  reduceOnly: z.boolean(),
  reason: z.string().nullable(),
  timestamp: ms,
});

/** `paper_accounts` row. */
export const PaperAccountRow = z.object({ account_id: z.string(), state: json });

/** `paper_orders` row. */
export const PaperOrderRow = z.object({ account_id: z.string(), order_data: OrderJson });

/** Target weights as stored in `cycles.targets`. */
export const TargetWeightsJson = z.record(
  z.string(),
  z.object({ weight: z.number(), stopLoss: z.number().optional(), takeProfit: z.number().optional() }),
);

/** `cycles` row. */
export const CycleRow = z.object({
  cycle_id: z.string(),
  trader_id: z.string(),
  strategy_ref: z.string(),
  params: jsonObject,
  candle_from: ms.nullable(),
  candle_to: ms.nullable(),
  targets: TargetWeightsJson.nullable(),
  plan: json,
  status: z.enum(['started', 'completed', 'failed', 'canceled']),
  error: z.string().nullable(),
  started_at: ms,
  finished_at: ms.nullable(),
});

/** `metrics` row. */
export const MetricRow = z.object({
  scope: z.enum(['trader', 'manager', 'platform', 'user']),
  scope_id: z.string(),
  at: ms,
  pv: dec,
  roe: z.number(),
  upnl: dec,
  sharpe: z.number().nullable(),
  mdd: z.number(),
});

/** `settings.value`. */
export const SettingRow = z.object({ value: json });

/** Parses every row with `schema`, naming the table in the error. */
export function parseRows<S extends z.ZodType>(schema: S, rows: readonly unknown[], table: string): z.infer<S>[] {
  return rows.map((r) => {
    const res = schema.safeParse(r);
    if (!res.success) throw new Error(`invalid ${table} row from the database: ${z.prettifyError(res.error)}`);
    return res.data;
  });
}
