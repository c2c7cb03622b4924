-- Risk policies and their violations; exchange keys (sealed at rest) and their history.

-- One row per scope. A NULL limit inherits from the next layer (trader > user > platform);
-- the platform row sets every limit. Percentages are percent (10 = 10 %).
CREATE TABLE risk_policies (
  scope                TEXT NOT NULL CHECK (scope IN ('platform', 'user', 'trader')),
  scope_id             TEXT NOT NULL,
  daily_stop_loss_pct  NUMERIC CHECK (daily_stop_loss_pct > 0 AND daily_stop_loss_pct <= 100),
  total_stop_loss_pct  NUMERIC CHECK (total_stop_loss_pct > 0 AND total_stop_loss_pct <= 100),
  max_leverage         NUMERIC CHECK (max_leverage >= 1 AND max_leverage <= 1000),
  updated_at           BIGINT NOT NULL,
  updated_by           TEXT NOT NULL,
  PRIMARY KEY (scope, scope_id),
  CHECK (scope <> 'platform' OR (scope_id = 'platform' AND daily_stop_loss_pct IS NOT NULL
    AND total_stop_loss_pct IS NOT NULL AND max_leverage IS NOT NULL))
);
INSERT INTO risk_policies (scope, scope_id, daily_stop_loss_pct, total_stop_loss_pct, max_leverage, updated_at, updated_by)
VALUES ('platform', 'platform', 10, 30, 10, 0, 'system');

CREATE TABLE risk_violations (
  id              BIGSERIAL PRIMARY KEY,
  at              BIGINT NOT NULL,
  trader_id       TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  policy          TEXT NOT NULL CHECK (policy IN ('dailyStopLoss', 'totalStopLoss', 'maxLeverage')),
  observed        NUMERIC NOT NULL,
  limit_value     NUMERIC NOT NULL,
  message         TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'released')),
  released_at     BIGINT,
  released_by     TEXT,
  release_reason  TEXT,
  CHECK ((status = 'open') = (released_at IS NULL))
);
-- At most one open violation per trader and policy, even with several runtime nodes.
CREATE UNIQUE INDEX risk_violations_open_once ON risk_violations (trader_id, policy) WHERE status = 'open';
CREATE INDEX risk_violations_status_idx ON risk_violations (status, id);
CREATE INDEX risk_violations_trader_idx ON risk_violations (trader_id, id);

-- The PV each loss is measured from: the first PV of the UTC day (`period` = that day's
-- 00:00 in epoch ms) for the daily stop-loss, and, after a release, the PV at the release.
CREATE TABLE risk_baselines (
  trader_id  TEXT NOT NULL,
  policy     TEXT NOT NULL CHECK (policy IN ('dailyStopLoss', 'totalStopLoss')),
  period     BIGINT,
  pv         NUMERIC NOT NULL,
  source     TEXT NOT NULL CHECK (source IN ('firstSample', 'release')),
  at         BIGINT NOT NULL,
  PRIMARY KEY (trader_id, policy)
);

-- Exchange API keys. The *_sealed columns hold AES-256-GCM boxes (runtime/crypto/secretbox.ts)
-- naming the encryption key that sealed them; `sealed_with` repeats it for rotation queries.
-- Only the last four characters of the API key are kept in clear, as a hint.
CREATE TABLE exchange_keys (
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL REFERENCES users(id),
  exchange           TEXT NOT NULL CHECK (exchange IN ('binanceusdm', 'bybit', 'okx', 'bitget', 'paper')),
  label              TEXT NOT NULL,
  api_key_sealed     TEXT NOT NULL,
  secret_sealed      TEXT NOT NULL,
  passphrase_sealed  TEXT,
  sealed_with        TEXT NOT NULL,
  key_hint           TEXT NOT NULL CHECK (length(key_hint) <= 4),
  status             TEXT NOT NULL DEFAULT 'unchecked'
                     CHECK (status IN ('valid', 'invalid', 'revoked', 'disabled', 'unchecked')),
  status_reason      TEXT,
  created_at         BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL,
  revoked_at         BIGINT
);
CREATE INDEX exchange_keys_user_idx ON exchange_keys (user_id, created_at);
CREATE INDEX exchange_keys_sealed_with_idx ON exchange_keys (sealed_with);

-- The history of every key, kept after the key is deleted (no foreign key on purpose).
CREATE TABLE exchange_key_events (
  id       BIGSERIAL PRIMARY KEY,
  key_id   TEXT NOT NULL,
  user_id  TEXT NOT NULL,
  at       BIGINT NOT NULL,
  action   TEXT NOT NULL
           CHECK (action IN ('created', 'changed', 'validated', 'invalidated', 'revoked', 'disabled', 'deleted', 'rotated')),
  by       TEXT NOT NULL,
  reason   TEXT
);
CREATE INDEX exchange_key_events_key_idx ON exchange_key_events (key_id, id);
CREATE INDEX exchange_key_events_user_idx ON exchange_key_events (user_id, id);
