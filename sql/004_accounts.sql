-- Accounts and access: sign-in credentials and two-factor state on users, manager groups,
-- server-side sessions, sign-in attempts (lockout and rate limit), the audit log and API
-- tokens. Times are epoch milliseconds (BIGINT) like the rest of the schema.

-- Roles are a closed set; anything else becomes the least privileged role that owns bots.
UPDATE users SET role = 'user' WHERE role NOT IN ('admin', 'operator', 'manager', 'user', 'viewer');
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator', 'manager', 'user', 'viewer'));
-- Emails are compared case-insensitively.
CREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email));

ALTER TABLE users
  ADD COLUMN password_hash     TEXT,                                -- argon2id PHC string; NULL: cannot sign in
  ADD COLUMN status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  ADD COLUMN totp_secret       TEXT,                                -- sealed (AES-256-GCM); pending while totp_enabled is false
  ADD COLUMN totp_enabled      BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN totp_last_step    BIGINT,                              -- last accepted time step: a code is never accepted twice
  ADD COLUMN failed_attempts   INTEGER NOT NULL DEFAULT 0,          -- consecutive failures since the last success
  ADD COLUMN locked_until      BIGINT,
  ADD COLUMN last_sign_in_at   BIGINT,
  ADD COLUMN last_sign_in_ip   TEXT,
  ADD COLUMN password_changed_at BIGINT;

-- Single-use recovery codes, stored as SHA-256 of high-entropy random codes.
CREATE TABLE recovery_codes (
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash   TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  used_at     BIGINT,
  PRIMARY KEY (user_id, code_hash)
);

-- The groups (manager desks) a user with the manager role sees and controls.
CREATE TABLE manager_members (
  manager_id  TEXT NOT NULL REFERENCES managers(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (manager_id, user_id)
);
CREATE INDEX manager_members_user_idx ON manager_members (user_id);

-- Server-side sessions. The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
  id                   TEXT PRIMARY KEY,                            -- hex SHA-256 of the cookie token
  user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at           BIGINT NOT NULL,
  last_seen_at         BIGINT NOT NULL,
  idle_expires_at      BIGINT NOT NULL,
  absolute_expires_at  BIGINT NOT NULL,
  ip                   TEXT NOT NULL DEFAULT '',
  user_agent           TEXT NOT NULL DEFAULT '',
  csrf_token           TEXT NOT NULL,
  mfa_verified         BOOLEAN NOT NULL DEFAULT false,
  revoked_at           BIGINT,
  revoked_reason       TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE sign_in_attempts (
  id       BIGSERIAL PRIMARY KEY,
  email    TEXT NOT NULL,                                           -- as typed, lower-cased (may match no user)
  user_id  TEXT REFERENCES users(id) ON DELETE SET NULL,
  ip       TEXT NOT NULL,
  at       BIGINT NOT NULL,
  ok       BOOLEAN NOT NULL,
  reason   TEXT NOT NULL                                            -- ok, bad_password, unknown_email, locked, rate_limited, bad_code, ...
);
CREATE INDEX sign_in_attempts_ip_idx ON sign_in_attempts (ip, at);
CREATE INDEX sign_in_attempts_email_idx ON sign_in_attempts (email, at);

-- Who did what, when, from where, and the state before and after.
CREATE TABLE audit_log (
  id             BIGSERIAL PRIMARY KEY,
  at             BIGINT NOT NULL,
  actor_user_id  TEXT,                                              -- NULL for the system
  actor_label    TEXT NOT NULL,
  ip             TEXT NOT NULL DEFAULT '',
  action         TEXT NOT NULL,                                     -- bot.pause, group.resume, account.2fa_enabled, ...
  target_type    TEXT NOT NULL,                                     -- trader, manager, platform, user, session
  target_id      TEXT,
  outcome        TEXT NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok', 'refused', 'denied')),
  message        TEXT NOT NULL DEFAULT '',
  before         JSONB,
  after          JSONB
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);

-- Bearer tokens for the JSON API; only a SHA-256 of the token is stored.
CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  scope         TEXT NOT NULL DEFAULT 'read' CHECK (scope IN ('read', 'write')),
  created_at    BIGINT NOT NULL,
  last_used_at  BIGINT,
  expires_at    BIGINT,
  revoked_at    BIGINT
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
