/**
 * `createStore(sql)`: every repository of the system of record over porsager's `postgres`
 * client, identical on PostgreSQL and on PGlite behind its socket.
 */
import type postgres from 'postgres';
import type { ManagerId, TraderId, UserId } from '../domain.ts';
import type { Fill, Order } from '../exchange/port.ts';
import { bulkInsert, writeRows, writeRowsIn } from './bulk.ts';
import { transaction, type Sql, type TxSql } from './db.ts';
import {
  ActorStateRow,
  CandleRow,
  CycleRow,
  EventRow,
  FillRow,
  ManagerRow,
  MetricRow,
  OrderRow,
  PaperAccountRow,
  PaperOrderRow,
  SettingRow,
  StrategyFileRow,
  StrategyVersionRow,
  TraderRow,
  UserRow,
  parseRows,
} from './rows.ts';
import type {
  ActorStateRecord,
  ActorStatesRepo,
  CandleRecord,
  CandlesRepo,
  CycleRecord,
  CyclesRepo,
  EventRecord,
  EventsRepo,
  FillsRepo,
  ManagerRecord,
  ManagersRepo,
  MetricRecord,
  MetricsRepo,
  OrderRecord,
  OrdersRepo,
  PaperBatch,
  PaperRepo,
  SettingsRepo,
  StrategiesRepo,
  StrategyFileRecord,
  StrategyMeta,
  StrategyVersionRecord,
  Store,
  TraderRecord,
  TradersRepo,
  UserRecord,
  UsersRepo,
} from './types.ts';

type Q = Sql | TxSql;

/** Advisory-lock namespace for assigning strategy versions (first key of the two-int form). */
const STRATEGY_LOCK = 0x73747261;

function json(q: Q, value: unknown): postgres.Parameter {
  return q.json(value as postgres.JSONValue);
}

/**
 * Freezes parsed JSON all the way down. A trader's params are shared by everything that reads the
 * record (views, cycles, the strategy pool, which keeps each frozen object's JSON), so none may
 * change them in place; an edit stores and reloads a new record.
 */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** Keeps the last row per key: one upsert statement may not touch a row twice. */
function lastByKey<T>(rows: readonly T[], key: (r: T) => string): T[] {
  const m = new Map<string, T>();
  for (const r of rows) m.set(key(r), r);
  return [...m.values()];
}

function usersRepo(sql: Sql): UsersRepo {
  return {
    async upsert(u) {
      await sql`
        INSERT INTO users (id, email, display_name, role, created_at)
        VALUES (${u.id}, ${u.email}, ${u.displayName}, ${u.role}, ${u.createdAt})
        ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, display_name = EXCLUDED.display_name, role = EXCLUDED.role`;
    },
    async list() {
      const rows = parseRows(UserRow, await sql`SELECT * FROM users ORDER BY created_at, id`, 'users');
      return rows.map(
        (r): UserRecord => ({ id: r.id as UserId, email: r.email, displayName: r.display_name, role: r.role, createdAt: r.created_at }),
      );
    },
  };
}

function managersRepo(sql: Sql): ManagersRepo {
  return {
    async upsert(m) {
      await sql`
        INSERT INTO managers (id, name, capital, max_restarts, restart_window_ms, created_at)
        VALUES (${m.id}, ${m.name}, ${m.capital}, ${m.maxRestarts}, ${m.restartWindowMs}, ${m.createdAt})
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, capital = EXCLUDED.capital,
          max_restarts = EXCLUDED.max_restarts, restart_window_ms = EXCLUDED.restart_window_ms`;
    },
    async list() {
      const rows = parseRows(ManagerRow, await sql`SELECT * FROM managers ORDER BY created_at, id`, 'managers');
      return rows.map(
        (r): ManagerRecord => ({
          id: r.id as ManagerId,
          name: r.name,
          capital: r.capital,
          maxRestarts: r.max_restarts,
          restartWindowMs: r.restart_window_ms,
          createdAt: r.created_at,
        }),
      );
    },
  };
}

function toTrader(r: ReturnType<typeof TraderRow.parse>): TraderRecord {
  return {
    id: r.id as TraderId,
    managerId: r.manager_id as ManagerId,
    userId: r.user_id as UserId,
    name: r.name,
    strategyName: r.strategy_name,
    strategyVersion: r.strategy_version,
    params: deepFreeze(r.params),
    venue: r.venue,
    accountId: r.account_id,
    initialCapital: r.initial_capital,
    leverage: r.leverage,
    riskLimits: r.risk_limits,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function tradersRepo(sql: Sql): TradersRepo {
  return {
    async upsert(t) {
      await sql`
        INSERT INTO traders (id, manager_id, user_id, name, strategy_name, strategy_version, params, venue,
          account_id, initial_capital, leverage, risk_limits, created_at, updated_at)
        VALUES (${t.id}, ${t.managerId}, ${t.userId}, ${t.name}, ${t.strategyName}, ${t.strategyVersion},
          ${json(sql, t.params)}, ${t.venue}, ${t.accountId}, ${t.initialCapital}, ${t.leverage},
          ${json(sql, t.riskLimits)}, ${t.createdAt}, ${t.updatedAt})
        ON CONFLICT (id) DO UPDATE SET manager_id = EXCLUDED.manager_id, user_id = EXCLUDED.user_id,
          name = EXCLUDED.name, strategy_name = EXCLUDED.strategy_name, strategy_version = EXCLUDED.strategy_version,
          params = EXCLUDED.params, venue = EXCLUDED.venue, account_id = EXCLUDED.account_id,
          initial_capital = EXCLUDED.initial_capital, leverage = EXCLUDED.leverage,
          risk_limits = EXCLUDED.risk_limits, updated_at = EXCLUDED.updated_at`;
    },
    async list() {
      return parseRows(TraderRow, await sql`SELECT * FROM traders ORDER BY created_at, id`, 'traders').map(toTrader);
    },
    async get(id) {
      const [r] = parseRows(TraderRow, await sql`SELECT * FROM traders WHERE id = ${id}`, 'traders');
      return r ? toTrader(r) : null;
    },
    async assignStrategy(id, name, version, params, at) {
      const res = await sql`
        UPDATE traders SET strategy_name = ${name}, strategy_version = ${version}, params = ${json(sql, params)},
          updated_at = ${at}
        WHERE id = ${id}`;
      if (res.count === 0) throw new Error(`cannot assign a strategy to unknown trader ${id}`);
    },
  };
}

const SAVE_ACTOR_STATES = bulkInsert(
  'actor_states',
  [['actor_id', 'text'], ['kind', 'text'], ['status', 'text'], ['state', 'jsonb'], ['updated_at', 'bigint']],
  `ON CONFLICT (actor_id) DO UPDATE SET kind = EXCLUDED.kind, status = EXCLUDED.status,
     state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
);

function actorStatesRepo(sql: Sql): ActorStatesRepo {
  return {
    async saveMany(rows) {
      const data = lastByKey(rows, (r) => r.actorId).map((r) => [r.actorId, r.kind, r.status, r.state, r.updatedAt]);
      await writeRows(sql, SAVE_ACTOR_STATES, data);
    },
    async list() {
      const rows = parseRows(ActorStateRow, await sql`SELECT * FROM actor_states ORDER BY actor_id`, 'actor_states');
      return rows.map(
        (r): ActorStateRecord => ({ actorId: r.actor_id, kind: r.kind, status: r.status, state: r.state, updatedAt: r.updated_at }),
      );
    },
  };
}

const APPEND_EVENTS = bulkInsert('events', [
  ['at', 'bigint'],
  ['type', 'text'],
  ['severity', 'text'],
  ['trader_id', 'text'],
  ['manager_id', 'text'],
  ['actor', 'text'],
  ['message', 'text'],
  ['data', 'jsonb'],
]);

function eventsRepo(sql: Sql): EventsRepo {
  return {
    async appendMany(rows) {
      const data = rows.map((e) => [e.at, e.type, e.severity, e.traderId ?? null, e.managerId ?? null, e.actor ?? null, e.message, e.data ?? {}]);
      await writeRows(sql, APPEND_EVENTS, data);
    },
    /** Newest first; an empty or absent `types` filter means every type. */
    async recent({ limit, traderId, types }) {
      const raw = await sql`
        SELECT * FROM events
        WHERE TRUE
          ${traderId !== undefined ? sql`AND trader_id = ${traderId}` : sql``}
          ${types && types.length > 0 ? sql`AND type IN ${sql([...types])}` : sql``}
        ORDER BY id DESC
        LIMIT ${limit}`;
      return parseRows(EventRow, raw, 'events').map(
        (r): EventRecord => ({
          id: r.id,
          at: r.at,
          type: r.type,
          severity: r.severity,
          traderId: r.trader_id,
          managerId: r.manager_id,
          actor: r.actor,
          message: r.message,
          data: r.data,
        }),
      );
    },
  };
}

function toStrategyVersion(r: ReturnType<typeof StrategyVersionRow.parse>): StrategyVersionRecord {
  return {
    name: r.name,
    version: r.version,
    hash: r.hash,
    filename: r.filename,
    language: r.language,
    source: r.source,
    compiled: r.compiled,
    meta: r.meta as StrategyMeta,
    createdAt: r.created_at,
  };
}

function toStrategyFile(r: ReturnType<typeof StrategyFileRow.parse>): StrategyFileRecord {
  return { filename: r.filename, hash: r.hash, status: r.status, name: r.name, version: r.version, error: r.error, updatedAt: r.updated_at };
}

function strategiesRepo(sql: Sql): StrategiesRepo {
  return {
    async insertVersion(v) {
      const row = await transaction(sql, async (tx) => {
        // Serializes version numbering per name across connections and nodes.
        await tx`SELECT pg_advisory_xact_lock(${STRATEGY_LOCK}::int, hashtext(${v.name}))`;
        const [existing] = await tx`SELECT * FROM strategy_versions WHERE name = ${v.name} AND hash = ${v.hash}`;
        if (existing) return existing;
        const [inserted] = await tx`
          INSERT INTO strategy_versions (name, version, hash, filename, language, source, compiled, meta, created_at)
          SELECT ${v.name}, COALESCE(MAX(version), 0) + 1, ${v.hash}, ${v.filename}, ${v.language}, ${v.source},
            ${v.compiled}, ${json(tx, v.meta)}, ${v.createdAt}
          FROM strategy_versions WHERE name = ${v.name}
          RETURNING *`;
        return inserted;
      });
      const [r] = parseRows(StrategyVersionRow, [row], 'strategy_versions');
      return toStrategyVersion(r!);
    },
    async getVersion(name, version) {
      const raw = await sql`SELECT * FROM strategy_versions WHERE name = ${name} AND version = ${version}`;
      const [r] = parseRows(StrategyVersionRow, raw, 'strategy_versions');
      return r ? toStrategyVersion(r) : null;
    },
    async listVersions() {
      const raw = await sql`SELECT * FROM strategy_versions ORDER BY name, version`;
      return parseRows(StrategyVersionRow, raw, 'strategy_versions').map(toStrategyVersion);
    },
    async upsertFile(f) {
      await sql`
        INSERT INTO strategy_files (filename, hash, status, name, version, error, updated_at)
        VALUES (${f.filename}, ${f.hash}, ${f.status}, ${f.name}, ${f.version}, ${f.error}, ${f.updatedAt})
        ON CONFLICT (filename) DO UPDATE SET hash = EXCLUDED.hash, status = EXCLUDED.status, name = EXCLUDED.name,
          version = EXCLUDED.version, error = EXCLUDED.error, updated_at = EXCLUDED.updated_at`;
    },
    async deleteFile(filename) {
      await sql`DELETE FROM strategy_files WHERE filename = ${filename}`;
    },
    async listFiles() {
      const raw = await sql`SELECT * FROM strategy_files ORDER BY filename`;
      return parseRows(StrategyFileRow, raw, 'strategy_files').map(toStrategyFile);
    },
  };
}

function toCandle(r: ReturnType<typeof CandleRow.parse>): CandleRecord {
  return {
    symbol: r.symbol,
    timeframe: r.timeframe,
    openTime: r.open_time,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
  };
}

const INSERT_CANDLES = bulkInsert(
  'candles',
  [
    ['symbol', 'text'],
    ['timeframe', 'text'],
    ['open_time', 'bigint'],
    ['open', 'numeric'],
    ['high', 'numeric'],
    ['low', 'numeric'],
    ['close', 'numeric'],
    ['volume', 'numeric'],
  ],
  'ON CONFLICT (symbol, timeframe, open_time) DO NOTHING',
);

function candlesRepo(sql: Sql): CandlesRepo {
  return {
    async insertMany(rows) {
      const data = rows.map((c) => [c.symbol, c.timeframe, c.openTime, c.open, c.high, c.low, c.close, c.volume]);
      await writeRows(sql, INSERT_CANDLES, data);
    },
    async range(symbol, timeframe, { until, limit }) {
      const raw = await sql`
        SELECT * FROM (
          SELECT * FROM candles
          WHERE symbol = ${symbol} AND timeframe = ${timeframe}
            ${until !== undefined ? sql`AND open_time <= ${until}` : sql``}
          ORDER BY open_time DESC
          LIMIT ${limit}
        ) newest
        ORDER BY open_time`;
      return parseRows(CandleRow, raw, 'candles').map(toCandle);
    },
    async latestOpenTime(symbol, timeframe) {
      const [r] = await sql<{ t: number | null }[]>`
        SELECT MAX(open_time) AS t FROM candles WHERE symbol = ${symbol} AND timeframe = ${timeframe}`;
      return r?.t ?? null;
    },
  };
}

function toOrder(r: ReturnType<typeof OrderRow.parse>): OrderRecord {
  return {
    clientOrderId: r.client_order_id,
    traderId: r.trader_id as TraderId,
    cycleId: r.cycle_id,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    amount: r.amount,
    ...(r.price !== null ? { price: r.price } : {}),
    reduceOnly: r.reduce_only,
    ...(r.stop_loss !== null ? { stopLoss: r.stop_loss } : {}),
    ...(r.take_profit !== null ? { takeProfit: r.take_profit } : {}),
    ...(r.leverage !== null ? { leverage: r.leverage } : {}),
    status: r.status,
    exchangeOrderId: r.exchange_order_id,
    filled: r.filled,
    average: r.average,
    fee: r.fee,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const INSERT_PENDING_ORDERS = bulkInsert(
  'orders',
  [
    ['client_order_id', 'text'],
    ['trader_id', 'text'],
    ['cycle_id', 'text'],
    ['symbol', 'text'],
    ['side', 'text'],
    ['type', 'text'],
    ['amount', 'numeric'],
    ['price', 'numeric'],
    ['reduce_only', 'boolean'],
    ['stop_loss', 'numeric'],
    ['take_profit', 'numeric'],
    ['leverage', 'integer'],
    ['status', 'text'],
    ['exchange_order_id', 'text'],
    ['filled', 'numeric'],
    ['average', 'numeric'],
    ['fee', 'numeric'],
    ['reason', 'text'],
    ['created_at', 'bigint'],
    ['updated_at', 'bigint'],
  ],
  'ON CONFLICT (client_order_id) DO NOTHING RETURNING client_order_id',
);

function orderRow(o: OrderRecord): unknown[] {
  return [
    o.clientOrderId,
    o.traderId,
    o.cycleId,
    o.symbol,
    o.side,
    o.type,
    o.amount,
    o.price ?? null,
    o.reduceOnly ?? false,
    o.stopLoss ?? null,
    o.takeProfit ?? null,
    o.leverage ?? null,
    o.status,
    o.exchangeOrderId,
    o.filled,
    o.average,
    o.fee,
    o.reason,
    o.createdAt,
    o.updatedAt,
  ];
}

function ordersRepo(sql: Sql): OrdersRepo {
  return {
    async insertPendingMany(records) {
      const rows = await writeRows<{ client_order_id: string }>(sql, INSERT_PENDING_ORDERS, records.map(orderRow));
      return new Set(rows.map((r) => r.client_order_id));
    },
    async updateManyFromVenue(rows) {
      // One UPDATE may not set a row twice from two source rows: keep the last per id.
      const last = lastByKey(rows, (r) => r.clientOrderId);
      if (last.length === 0) return;
      // One array per column: eight bind parameters however many rows.
      const col = <T>(f: (r: (typeof last)[number]) => T): T[] => last.map(f);
      await sql`
        UPDATE orders AS o SET status = v.status, exchange_order_id = v.exchange_order_id, filled = v.filled,
          average = v.average, fee = v.fee, reason = v.reason, updated_at = v.updated_at
        FROM unnest(${col((r) => r.clientOrderId)}::text[], ${col((r) => r.order.status)}::text[], ${col((r) => r.order.id)}::text[],
          ${col((r) => r.order.filled)}::numeric[], ${col((r) => r.order.average)}::numeric[], ${col((r) => r.order.fee)}::numeric[],
          ${col((r) => r.order.reason)}::text[], ${col((r) => String(r.at))}::bigint[])
          AS v (client_order_id, status, exchange_order_id, filled, average, fee, reason, updated_at)
        WHERE o.client_order_id = v.client_order_id`;
    },
    async insertPending(o) {
      const inserted = await sql`
        INSERT INTO orders (client_order_id, trader_id, cycle_id, symbol, side, type, amount, price, reduce_only,
          stop_loss, take_profit, leverage, status, exchange_order_id, filled, average, fee, reason, created_at, updated_at)
        VALUES (${o.clientOrderId}, ${o.traderId}, ${o.cycleId}, ${o.symbol}, ${o.side}, ${o.type}, ${o.amount},
          ${o.price ?? null}, ${o.reduceOnly ?? false}, ${o.stopLoss ?? null}, ${o.takeProfit ?? null},
          ${o.leverage ?? null}, ${o.status}, ${o.exchangeOrderId}, ${o.filled}, ${o.average}, ${o.fee}, ${o.reason},
          ${o.createdAt}, ${o.updatedAt})
        ON CONFLICT (client_order_id) DO NOTHING
        RETURNING client_order_id`;
      return inserted.length === 1;
    },
    async get(clientOrderId) {
      const raw = await sql`SELECT * FROM orders WHERE client_order_id = ${clientOrderId}`;
      const [r] = parseRows(OrderRow, raw, 'orders');
      return r ? toOrder(r) : null;
    },
    async updateFromVenue(clientOrderId, o, at) {
      await sql`
        UPDATE orders SET status = ${o.status}, exchange_order_id = ${o.id}, filled = ${o.filled},
          average = ${o.average}, fee = ${o.fee}, reason = ${o.reason}, updated_at = ${at}
        WHERE client_order_id = ${clientOrderId}`;
    },
    async markFailed(clientOrderId, reason, at) {
      await sql`
        UPDATE orders SET status = 'failed', reason = ${reason}, updated_at = ${at}
        WHERE client_order_id = ${clientOrderId}`;
    },
    async listPending() {
      const raw = await sql`SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at, client_order_id`;
      return parseRows(OrderRow, raw, 'orders').map(toOrder);
    },
    async recentForTrader(traderId, limit) {
      const raw = await sql`
        SELECT * FROM orders WHERE trader_id = ${traderId} ORDER BY created_at DESC, client_order_id DESC LIMIT ${limit}`;
      return parseRows(OrderRow, raw, 'orders').map(toOrder);
    },
    async countForTrader(traderId) {
      const [r] = await sql<{ n: number }[]>`SELECT COUNT(*) AS n FROM orders WHERE trader_id = ${traderId}`;
      return r?.n ?? 0;
    },
    async listForTrader(traderId, opts = {}) {
      if (opts.statuses && opts.statuses.length === 0) return [];
      const raw = await sql`
        SELECT * FROM orders WHERE trader_id = ${traderId}
          ${opts.statuses ? sql`AND status IN ${sql(opts.statuses as string[])}` : sql``}
          ${opts.since !== undefined ? sql`AND created_at > ${opts.since}` : sql``}
        ORDER BY created_at, client_order_id`;
      return parseRows(OrderRow, raw, 'orders').map(toOrder);
    },
  };
}

function toFill(r: ReturnType<typeof FillRow.parse>): Fill {
  return {
    orderId: r.exchange_order_id,
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    amount: r.amount,
    price: r.price,
    fee: r.fee,
    realizedPnl: r.realized_pnl,
    timestamp: r.at,
    trigger: r.trigger,
  };
}

function fillsRepo(sql: Sql): FillsRepo {
  return {
    /** The account's first `limit` fills, oldest first. */
    async listForAccount(accountId, limit) {
      const raw = await sql`SELECT * FROM fills WHERE account_id = ${accountId} ORDER BY id LIMIT ${limit}`;
      return parseRows(FillRow, raw, 'fills').map(toFill);
    },
    async netForAccount(accountId) {
      const [r] = await sql<{ net: string }[]>`
        SELECT COALESCE(SUM(realized_pnl - fee), 0)::text AS net FROM fills WHERE account_id = ${accountId}`;
      return r?.net ?? '0';
    },
  };
}

/**
 * Finished paper orders reloaded per account at start: what the venue keeps in memory
 * (`PAPER_ORDER_HISTORY`); older ones are read on demand through `findOrder`.
 */
export const PAPER_ORDERS_KEPT = 8;

interface OrderLookup {
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly waiters: { resolve(o: Order | null): void; reject(err: unknown): void }[];
}

const SAVE_PAPER_ACCOUNTS = bulkInsert(
  'paper_accounts',
  [['account_id', 'text'], ['state', 'jsonb'], ['updated_at', 'bigint']],
  'ON CONFLICT (account_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at',
);
const SAVE_PAPER_ORDERS = bulkInsert(
  'paper_orders',
  [['account_id', 'text'], ['client_order_id', 'text'], ['order_data', 'jsonb']],
  'ON CONFLICT (account_id, client_order_id) DO UPDATE SET order_data = EXCLUDED.order_data',
);
const INSERT_FILLS = bulkInsert(
  'fills',
  [
    ['account_id', 'text'],
    ['client_order_id', 'text'],
    ['exchange_order_id', 'text'],
    ['symbol', 'text'],
    ['side', 'text'],
    ['amount', 'numeric'],
    ['price', 'numeric'],
    ['fee', 'numeric'],
    ['realized_pnl', 'numeric'],
    ['trigger', 'text'],
    ['at', 'bigint'],
  ],
  'ON CONFLICT (account_id, exchange_order_id) DO NOTHING',
);

function paperRepo(sql: Sql): PaperRepo {
  /** Lookups asked for in this turn of the event loop, keyed account + client id. */
  let lookups: Map<string, OrderLookup> | null = null;

  async function runLookups(batch: Map<string, OrderLookup>): Promise<void> {
    const entries = [...batch.values()];
    try {
      const raw = await sql`
        SELECT p.account_id, p.order_data
        FROM paper_orders p
        JOIN unnest(${entries.map((e) => e.accountId)}::text[], ${entries.map((e) => e.clientOrderId)}::text[]) AS k (account_id, client_order_id)
          ON p.account_id = k.account_id AND p.client_order_id = k.client_order_id`;
      const found = new Map<string, Order>();
      for (const r of parseRows(PaperOrderRow, raw, 'paper_orders')) found.set(`${r.account_id}\u0000${r.order_data.clientOrderId}`, r.order_data as Order);
      for (const [key, e] of batch) for (const w of e.waiters) w.resolve(found.get(key) ?? null);
    } catch (err) {
      for (const e of entries) for (const w of e.waiters) w.reject(err);
    }
  }

  return {
    findOrder(accountId, clientOrderId) {
      return new Promise<Order | null>((resolve, reject) => {
        if (!lookups) {
          const batch = new Map<string, OrderLookup>();
          lookups = batch;
          setImmediate(() => {
            lookups = null;
            void runLookups(batch);
          });
        }
        const key = `${accountId}\u0000${clientOrderId}`;
        let entry = lookups.get(key);
        if (!entry) {
          entry = { accountId, clientOrderId, waiters: [] };
          lookups.set(key, entry);
        }
        entry.waiters.push({ resolve, reject });
      });
    },
    async saveBatch(batch: PaperBatch) {
      const accounts = lastByKey(batch.accounts, (a) => a.accountId);
      const orders = lastByKey(batch.orders, (o) => `${o.accountId}\u0000${o.order.clientOrderId}`);
      if (accounts.length + orders.length + batch.fills.length === 0) return;
      // Only `tx` inside: on PGlite an outer-`sql` query here would wait for this transaction forever.
      await transaction(sql, async (tx) => {
        await writeRowsIn(tx, SAVE_PAPER_ACCOUNTS, accounts.map((a) => [a.accountId, a.state, a.updatedAt]));
        await writeRowsIn(tx, SAVE_PAPER_ORDERS, orders.map((o) => [o.accountId, o.order.clientOrderId, o.order]));
        const fills = batch.fills.map(({ accountId, fill: f }) => [
          accountId,
          f.clientOrderId,
          f.orderId,
          f.symbol,
          f.side,
          f.amount,
          f.price,
          f.fee,
          f.realizedPnl,
          f.trigger,
          f.timestamp,
        ]);
        await writeRowsIn(tx, INSERT_FILLS, fills);
      });
    },
    async loadAccounts() {
      const raw = await sql`SELECT account_id, state FROM paper_accounts ORDER BY account_id`;
      return parseRows(PaperAccountRow, raw, 'paper_accounts').map((r) => ({ accountId: r.account_id, state: r.state as unknown }));
    },
    async loadOrders() {
      // Open orders plus the newest finished ones per account: what the venue keeps in memory.
      const raw = await sql`
        SELECT account_id, order_data FROM (
          SELECT account_id, client_order_id, order_data,
                 row_number() OVER (PARTITION BY account_id ORDER BY (order_data->>'timestamp')::bigint DESC) AS rn
          FROM paper_orders) o
        WHERE rn <= ${PAPER_ORDERS_KEPT} OR order_data->>'status' = 'open'
        ORDER BY account_id, client_order_id`;
      return parseRows(PaperOrderRow, raw, 'paper_orders').map((r) => ({ accountId: r.account_id, order: r.order_data as Order }));
    },
  };
}

function toCycle(r: ReturnType<typeof CycleRow.parse>): CycleRecord {
  return {
    cycleId: r.cycle_id,
    traderId: r.trader_id as TraderId,
    strategyRef: r.strategy_ref,
    params: r.params,
    candleFrom: r.candle_from,
    candleTo: r.candle_to,
    targets: r.targets,
    plan: r.plan,
    status: r.status,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

const UPSERT_CYCLES = bulkInsert(
  'cycles',
  [
    ['cycle_id', 'text'],
    ['trader_id', 'text'],
    ['strategy_ref', 'text'],
    ['params', 'jsonb'],
    ['candle_from', 'bigint'],
    ['candle_to', 'bigint'],
    ['targets', 'jsonb?'],
    ['plan', 'jsonb?'],
    ['status', 'text'],
    ['error', 'text'],
    ['started_at', 'bigint'],
    ['finished_at', 'bigint'],
  ],
  `ON CONFLICT (cycle_id) DO UPDATE SET trader_id = EXCLUDED.trader_id, strategy_ref = EXCLUDED.strategy_ref,
     params = EXCLUDED.params, candle_from = EXCLUDED.candle_from, candle_to = EXCLUDED.candle_to,
     targets = EXCLUDED.targets, plan = EXCLUDED.plan, status = EXCLUDED.status, error = EXCLUDED.error,
     started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at`,
);

function cyclesRepo(sql: Sql): CyclesRepo {
  return {
    async upsertMany(rows) {
      const data = lastByKey(rows, (c) => c.cycleId).map((c) => [
        c.cycleId,
        c.traderId,
        c.strategyRef,
        c.params,
        c.candleFrom,
        c.candleTo,
        c.targets ?? null,
        c.plan ?? null,
        c.status,
        c.error,
        c.startedAt,
        c.finishedAt,
      ]);
      await writeRows(sql, UPSERT_CYCLES, data);
    },
    async recentForTrader(traderId, limit) {
      const raw = await sql`
        SELECT * FROM cycles WHERE trader_id = ${traderId} ORDER BY started_at DESC, cycle_id DESC LIMIT ${limit}`;
      return parseRows(CycleRow, raw, 'cycles').map(toCycle);
    },
    async get(cycleId) {
      const [r] = parseRows(CycleRow, await sql`SELECT * FROM cycles WHERE cycle_id = ${cycleId}`, 'cycles');
      return r ? toCycle(r) : null;
    },
  };
}

function toMetric(r: ReturnType<typeof MetricRow.parse>): MetricRecord {
  return { scope: r.scope, scopeId: r.scope_id, at: r.at, pv: r.pv, roe: r.roe, upnl: r.upnl, sharpe: r.sharpe, mdd: r.mdd };
}

const INSERT_METRICS = bulkInsert(
  'metrics',
  [
    ['scope', 'text'],
    ['scope_id', 'text'],
    ['at', 'bigint'],
    ['pv', 'numeric'],
    ['roe', 'double precision'],
    ['upnl', 'numeric'],
    ['sharpe', 'double precision'],
    ['mdd', 'double precision'],
  ],
  `ON CONFLICT (scope, scope_id, at) DO UPDATE SET pv = EXCLUDED.pv, roe = EXCLUDED.roe, upnl = EXCLUDED.upnl,
     sharpe = EXCLUDED.sharpe, mdd = EXCLUDED.mdd`,
);

function metricsRepo(sql: Sql): MetricsRepo {
  return {
    /** A recomputed point (same scope, id and time) replaces the stored one. */
    async insertMany(rows) {
      const data = lastByKey(rows, (m) => `${m.scope}\u0000${m.scopeId}\u0000${m.at}`).map((m) => [
        m.scope,
        m.scopeId,
        m.at,
        m.pv,
        m.roe,
        m.upnl,
        m.sharpe,
        m.mdd,
      ]);
      await writeRows(sql, INSERT_METRICS, data);
    },
    async latest(scope) {
      const raw = await sql`
        SELECT DISTINCT ON (scope_id) * FROM metrics WHERE scope = ${scope} ORDER BY scope_id, at DESC`;
      return parseRows(MetricRow, raw, 'metrics').map(toMetric);
    },
    async series(scope, scopeId, since) {
      const raw = await sql`
        SELECT * FROM metrics WHERE scope = ${scope} AND scope_id = ${scopeId} AND at >= ${since} ORDER BY at`;
      return parseRows(MetricRow, raw, 'metrics').map(toMetric);
    },
  };
}

function settingsRepo(sql: Sql): SettingsRepo {
  return {
    async get<T>(key: string) {
      const [r] = parseRows(SettingRow, await sql`SELECT value FROM settings WHERE key = ${key}`, 'settings');
      return r ? (r.value as T) : null;
    },
    async set(key, value) {
      if (value === undefined) throw new Error(`setting ${key}: undefined is not a JSON value`);
      await sql`
        INSERT INTO settings (key, value) VALUES (${key}, ${json(sql, value)})
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
    },
  };
}

/**
 * Builds every repository over `sql`. `close` is what `Store.close()` runs (the database
 * handle's close when the store owns it); by default it ends the client.
 */
export function createStore(sql: Sql, close?: () => Promise<void>): Store {
  return {
    users: usersRepo(sql),
    managers: managersRepo(sql),
    traders: tradersRepo(sql),
    actorStates: actorStatesRepo(sql),
    events: eventsRepo(sql),
    strategies: strategiesRepo(sql),
    candles: candlesRepo(sql),
    orders: ordersRepo(sql),
    fills: fillsRepo(sql),
    paper: paperRepo(sql),
    cycles: cyclesRepo(sql),
    metrics: metricsRepo(sql),
    settings: settingsRepo(sql),
    close: close ?? (() => sql.end({ timeout: 5 })),
  };
}
