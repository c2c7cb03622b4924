-- The system of record. Plain SQL that runs on PGlite and PostgreSQL alike.
-- Money columns are NUMERIC; times are epoch milliseconds (BIGINT) so the injected clock
-- (simulated in tests and demos) is what gets stored.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL DEFAULT 'user',
  created_at    BIGINT NOT NULL
);

CREATE TABLE managers (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  capital            NUMERIC NOT NULL DEFAULT 0,
  max_restarts       INTEGER NOT NULL DEFAULT 5,
  restart_window_ms  BIGINT NOT NULL DEFAULT 600000,
  created_at         BIGINT NOT NULL
);

CREATE TABLE traders (
  id                TEXT PRIMARY KEY,
  manager_id        TEXT NOT NULL REFERENCES managers(id),
  user_id           TEXT NOT NULL REFERENCES users(id),
  name              TEXT NOT NULL,
  strategy_name     TEXT NOT NULL,
  strategy_version  INTEGER NOT NULL,
  params            JSONB NOT NULL DEFAULT '{}',
  venue             TEXT NOT NULL DEFAULT 'paper',
  account_id        TEXT NOT NULL,
  initial_capital   NUMERIC NOT NULL,
  leverage          INTEGER NOT NULL DEFAULT 1,
  risk_limits       JSONB NOT NULL DEFAULT '{}',
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL
);
CREATE INDEX traders_manager_idx ON traders (manager_id);

-- The persisted state of every actor: what a restarted process rebuilds.
CREATE TABLE actor_states (
  actor_id    TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  status      TEXT NOT NULL,
  state       JSONB NOT NULL,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE events (
  id          BIGSERIAL PRIMARY KEY,
  at          BIGINT NOT NULL,
  type        TEXT NOT NULL,
  severity    TEXT NOT NULL DEFAULT 'info',
  trader_id   TEXT,
  manager_id  TEXT,
  actor       TEXT,
  message     TEXT NOT NULL DEFAULT '',
  data        JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX events_trader_idx ON events (trader_id, id);
CREATE INDEX events_at_idx ON events (at);
CREATE INDEX events_type_idx ON events (type, id);

CREATE TABLE strategy_versions (
  name        TEXT NOT NULL,
  version     INTEGER NOT NULL,
  hash        TEXT NOT NULL,
  filename    TEXT NOT NULL,
  language    TEXT NOT NULL,
  source      TEXT NOT NULL,
  compiled    TEXT NOT NULL,
  meta        JSONB NOT NULL,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (name, version),
  UNIQUE (name, hash)
);

-- The registry folder's files as last scanned, including broken ones and their error.
CREATE TABLE strategy_files (
  filename    TEXT PRIMARY KEY,
  hash        TEXT NOT NULL,
  status      TEXT NOT NULL,
  name        TEXT,
  version     INTEGER,
  error       TEXT,
  updated_at  BIGINT NOT NULL
);

CREATE TABLE candles (
  symbol     TEXT NOT NULL,
  timeframe  TEXT NOT NULL,
  open_time  BIGINT NOT NULL,
  open       NUMERIC NOT NULL,
  high       NUMERIC NOT NULL,
  low        NUMERIC NOT NULL,
  close      NUMERIC NOT NULL,
  volume     NUMERIC NOT NULL,
  PRIMARY KEY (symbol, timeframe, open_time)
);

-- Every order the platform decided to send, recorded before it is sent.
CREATE TABLE orders (
  client_order_id    TEXT PRIMARY KEY,
  trader_id          TEXT NOT NULL,
  cycle_id           TEXT NOT NULL,
  symbol             TEXT NOT NULL,
  side               TEXT NOT NULL,
  type               TEXT NOT NULL,
  amount             NUMERIC NOT NULL,
  price              NUMERIC,
  reduce_only        BOOLEAN NOT NULL DEFAULT FALSE,
  stop_loss          NUMERIC,
  take_profit        NUMERIC,
  status             TEXT NOT NULL,
  exchange_order_id  TEXT,
  filled             NUMERIC NOT NULL DEFAULT 0,
  average            NUMERIC,
  fee                NUMERIC NOT NULL DEFAULT 0,
  reason             TEXT,
  created_at         BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL
);
CREATE INDEX orders_trader_idx ON orders (trader_id, created_at);
CREATE INDEX orders_status_idx ON orders (status) WHERE status = 'pending';

CREATE TABLE fills (
  id               BIGSERIAL PRIMARY KEY,
  account_id       TEXT NOT NULL,
  client_order_id  TEXT NOT NULL,
  exchange_order_id TEXT NOT NULL,
  symbol           TEXT NOT NULL,
  side             TEXT NOT NULL,
  amount           NUMERIC NOT NULL,
  price            NUMERIC NOT NULL,
  fee              NUMERIC NOT NULL,
  realized_pnl     NUMERIC NOT NULL,
  trigger          TEXT NOT NULL,
  at               BIGINT NOT NULL
);
CREATE INDEX fills_account_idx ON fills (account_id, id);

-- The paper exchange's own books: one row per account (wallet, positions, open orders)
-- and every order it ever accepted, keyed by client order id so a duplicate is refused.
CREATE TABLE paper_accounts (
  account_id  TEXT PRIMARY KEY,
  state       JSONB NOT NULL,
  updated_at  BIGINT NOT NULL
);
CREATE TABLE paper_orders (
  account_id       TEXT NOT NULL,
  client_order_id  TEXT NOT NULL,
  order_data       JSONB NOT NULL,
  PRIMARY KEY (account_id, client_order_id)
);

-- One decision record per trader cycle: why each order was (or was not) placed.
CREATE TABLE cycles (
  cycle_id      TEXT PRIMARY KEY,
  trader_id     TEXT NOT NULL,
  strategy_ref  TEXT NOT NULL,
  params        JSONB NOT NULL,
  candle_from   BIGINT,
  candle_to     BIGINT,
  targets       JSONB,
  plan          JSONB,
  status        TEXT NOT NULL,
  error         TEXT,
  started_at    BIGINT NOT NULL,
  finished_at   BIGINT
);
CREATE INDEX cycles_trader_idx ON cycles (trader_id, started_at DESC);

CREATE TABLE metrics (
  scope       TEXT NOT NULL,
  scope_id    TEXT NOT NULL,
  at          BIGINT NOT NULL,
  pv          NUMERIC NOT NULL,
  roe         DOUBLE PRECISION NOT NULL,
  upnl        NUMERIC NOT NULL,
  sharpe      DOUBLE PRECISION,
  mdd         DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (scope, scope_id, at)
);

CREATE TABLE settings (
  key    TEXT PRIMARY KEY,
  value  JSONB NOT NULL
);
