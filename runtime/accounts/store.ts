/**
 * `createAccountsStore(sql)`: the accounts repositories over porsager's `postgres` client,
 * identical on PostgreSQL and on PGlite behind its socket.
 */
import type postgres from 'postgres';
import { transaction, type Sql } from '../store/index.ts';
import { AccountRow, ApiTokenRow, AttemptRow, AuditRow, CountRow, SessionRow, parseRows } from './rows.ts';
import type {
  AccountRecord,
  AccountsStore,
  AccountUsersRepo,
  ApiTokenRecord,
  ApiTokensRepo,
  AuditEntry,
  AuditRepo,
  MembershipsRepo,
  RecoveryCodesRepo,
  SessionRecord,
  SessionsRepo,
  SignInAttempt,
  SignInAttemptsRepo,
} from './types.ts';
import { DuplicateEmailError } from './types.ts';

type AccountRowT = ReturnType<typeof AccountRow.parse>;

function toAccount(r: AccountRowT): AccountRecord {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    role: r.role,
    status: r.status,
    passwordHash: r.password_hash,
    totpSecret: r.totp_secret,
    totpEnabled: r.totp_enabled,
    totpLastStep: r.totp_last_step,
    failedAttempts: r.failed_attempts,
    lockedUntil: r.locked_until,
    lastSignInAt: r.last_sign_in_at,
    lastSignInIp: r.last_sign_in_ip,
    passwordChangedAt: r.password_changed_at,
    createdAt: r.created_at,
  };
}

const ACCOUNT_COLUMNS = 'id, email, display_name, role, status, password_hash, totp_secret, totp_enabled, totp_last_step, failed_attempts, locked_until, last_sign_in_at, last_sign_in_ip, password_changed_at, created_at';

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}

function usersRepo(sql: Sql): AccountUsersRepo {
  const one = async (rows: readonly unknown[]) => {
    const [r] = parseRows(AccountRow, rows, 'users');
    return r ? toAccount(r) : null;
  };
  return {
    async create(a) {
      try {
        await sql`
          INSERT INTO users (id, email, display_name, role, created_at, password_hash, status, password_changed_at)
          VALUES (${a.id}, ${a.email}, ${a.displayName}, ${a.role}, ${a.createdAt}, ${a.passwordHash}, ${a.status ?? 'active'},
            ${a.passwordHash ? a.createdAt : null})`;
      } catch (err) {
        if (isUniqueViolation(err) && /email/.test(String((err as { constraint_name?: string }).constraint_name ?? (err as Error).message)))
          throw new DuplicateEmailError(a.email);
        throw err;
      }
    },
    async get(id) {
      return one(await sql.unsafe(`SELECT ${ACCOUNT_COLUMNS} FROM users WHERE id = $1`, [id]));
    },
    async getByEmail(email) {
      return one(await sql.unsafe(`SELECT ${ACCOUNT_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]));
    },
    async list() {
      return parseRows(AccountRow, await sql.unsafe(`SELECT ${ACCOUNT_COLUMNS} FROM users ORDER BY created_at, id`), 'users').map(toAccount);
    },
    async setPassword(id, hash, at) {
      await sql`UPDATE users SET password_hash = ${hash}, password_changed_at = ${at} WHERE id = ${id}`;
    },
    async setRole(id, role) {
      await sql`UPDATE users SET role = ${role} WHERE id = ${id}`;
    },
    async setStatus(id, status) {
      await sql`UPDATE users SET status = ${status} WHERE id = ${id}`;
    },
    async recordFailure(id, at, policy) {
      const rows = await sql`
        UPDATE users SET
          failed_attempts = CASE WHEN failed_attempts + 1 >= ${policy.maxFailures} THEN 0 ELSE failed_attempts + 1 END,
          locked_until = CASE WHEN failed_attempts + 1 >= ${policy.maxFailures} THEN ${at + policy.lockMs}::bigint ELSE locked_until END
        WHERE id = ${id}
        RETURNING failed_attempts, locked_until`;
      const r = rows[0] as { failed_attempts: number; locked_until: number | null } | undefined;
      return { failedAttempts: r?.failed_attempts ?? 0, lockedUntil: r?.locked_until ?? null };
    },
    async recordSuccess(id, at, ip) {
      await sql`UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = ${at}, last_sign_in_ip = ${ip} WHERE id = ${id}`;
    },
    async setPendingTotp(id, sealed) {
      const res = await sql`UPDATE users SET totp_secret = ${sealed}, totp_last_step = NULL WHERE id = ${id} AND totp_enabled = false`;
      return res.count === 1;
    },
    async enableTotp(id, step) {
      const res = await sql`
        UPDATE users SET totp_enabled = true, totp_last_step = ${step}
        WHERE id = ${id} AND totp_enabled = false AND totp_secret IS NOT NULL`;
      return res.count === 1;
    },
    async disableTotp(id) {
      await sql`UPDATE users SET totp_enabled = false, totp_secret = NULL, totp_last_step = NULL WHERE id = ${id}`;
    },
    async useTotpStep(id, step) {
      const res = await sql`
        UPDATE users SET totp_last_step = ${step}
        WHERE id = ${id} AND (totp_last_step IS NULL OR totp_last_step < ${step})`;
      return res.count === 1;
    },
  };
}

function recoveryCodesRepo(sql: Sql): RecoveryCodesRepo {
  return {
    async replace(userId, hashes, at) {
      await transaction(sql, async (tx) => {
        await tx`DELETE FROM recovery_codes WHERE user_id = ${userId}`;
        if (hashes.length > 0) {
          await tx`INSERT INTO recovery_codes ${tx(hashes.map((h) => ({ user_id: userId, code_hash: h, created_at: at })))}`;
        }
      });
    },
    async use(userId, hash, at) {
      const res = await sql`UPDATE recovery_codes SET used_at = ${at} WHERE user_id = ${userId} AND code_hash = ${hash} AND used_at IS NULL`;
      return res.count === 1;
    },
    async remaining(userId) {
      const [r] = parseRows(CountRow, await sql`SELECT count(*) AS n FROM recovery_codes WHERE user_id = ${userId} AND used_at IS NULL`, 'recovery_codes');
      return r?.n ?? 0;
    },
    async deleteAll(userId) {
      await sql`DELETE FROM recovery_codes WHERE user_id = ${userId}`;
    },
  };
}

function membershipsRepo(sql: Sql): MembershipsRepo {
  return {
    async groupsOf(userId) {
      const rows = await sql<{ manager_id: string }[]>`SELECT manager_id FROM manager_members WHERE user_id = ${userId} ORDER BY manager_id`;
      return rows.map((r) => r.manager_id);
    },
    async setGroups(userId, managerIds) {
      await transaction(sql, async (tx) => {
        await tx`DELETE FROM manager_members WHERE user_id = ${userId}`;
        const unique = [...new Set(managerIds)];
        if (unique.length > 0) await tx`INSERT INTO manager_members ${tx(unique.map((m) => ({ manager_id: m, user_id: userId })))}`;
      });
    },
    async membersOf(managerId) {
      const rows = await sql<{ user_id: string }[]>`SELECT user_id FROM manager_members WHERE manager_id = ${managerId} ORDER BY user_id`;
      return rows.map((r) => r.user_id);
    },
  };
}

function toSession(r: ReturnType<typeof SessionRow.parse>): SessionRecord {
  return {
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    idleExpiresAt: r.idle_expires_at,
    absoluteExpiresAt: r.absolute_expires_at,
    ip: r.ip,
    userAgent: r.user_agent,
    csrfToken: r.csrf_token,
    mfaVerified: r.mfa_verified,
    revokedAt: r.revoked_at,
    revokedReason: r.revoked_reason,
  };
}

function sessionsRepo(sql: Sql): SessionsRepo {
  return {
    async insert(s) {
      await sql`
        INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, ip, user_agent,
          csrf_token, mfa_verified, revoked_at, revoked_reason)
        VALUES (${s.id}, ${s.userId}, ${s.createdAt}, ${s.lastSeenAt}, ${s.idleExpiresAt}, ${s.absoluteExpiresAt}, ${s.ip},
          ${s.userAgent}, ${s.csrfToken}, ${s.mfaVerified}, ${s.revokedAt}, ${s.revokedReason})`;
    },
    async get(id) {
      const [r] = parseRows(SessionRow, await sql`SELECT * FROM sessions WHERE id = ${id}`, 'sessions');
      return r ? toSession(r) : null;
    },
    async touch(id, lastSeenAt, idleExpiresAt) {
      await sql`UPDATE sessions SET last_seen_at = ${lastSeenAt}, idle_expires_at = ${idleExpiresAt} WHERE id = ${id} AND revoked_at IS NULL`;
    },
    async revoke(id, at, reason) {
      const res = await sql`UPDATE sessions SET revoked_at = ${at}, revoked_reason = ${reason} WHERE id = ${id} AND revoked_at IS NULL`;
      return res.count === 1;
    },
    async revokeAllForUser(userId, at, reason, exceptId) {
      const rows = await sql<{ id: string }[]>`
        UPDATE sessions SET revoked_at = ${at}, revoked_reason = ${reason}
        WHERE user_id = ${userId} AND revoked_at IS NULL AND id <> ${exceptId ?? ''}
        RETURNING id`;
      return rows.map((r) => r.id);
    },
    async listActiveForUser(userId, now) {
      const rows = await sql`
        SELECT * FROM sessions
        WHERE user_id = ${userId} AND revoked_at IS NULL AND idle_expires_at > ${now} AND absolute_expires_at > ${now}
        ORDER BY created_at DESC, id`;
      return parseRows(SessionRow, rows, 'sessions').map(toSession);
    },
    async purge(before) {
      const res = await sql`
        DELETE FROM sessions
        WHERE (revoked_at IS NOT NULL AND revoked_at < ${before}) OR absolute_expires_at < ${before} OR idle_expires_at < ${before}`;
      return res.count;
    },
  };
}

function attemptsRepo(sql: Sql): SignInAttemptsRepo {
  return {
    async record(a) {
      await sql`
        INSERT INTO sign_in_attempts (email, user_id, ip, at, ok, reason)
        VALUES (${a.email}, ${a.userId}, ${a.ip}, ${a.at}, ${a.ok}, ${a.reason})`;
    },
    async countByIp(ip, since) {
      const [r] = parseRows(CountRow, await sql`SELECT count(*) AS n FROM sign_in_attempts WHERE ip = ${ip} AND at >= ${since}`, 'sign_in_attempts');
      return r?.n ?? 0;
    },
    async countFailuresByEmail(email, since) {
      const [r] = parseRows(
        CountRow,
        await sql`SELECT count(*) AS n FROM sign_in_attempts WHERE email = ${email} AND at >= ${since} AND NOT ok`,
        'sign_in_attempts',
      );
      return r?.n ?? 0;
    },
    async recent(opts) {
      const rows = await sql`
        SELECT * FROM sign_in_attempts
        WHERE (${opts.userId ?? null}::text IS NULL OR user_id = ${opts.userId ?? null}::text)
          AND (${opts.since ?? null}::bigint IS NULL OR at >= ${opts.since ?? null}::bigint)
        ORDER BY id DESC LIMIT ${opts.limit}`;
      return parseRows(AttemptRow, rows, 'sign_in_attempts').map(
        (r): SignInAttempt => ({ email: r.email, userId: r.user_id, ip: r.ip, at: r.at, ok: r.ok, reason: r.reason }),
      );
    },
    async purge(before) {
      return (await sql`DELETE FROM sign_in_attempts WHERE at < ${before}`).count;
    },
  };
}

function jsonOrNull(q: Sql, v: unknown): postgres.Parameter | null {
  return v === undefined || v === null ? null : q.json(v as postgres.JSONValue);
}

function auditRepo(sql: Sql): AuditRepo {
  return {
    async append(e) {
      const [r] = await sql<{ id: number }[]>`
        INSERT INTO audit_log (at, actor_user_id, actor_label, ip, action, target_type, target_id, outcome, message, before, after)
        VALUES (${e.at}, ${e.actorUserId}, ${e.actorLabel}, ${e.ip}, ${e.action}, ${e.targetType}, ${e.targetId}, ${e.outcome},
          ${e.message}, ${jsonOrNull(sql, e.before)}, ${jsonOrNull(sql, e.after)})
        RETURNING id`;
      return r!.id;
    },
    async list(q) {
      const rows = await sql`
        SELECT * FROM audit_log
        WHERE (${q.beforeId ?? null}::bigint IS NULL OR id < ${q.beforeId ?? null}::bigint)
          AND (${q.actorUserId ?? null}::text IS NULL OR actor_user_id = ${q.actorUserId ?? null}::text)
          AND (${q.targetType ?? null}::text IS NULL OR target_type = ${q.targetType ?? null}::text)
          AND (${q.targetId ?? null}::text IS NULL OR target_id = ${q.targetId ?? null}::text)
          AND (${q.action ?? null}::text IS NULL OR action = ${q.action ?? null}::text)
          ${q.actions !== undefined ? sql`AND action IN ${sql(q.actions.length ? [...q.actions] : [''])}` : sql``}
          ${q.actionPrefix !== undefined ? sql`AND starts_with(action, ${q.actionPrefix})` : sql``}
          AND (${q.since ?? null}::bigint IS NULL OR at >= ${q.since ?? null}::bigint)
          AND (${q.until ?? null}::bigint IS NULL OR at <= ${q.until ?? null}::bigint)
        ORDER BY id DESC
        LIMIT ${q.limit}`;
      return parseRows(AuditRow, rows, 'audit_log').map(
        (r): AuditEntry => ({
          id: r.id,
          at: r.at,
          actorUserId: r.actor_user_id,
          actorLabel: r.actor_label,
          ip: r.ip,
          action: r.action,
          targetType: r.target_type,
          targetId: r.target_id,
          outcome: r.outcome,
          message: r.message,
          before: r.before,
          after: r.after,
        }),
      );
    },
  };
}

function toToken(r: ReturnType<typeof ApiTokenRow.parse>): ApiTokenRecord {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    tokenHash: r.token_hash,
    scope: r.scope,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

function apiTokensRepo(sql: Sql): ApiTokensRepo {
  return {
    async insert(t) {
      await sql`
        INSERT INTO api_tokens (id, user_id, name, token_hash, scope, created_at, last_used_at, expires_at, revoked_at)
        VALUES (${t.id}, ${t.userId}, ${t.name}, ${t.tokenHash}, ${t.scope}, ${t.createdAt}, ${t.lastUsedAt}, ${t.expiresAt}, ${t.revokedAt})`;
    },
    async findByHash(hash) {
      const [r] = parseRows(ApiTokenRow, await sql`SELECT * FROM api_tokens WHERE token_hash = ${hash}`, 'api_tokens');
      return r ? toToken(r) : null;
    },
    async touch(id, at) {
      await sql`UPDATE api_tokens SET last_used_at = ${at} WHERE id = ${id}`;
    },
    async revoke(id, at) {
      const res = await sql`UPDATE api_tokens SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`;
      return res.count === 1;
    },
    async listForUser(userId) {
      return parseRows(ApiTokenRow, await sql`SELECT * FROM api_tokens WHERE user_id = ${userId} ORDER BY created_at DESC, id`, 'api_tokens').map(toToken);
    },
  };
}

/** Builds the accounts repositories over a migrated database. */
export function createAccountsStore(sql: Sql): AccountsStore {
  return {
    users: usersRepo(sql),
    recoveryCodes: recoveryCodesRepo(sql),
    memberships: membershipsRepo(sql),
    sessions: sessionsRepo(sql),
    attempts: attemptsRepo(sql),
    audit: auditRepo(sql),
    apiTokens: apiTokensRepo(sql),
  };
}
