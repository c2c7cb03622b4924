/**
 * An in-memory `AccountsStore` with the same behaviour as the SQL one (a shared contract test
 * runs against both): for console tests over the fake api, and anywhere a database is overkill.
 */
import type {
  AccountRecord,
  AccountsStore,
  ApiTokenRecord,
  AuditEntry,
  SessionRecord,
  SignInAttempt,
} from './types.ts';
import { DuplicateEmailError } from './types.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Creates an empty in-memory accounts store. */
export function createMemoryAccountsStore(): AccountsStore {
  const users = new Map<string, Mutable<AccountRecord>>();
  const codes = new Map<string, Map<string, { createdAt: number; usedAt: number | null }>>();
  const members = new Map<string, Set<string>>(); // userId → managerIds
  const sessions = new Map<string, Mutable<SessionRecord>>();
  const attempts: SignInAttempt[] = [];
  const audit: AuditEntry[] = [];
  const tokens = new Map<string, Mutable<ApiTokenRecord>>();
  let auditId = 0;

  const byEmail = (email: string) => [...users.values()].find((u) => u.email.toLowerCase() === email.toLowerCase());
  const copy = <T extends object>(v: T | undefined): T | null => (v ? { ...v } : null);
  const update = (id: string, patch: Partial<Mutable<AccountRecord>>) => {
    const u = users.get(id);
    if (u) Object.assign(u, patch);
    return u;
  };

  return {
    users: {
      async create(a) {
        if (byEmail(a.email)) throw new DuplicateEmailError(a.email);
        if (users.has(a.id)) throw new Error(`a user with id ${a.id} already exists`);
        users.set(a.id, {
          id: a.id,
          email: a.email,
          displayName: a.displayName,
          role: a.role,
          status: a.status ?? 'active',
          passwordHash: a.passwordHash,
          totpSecret: null,
          totpEnabled: false,
          totpLastStep: null,
          failedAttempts: 0,
          lockedUntil: null,
          lastSignInAt: null,
          lastSignInIp: null,
          passwordChangedAt: a.passwordHash ? a.createdAt : null,
          createdAt: a.createdAt,
        });
      },
      async get(id) {
        return copy(users.get(id));
      },
      async getByEmail(email) {
        return copy(byEmail(email));
      },
      async list() {
        return [...users.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)).map((u) => ({ ...u }));
      },
      async setPassword(id, hash, at) {
        update(id, { passwordHash: hash, passwordChangedAt: at });
      },
      async setRole(id, role) {
        update(id, { role });
      },
      async setStatus(id, status) {
        update(id, { status });
      },
      async recordFailure(id, at, policy) {
        const u = users.get(id);
        if (!u) return { failedAttempts: 0, lockedUntil: null };
        const n = u.failedAttempts + 1;
        if (n >= policy.maxFailures) {
          u.failedAttempts = 0;
          u.lockedUntil = at + policy.lockMs;
        } else {
          u.failedAttempts = n;
        }
        return { failedAttempts: u.failedAttempts, lockedUntil: u.lockedUntil };
      },
      async recordSuccess(id, at, ip) {
        update(id, { failedAttempts: 0, lockedUntil: null, lastSignInAt: at, lastSignInIp: ip });
      },
      async setPendingTotp(id, sealed) {
        const u = users.get(id);
        if (!u || u.totpEnabled) return false;
        u.totpSecret = sealed;
        u.totpLastStep = null;
        return true;
      },
      async enableTotp(id, step) {
        const u = users.get(id);
        if (!u || u.totpEnabled || !u.totpSecret) return false;
        u.totpEnabled = true;
        u.totpLastStep = step;
        return true;
      },
      async disableTotp(id) {
        update(id, { totpEnabled: false, totpSecret: null, totpLastStep: null });
      },
      async useTotpStep(id, step) {
        const u = users.get(id);
        if (!u || (u.totpLastStep !== null && u.totpLastStep >= step)) return false;
        u.totpLastStep = step;
        return true;
      },
    },
    recoveryCodes: {
      async replace(userId, hashes, at) {
        codes.set(userId, new Map(hashes.map((h) => [h, { createdAt: at, usedAt: null }])));
      },
      async use(userId, hash, at) {
        const c = codes.get(userId)?.get(hash);
        if (!c || c.usedAt !== null) return false;
        c.usedAt = at;
        return true;
      },
      async remaining(userId) {
        return [...(codes.get(userId)?.values() ?? [])].filter((c) => c.usedAt === null).length;
      },
      async deleteAll(userId) {
        codes.delete(userId);
      },
    },
    memberships: {
      async groupsOf(userId) {
        return [...(members.get(userId) ?? [])].sort();
      },
      async setGroups(userId, managerIds) {
        members.set(userId, new Set(managerIds));
      },
      async membersOf(managerId) {
        return [...members.entries()]
          .filter(([, m]) => m.has(managerId))
          .map(([u]) => u)
          .sort();
      },
    },
    sessions: {
      async insert(s) {
        sessions.set(s.id, { ...s });
      },
      async get(id) {
        return copy(sessions.get(id));
      },
      async touch(id, lastSeenAt, idleExpiresAt) {
        const s = sessions.get(id);
        if (s && s.revokedAt === null) Object.assign(s, { lastSeenAt, idleExpiresAt });
      },
      async revoke(id, at, reason) {
        const s = sessions.get(id);
        if (!s || s.revokedAt !== null) return false;
        s.revokedAt = at;
        s.revokedReason = reason;
        return true;
      },
      async revokeAllForUser(userId, at, reason, exceptId) {
        const ids: string[] = [];
        for (const s of sessions.values()) {
          if (s.userId !== userId || s.revokedAt !== null || s.id === exceptId) continue;
          s.revokedAt = at;
          s.revokedReason = reason;
          ids.push(s.id);
        }
        return ids;
      },
      async listActiveForUser(userId, now) {
        return [...sessions.values()]
          .filter((s) => s.userId === userId && s.revokedAt === null && s.idleExpiresAt > now && s.absoluteExpiresAt > now)
          .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
          .map((s) => ({ ...s }));
      },
      async purge(before) {
        let n = 0;
        for (const s of [...sessions.values()]) {
          if ((s.revokedAt !== null && s.revokedAt < before) || s.absoluteExpiresAt < before || s.idleExpiresAt < before) {
            sessions.delete(s.id);
            n++;
          }
        }
        return n;
      },
    },
    attempts: {
      async record(a) {
        attempts.push({ ...a });
      },
      async countByIp(ip, since) {
        return attempts.filter((a) => a.ip === ip && a.at >= since).length;
      },
      async countFailuresByEmail(email, since) {
        return attempts.filter((a) => a.email === email && a.at >= since && !a.ok).length;
      },
      async recent(opts) {
        return attempts
          .filter((a) => (!opts.userId || a.userId === opts.userId) && (opts.since === undefined || a.at >= opts.since))
          .slice(-opts.limit)
          .reverse()
          .map((a) => ({ ...a }));
      },
      async purge(before) {
        const kept = attempts.filter((a) => a.at >= before);
        const n = attempts.length - kept.length;
        attempts.splice(0, attempts.length, ...kept);
        return n;
      },
    },
    audit: {
      async append(e) {
        auditId++;
        audit.push({ ...e, id: auditId, before: e.before ?? null, after: e.after ?? null });
        return auditId;
      },
      async list(q) {
        return audit
          .filter(
            (e) =>
              (q.beforeId === undefined || (e.id ?? 0) < q.beforeId) &&
              (q.actorUserId === undefined || e.actorUserId === q.actorUserId) &&
              (q.targetType === undefined || e.targetType === q.targetType) &&
              (q.targetId === undefined || e.targetId === q.targetId) &&
              (q.action === undefined || e.action === q.action) &&
              (q.actions === undefined || q.actions.includes(e.action)) &&
              (q.actionPrefix === undefined || e.action.startsWith(q.actionPrefix)) &&
              (q.since === undefined || e.at >= q.since) &&
              (q.until === undefined || e.at <= q.until),
          )
          .reverse()
          .slice(0, q.limit)
          .map((e) => structuredClone(e));
      },
    },
    apiTokens: {
      async insert(t) {
        tokens.set(t.id, { ...t });
      },
      async findByHash(hash) {
        return copy([...tokens.values()].find((t) => t.tokenHash === hash));
      },
      async touch(id, at) {
        const t = tokens.get(id);
        if (t) t.lastUsedAt = at;
      },
      async revoke(id, at) {
        const t = tokens.get(id);
        if (!t || t.revokedAt !== null) return false;
        t.revokedAt = at;
        return true;
      },
      async listForUser(userId) {
        return [...tokens.values()]
          .filter((t) => t.userId === userId)
          .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
          .map((t) => ({ ...t }));
      },
    },
  };
}
