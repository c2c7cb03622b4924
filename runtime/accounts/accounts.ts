/**
 * The accounts service: sign-in with lockout and rate limiting, server-side sessions with idle
 * and absolute expiry, TOTP two-factor with recovery codes, password changes, Force Logout,
 * API tokens and the audit log, over an `AccountsStore`. Time comes from the injected clock.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { open, seal, type SecretKeyring } from '../crypto/index.ts';
import { errorMessage } from '../domain.ts';
import { createPasswordHasher, passwordProblem, type PasswordHasher } from './passwords.ts';
import type { Permission, Principal, Role } from './permissions.ts';
import { can } from './permissions.ts';
import {
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  looksLikeRecoveryCode,
  matchTotp,
  totpUri,
} from './totp.ts';
import type {
  AccountRecord,
  AccountsStore,
  ApiTokenRecord,
  ApiTokenScope,
  AuditOutcome,
  SessionRecord,
  SignInReason,
} from './types.ts';

/** Who performs an audited action, and from where. */
export interface AuditActor {
  /** Null for the system. */
  readonly userId: string | null;
  readonly label: string;
  readonly ip: string;
}

/** An audit entry before the writer stamps its time. */
export interface AuditInput {
  readonly actor: AuditActor;
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string | null };
  readonly outcome?: AuditOutcome;
  readonly message?: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Where audited actions are written (the platform's commands use it too). */
export interface AuditSink {
  record(input: AuditInput): Promise<void>;
}

/** Tunables; every field has a default. */
export interface AccountsOptions {
  readonly store: AccountsStore;
  /** Wall-clock time (never the simulated market clock). */
  readonly clock: Clock;
  readonly keyring: SecretKeyring;
  readonly hasher?: PasswordHasher;
  /** Roles that must have 2FA enabled before using the console (default admin, operator). */
  readonly require2faRoles?: readonly Role[];
  /** Session idle expiry (default 30 min). */
  readonly sessionIdleMs?: number;
  /** Session absolute expiry (default 12 h). */
  readonly sessionAbsoluteMs?: number;
  /** How long a password-verified session may wait for its second factor (default 5 min). */
  readonly pendingMfaMs?: number;
  /** A session's last-seen time is written at most this often (default 60 s). */
  readonly touchEveryMs?: number;
  /** Consecutive failures that lock an account (default 5). */
  readonly maxFailures?: number;
  /** How long a lock lasts (default 15 min). */
  readonly lockMs?: number;
  /** Sign-in attempts allowed per IP per window (default 20 per 10 min). */
  readonly ipMaxAttempts?: number;
  readonly ipWindowMs?: number;
  /** Issuer shown in authenticator apps. */
  readonly issuer?: string;
}

/** The resolved policy (what the options became). */
export interface AccountsPolicy {
  readonly require2faRoles: readonly Role[];
  readonly sessionIdleMs: number;
  readonly sessionAbsoluteMs: number;
  readonly pendingMfaMs: number;
  readonly touchEveryMs: number;
  readonly maxFailures: number;
  readonly lockMs: number;
  readonly ipMaxAttempts: number;
  readonly ipWindowMs: number;
  readonly issuer: string;
}

/** Where a request comes from. */
export interface ClientInfo {
  readonly ip: string;
  readonly userAgent: string;
}

/** A session as a request sees it: the record, its user and the principal. */
export interface AuthenticatedSession {
  readonly session: SessionRecord;
  readonly user: AccountRecord;
  readonly principal: Principal;
  /** The user must enrol 2FA before anything else (their role requires it). */
  readonly mustEnrol2fa: boolean;
}

/** A new session and the token for its cookie (the token is never stored). */
export interface IssuedSession {
  readonly token: string;
  readonly session: SessionRecord;
}

/** Why a sign-in was refused. */
export type SignInRefusal = 'invalid' | 'locked' | 'rate_limited' | 'suspended';

/** The outcome of a password sign-in. */
export type SignInResult =
  | { readonly ok: true; readonly issued: IssuedSession; readonly user: AccountRecord; readonly needsSecondFactor: boolean }
  | { readonly ok: false; readonly refusal: SignInRefusal; readonly message: string; readonly retryAfterMs?: number };

/** The outcome of a second-factor check. */
export type SecondFactorResult =
  | { readonly ok: true; readonly issued: IssuedSession; readonly user: AccountRecord; readonly usedRecoveryCode: boolean; readonly recoveryCodesLeft: number | null }
  | { readonly ok: false; readonly refusal: SignInRefusal | 'expired'; readonly message: string; readonly retryAfterMs?: number };

/** Done, or refused with a sentence a person can read. */
export type Done = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** A value, or a refusal with a sentence a person can read. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** What a new account needs. */
export interface NewUserInput {
  readonly id?: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  /** Null: no password (cannot sign in until one is set). */
  readonly password: string | null;
  /** The groups of a manager. */
  readonly groups?: readonly string[];
}

/** The accounts service. */
export interface Accounts {
  readonly store: AccountsStore;
  readonly hasher: PasswordHasher;
  readonly policy: AccountsPolicy;
  readonly audit: AuditSink;

  /** The principal of an account (with a manager's groups). */
  principalOf(user: AccountRecord): Promise<Principal>;
  /** True when the account's role requires 2FA and it has none. */
  mustEnrol2fa(user: AccountRecord): boolean;

  /** Checks email and password (rate limit, lockout); issues a full or a second-factor-pending session. */
  signIn(email: string, password: string, client: ClientInfo): Promise<SignInResult>;
  /** Completes a pending session with a TOTP or recovery code; issues a new full session. */
  verifySecondFactor(pending: SessionRecord, code: string, client: ClientInfo): Promise<SecondFactorResult>;
  /** The live session of a cookie token (touching its idle expiry), or null. */
  authenticate(token: string): Promise<AuthenticatedSession | null>;
  /** True while a session is neither revoked nor expired (and its user active). */
  isSessionActive(sessionId: string): Promise<boolean>;
  /** Ends the session of a cookie token. */
  signOut(token: string): Promise<void>;
  /** Ends every session of a user (all but `exceptSessionId`); audited as Force Logout when an actor is given. */
  revokeAllSessions(userId: string, reason: string, opts?: { readonly exceptSessionId?: string; readonly actor?: AuditActor }): Promise<number>;
  /** Listens for revoked sessions in this process (live streams close on it). */
  onSessionsRevoked(listener: (sessionIds: readonly string[]) => void): () => void;

  /** Starts (or resumes) 2FA enrolment: a pending secret and its otpauth URI. */
  beginTotpEnrolment(userId: string): Promise<Outcome<{ secret: string; uri: string }>>;
  /** Enables 2FA when the code matches the pending secret; returns the recovery codes (shown once). */
  confirmTotpEnrolment(actor: AuditActor, userId: string, code: string): Promise<Outcome<{ recoveryCodes: string[] }>>;
  /** Disables 2FA after a fresh TOTP code; refused for roles that require 2FA. */
  disableTotp(actor: AuditActor, userId: string, code: string): Promise<Done>;
  /** Replaces the recovery codes after a fresh TOTP code. */
  regenerateRecoveryCodes(actor: AuditActor, userId: string, code: string): Promise<Outcome<{ recoveryCodes: string[] }>>;
  /** Unused recovery codes left. */
  recoveryCodesLeft(userId: string): Promise<number>;

  /** Changes one's own password (the current one is required) and ends the user's other sessions. */
  changePassword(actor: AuditActor, userId: string, current: string, next: string, keepSessionId: string): Promise<Done>;
  /** Sets a password without the current one (admin reset, first run); ends every session. */
  setPassword(userId: string, password: string): Promise<Done>;
  /** Creates an account; throws `DuplicateEmailError` when the email is taken. */
  createUser(input: NewUserInput): Promise<AccountRecord>;

  /** Creates an API token; the token is returned once. */
  createApiToken(userId: string, name: string, scope: ApiTokenScope, expiresAt?: number | null): Promise<{ token: string; record: ApiTokenRecord }>;
  /** The principal of a bearer token, or null when unknown, revoked, expired or its user inactive. */
  authenticateApiToken(token: string): Promise<{ principal: Principal; record: ApiTokenRecord } | null>;
  /** True when a principal may use a permission (re-exported convenience). */
  can(p: Principal, permission: Permission): boolean;
  /** Deletes sessions ended and sign-in attempts older than the retention (7 and 30 days); sign-in runs it hourly. */
  housekeeping(): Promise<{ sessions: number; attempts: number }>;
}

/** How long ended sessions and old sign-in attempts are kept. */
export const RETENTION = { sessionsMs: 7 * 86_400_000, attemptsMs: 30 * 86_400_000 } as const;

/** Format of a session cookie token: 32 random bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const API_TOKEN = /^fleet_[A-Za-z0-9_-]{43}$/;

/** Hex SHA-256 (ids of sessions and API tokens). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A random base64url string of `bytes` bytes. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Normalizes an email for lookup and storage. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const MINUTE = 60_000;

/** Creates the accounts service. */
export function createAccounts(opts: AccountsOptions): Accounts {
  const { store, clock, keyring } = opts;
  const hasher = opts.hasher ?? createPasswordHasher();
  const policy: AccountsPolicy = {
    require2faRoles: opts.require2faRoles ?? ['admin', 'operator'],
    sessionIdleMs: opts.sessionIdleMs ?? 30 * MINUTE,
    sessionAbsoluteMs: opts.sessionAbsoluteMs ?? 12 * 60 * MINUTE,
    pendingMfaMs: opts.pendingMfaMs ?? 5 * MINUTE,
    touchEveryMs: opts.touchEveryMs ?? MINUTE,
    maxFailures: opts.maxFailures ?? 5,
    lockMs: opts.lockMs ?? 15 * MINUTE,
    ipMaxAttempts: opts.ipMaxAttempts ?? 20,
    ipWindowMs: opts.ipWindowMs ?? 10 * MINUTE,
    issuer: opts.issuer ?? 'Fleet Console',
  };
  const revokedListeners = new Set<(ids: readonly string[]) => void>();
  const notifyRevoked = (ids: readonly string[]) => {
    if (ids.length === 0) return;
    for (const l of revokedListeners) {
      try {
        l(ids);
      } catch {
        // A listener's failure must not undo a revocation.
      }
    }
  };
  // A hash verified for unknown emails, so their answer takes as long as a real account's.
  let dummyHash: Promise<string> | null = null;
  const burnTime = async (password: string) => {
    dummyHash ??= hasher.hash(randomToken(16));
    await hasher.verify(await dummyHash, password);
  };

  const audit: AuditSink = {
    async record(input) {
      await store.audit.append({
        at: clock.now(),
        actorUserId: input.actor.userId,
        actorLabel: input.actor.label,
        ip: input.actor.ip,
        action: input.action,
        targetType: input.target.type,
        targetId: input.target.id,
        outcome: input.outcome ?? 'ok',
        message: input.message ?? '',
        before: input.before ?? null,
        after: input.after ?? null,
      });
    },
  };

  const principalOf = async (user: AccountRecord): Promise<Principal> => ({
    userId: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    managerIds: user.role === 'manager' ? await store.memberships.groupsOf(user.id) : [],
  });

  const mustEnrol2fa = (user: AccountRecord) => policy.require2faRoles.includes(user.role) && !user.totpEnabled;

  const issue = async (user: AccountRecord, client: ClientInfo, mfaVerified: boolean): Promise<IssuedSession> => {
    const now = clock.now();
    const token = randomToken();
    const absolute = now + (mfaVerified ? policy.sessionAbsoluteMs : policy.pendingMfaMs);
    const session: SessionRecord = {
      id: sha256Hex(token),
      userId: user.id,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(absolute, now + policy.sessionIdleMs),
      absoluteExpiresAt: absolute,
      ip: client.ip.slice(0, 100),
      userAgent: client.userAgent.slice(0, 400),
      csrfToken: randomToken(),
      mfaVerified,
      revokedAt: null,
      revokedReason: null,
    };
    await store.sessions.insert(session);
    return { token, session };
  };

  const lockedMessage = (until: number) => {
    const minutes = Math.max(1, Math.ceil((until - clock.now()) / MINUTE));
    return `Too many failed sign-ins: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  };
  const INVALID = 'The email or password is incorrect.';

  const rateLimited = async (ip: string): Promise<SignInResult & { ok: false } | null> => {
    const now = clock.now();
    const n = await store.attempts.countByIp(ip, now - policy.ipWindowMs);
    if (n < policy.ipMaxAttempts) return null;
    return {
      ok: false,
      refusal: 'rate_limited',
      message: `Too many sign-in attempts from your address: try again in ${Math.round(policy.ipWindowMs / MINUTE)} minutes.`,
      retryAfterMs: policy.ipWindowMs,
    };
  };

  const attempt = (email: string, userId: string | null, ip: string, ok: boolean, reason: SignInReason) =>
    store.attempts.record({ email, userId, ip, at: clock.now(), ok, reason });

  const openSecret = (user: AccountRecord): string | null => {
    if (!user.totpSecret) return null;
    return open(user.totpSecret, keyring.keys);
  };

  /** Checks a fresh TOTP code (replay-proof) for an account with 2FA enabled. */
  const checkTotp = async (user: AccountRecord, code: string): Promise<boolean> => {
    const secret = openSecret(user);
    if (!secret) return false;
    const step = matchTotp(secret, code, clock.now());
    if (step === null) return false;
    return store.users.useTotpStep(user.id, step);
  };

  const revokeAll = async (userId: string, reason: string, exceptId?: string) => {
    const ids = await store.sessions.revokeAllForUser(userId, clock.now(), reason, exceptId);
    notifyRevoked(ids);
    return ids.length;
  };

  const housekeeping = async () => {
    const now = clock.now();
    return {
      sessions: await store.sessions.purge(now - RETENTION.sessionsMs),
      attempts: await store.attempts.purge(now - RETENTION.attemptsMs),
    };
  };
  let lastHousekeeping = Number.NEGATIVE_INFINITY;

  const newRecoveryCodes = async (userId: string) => {
    const codes = generateRecoveryCodes();
    await store.recoveryCodes.replace(userId, codes.map(hashRecoveryCode), clock.now());
    return codes;
  };

  return {
    store,
    hasher,
    policy,
    audit,
    principalOf,
    mustEnrol2fa,
    can,
    housekeeping,

    async signIn(rawEmail, password, client) {
      const email = normalizeEmail(rawEmail);
      if (clock.now() - lastHousekeeping >= 3_600_000) {
        lastHousekeeping = clock.now();
        await housekeeping();
      }
      const limited = await rateLimited(client.ip);
      if (limited) return limited;
      const now = clock.now();
      const user = await store.users.getByEmail(email);
      if (!user) {
        await burnTime(password);
        const prior = await store.attempts.countFailuresByEmail(email, now - policy.lockMs);
        await attempt(email, null, client.ip, false, 'unknown_email');
        if (prior >= policy.maxFailures) return { ok: false, refusal: 'locked', message: lockedMessage(now + policy.lockMs), retryAfterMs: policy.lockMs };
        return { ok: false, refusal: 'invalid', message: INVALID };
      }
      if (user.lockedUntil !== null && user.lockedUntil > now) {
        await attempt(email, user.id, client.ip, false, 'locked');
        return { ok: false, refusal: 'locked', message: lockedMessage(user.lockedUntil), retryAfterMs: user.lockedUntil - now };
      }
      const good = user.passwordHash ? await hasher.verify(user.passwordHash, password) : (await burnTime(password), false);
      if (!good) {
        await store.users.recordFailure(user.id, now, { maxFailures: policy.maxFailures, lockMs: policy.lockMs });
        await attempt(email, user.id, client.ip, false, user.passwordHash ? 'bad_password' : 'no_password');
        return { ok: false, refusal: 'invalid', message: INVALID };
      }
      if (user.status !== 'active') {
        await attempt(email, user.id, client.ip, false, 'suspended');
        return { ok: false, refusal: 'suspended', message: 'This account is suspended. Ask an administrator.' };
      }
      if (user.passwordHash && hasher.needsRehash(user.passwordHash)) {
        await store.users.setPassword(user.id, await hasher.hash(password), user.passwordChangedAt ?? now);
      }
      if (user.totpEnabled) {
        const issued = await issue(user, client, false);
        return { ok: true, issued, user, needsSecondFactor: true };
      }
      await store.users.recordSuccess(user.id, now, client.ip);
      await attempt(email, user.id, client.ip, true, 'ok');
      const issued = await issue(user, client, true);
      return { ok: true, issued, user: { ...user, failedAttempts: 0, lockedUntil: null, lastSignInAt: now, lastSignInIp: client.ip }, needsSecondFactor: false };
    },

    async verifySecondFactor(pending, code, client) {
      const now = clock.now();
      const live = await store.sessions.get(pending.id);
      if (!live || live.revokedAt !== null || live.mfaVerified || now >= live.absoluteExpiresAt) {
        return { ok: false, refusal: 'expired', message: 'The sign-in took too long or was already completed: sign in again.' };
      }
      const limited = await rateLimited(client.ip);
      if (limited) return limited;
      const user = await store.users.get(live.userId);
      if (!user || user.status !== 'active' || !user.totpEnabled) {
        await store.sessions.revoke(live.id, now, 'second factor unavailable');
        return { ok: false, refusal: 'expired', message: 'Two-factor sign-in is not available for this account: sign in again.' };
      }
      if (user.lockedUntil !== null && user.lockedUntil > now) {
        await store.sessions.revoke(live.id, now, 'locked');
        await attempt(user.email, user.id, client.ip, false, 'locked');
        return { ok: false, refusal: 'locked', message: lockedMessage(user.lockedUntil), retryAfterMs: user.lockedUntil - now };
      }
      const isRecovery = looksLikeRecoveryCode(code);
      const good = isRecovery ? await store.recoveryCodes.use(user.id, hashRecoveryCode(code), now) : await checkTotp(user, code);
      if (!good) {
        const f = await store.users.recordFailure(user.id, now, { maxFailures: policy.maxFailures, lockMs: policy.lockMs });
        await attempt(user.email, user.id, client.ip, false, 'bad_code');
        if (f.lockedUntil !== null && f.lockedUntil > now) {
          await store.sessions.revoke(live.id, now, 'locked');
          return { ok: false, refusal: 'locked', message: lockedMessage(f.lockedUntil), retryAfterMs: f.lockedUntil - now };
        }
        return {
          ok: false,
          refusal: 'invalid',
          message: isRecovery ? 'That recovery code is not valid or was already used.' : 'That code is not valid (or was already used): wait for the next one.',
        };
      }
      await store.users.recordSuccess(user.id, now, client.ip);
      await attempt(user.email, user.id, client.ip, true, isRecovery ? 'recovery_code' : 'ok');
      await store.sessions.revoke(live.id, now, 'second factor completed');
      const issued = await issue(user, client, true);
      let left: number | null = null;
      if (isRecovery) {
        left = await store.recoveryCodes.remaining(user.id);
        await audit.record({
          actor: { userId: user.id, label: user.displayName, ip: client.ip },
          action: 'account.recovery_code_used',
          target: { type: 'user', id: user.id },
          message: `${user.email} signed in with a recovery code (${left} left)`,
          after: { recoveryCodesLeft: left },
        });
      }
      return { ok: true, issued, user, usedRecoveryCode: isRecovery, recoveryCodesLeft: left };
    },

    async authenticate(token) {
      if (!TOKEN.test(token)) return null;
      const s = await store.sessions.get(sha256Hex(token));
      const now = clock.now();
      if (!s || s.revokedAt !== null || now >= s.idleExpiresAt || now >= s.absoluteExpiresAt) return null;
      const user = await store.users.get(s.userId);
      if (!user || user.status !== 'active') return null;
      let session = s;
      if (s.mfaVerified && now - s.lastSeenAt >= policy.touchEveryMs) {
        const idle = Math.min(s.absoluteExpiresAt, now + policy.sessionIdleMs);
        await store.sessions.touch(s.id, now, idle);
        session = { ...s, lastSeenAt: now, idleExpiresAt: idle };
      }
      return { session, user, principal: await principalOf(user), mustEnrol2fa: mustEnrol2fa(user) };
    },

    async isSessionActive(sessionId) {
      const s = await store.sessions.get(sessionId);
      const now = clock.now();
      if (!s || s.revokedAt !== null || now >= s.idleExpiresAt || now >= s.absoluteExpiresAt) return false;
      const user = await store.users.get(s.userId);
      return user !== null && user.status === 'active';
    },

    async signOut(token) {
      if (!TOKEN.test(token)) return;
      const id = sha256Hex(token);
      if (await store.sessions.revoke(id, clock.now(), 'signed out')) notifyRevoked([id]);
    },

    async revokeAllSessions(userId, reason, o = {}) {
      const n = await revokeAll(userId, reason, o.exceptSessionId);
      if (o.actor) {
        await audit.record({
          actor: o.actor,
          action: 'user.force_logout',
          target: { type: 'user', id: userId },
          message: `${o.actor.label} ended ${n} session${n === 1 ? '' : 's'} of ${userId}: ${reason}`,
          after: { sessionsEnded: n },
        });
      }
      return n;
    },

    onSessionsRevoked(listener) {
      revokedListeners.add(listener);
      return () => revokedListeners.delete(listener);
    },

    async beginTotpEnrolment(userId) {
      const user = await store.users.get(userId);
      if (!user) return { ok: false, error: 'unknown account' };
      if (user.totpEnabled) return { ok: false, error: 'two-factor authentication is already enabled' };
      let secret: string | null = null;
      try {
        secret = openSecret(user);
      } catch {
        secret = null; // sealed with a key no longer configured: start over with a new secret
      }
      if (!secret) {
        secret = generateTotpSecret();
        if (!(await store.users.setPendingTotp(userId, seal(secret, keyring.current.key, keyring.current.id)))) {
          return { ok: false, error: 'two-factor authentication is already enabled' };
        }
      }
      return { ok: true, value: { secret, uri: totpUri(secret, user.email, policy.issuer) } };
    },

    async confirmTotpEnrolment(actor, userId, code) {
      const user = await store.users.get(userId);
      if (!user) return { ok: false, error: 'unknown account' };
      if (user.totpEnabled) return { ok: false, error: 'two-factor authentication is already enabled' };
      let secret: string | null;
      try {
        secret = openSecret(user);
      } catch (err) {
        return { ok: false, error: `the enrolment secret cannot be read (${errorMessage(err)}): start the enrolment again` };
      }
      if (!secret) return { ok: false, error: 'start the enrolment first' };
      const step = matchTotp(secret, code, clock.now());
      if (step === null) return { ok: false, error: 'that code does not match: check the time on your device and enter the current code' };
      if (!(await store.users.enableTotp(userId, step))) return { ok: false, error: 'two-factor authentication is already enabled' };
      const recoveryCodes = await newRecoveryCodes(userId);
      await audit.record({
        actor,
        action: 'account.2fa_enabled',
        target: { type: 'user', id: userId },
        message: `two-factor authentication enabled for ${user.email}`,
        before: { totpEnabled: false },
        after: { totpEnabled: true, recoveryCodes: recoveryCodes.length },
      });
      return { ok: true, value: { recoveryCodes } };
    },

    async disableTotp(actor, userId, code) {
      const user = await store.users.get(userId);
      if (!user) return { ok: false, error: 'unknown account' };
      if (!user.totpEnabled) return { ok: false, error: 'two-factor authentication is not enabled' };
      if (policy.require2faRoles.includes(user.role)) {
        await audit.record({
          actor,
          action: 'account.2fa_disabled',
          target: { type: 'user', id: userId },
          outcome: 'refused',
          message: `two-factor authentication is required for the ${user.role} role`,
        });
        return { ok: false, error: `two-factor authentication is required for the ${user.role} role and cannot be disabled` };
      }
      if (!(await checkTotp(user, code))) return { ok: false, error: 'that code does not match (or was already used): enter the current code from your app' };
      await store.users.disableTotp(userId);
      await store.recoveryCodes.deleteAll(userId);
      await audit.record({
        actor,
        action: 'account.2fa_disabled',
        target: { type: 'user', id: userId },
        message: `two-factor authentication disabled for ${user.email}`,
        before: { totpEnabled: true },
        after: { totpEnabled: false },
      });
      return { ok: true };
    },

    async regenerateRecoveryCodes(actor, userId, code) {
      const user = await store.users.get(userId);
      if (!user) return { ok: false, error: 'unknown account' };
      if (!user.totpEnabled) return { ok: false, error: 'two-factor authentication is not enabled' };
      if (!(await checkTotp(user, code))) return { ok: false, error: 'that code does not match (or was already used): enter the current code from your app' };
      const before = await store.recoveryCodes.remaining(userId);
      const recoveryCodes = await newRecoveryCodes(userId);
      await audit.record({
        actor,
        action: 'account.recovery_codes_regenerated',
        target: { type: 'user', id: userId },
        message: `recovery codes replaced for ${user.email}`,
        before: { recoveryCodesLeft: before },
        after: { recoveryCodesLeft: recoveryCodes.length },
      });
      return { ok: true, value: { recoveryCodes } };
    },

    recoveryCodesLeft: (userId) => store.recoveryCodes.remaining(userId),

    async changePassword(actor, userId, current, next, keepSessionId) {
      const user = await store.users.get(userId);
      if (!user || !user.passwordHash) return { ok: false, error: 'this account has no password to change' };
      if (!(await hasher.verify(user.passwordHash, current))) return { ok: false, error: 'the current password is incorrect' };
      const problem = passwordProblem(next, { email: user.email });
      if (problem) return { ok: false, error: problem };
      if (next === current) return { ok: false, error: 'the new password must differ from the current one' };
      await store.users.setPassword(userId, await hasher.hash(next), clock.now());
      const ended = await revokeAll(userId, 'password changed', keepSessionId);
      await audit.record({
        actor,
        action: 'account.password_changed',
        target: { type: 'user', id: userId },
        message: `password changed for ${user.email}; ${ended} other session${ended === 1 ? '' : 's'} ended`,
        after: { otherSessionsEnded: ended },
      });
      return { ok: true };
    },

    async setPassword(userId, password) {
      const user = await store.users.get(userId);
      if (!user) return { ok: false, error: 'unknown account' };
      const problem = passwordProblem(password, { email: user.email });
      if (problem) return { ok: false, error: problem };
      await store.users.setPassword(userId, await hasher.hash(password), clock.now());
      await revokeAll(userId, 'password reset');
      return { ok: true };
    },

    async createUser(input) {
      const now = clock.now();
      const id = input.id ?? `u-${randomBytes(6).toString('hex')}`;
      await store.users.create({
        id,
        email: normalizeEmail(input.email),
        displayName: input.displayName,
        role: input.role,
        passwordHash: input.password === null ? null : await hasher.hash(input.password),
        createdAt: now,
      });
      if (input.groups) await store.memberships.setGroups(id, input.groups);
      const created = await store.users.get(id);
      if (!created) throw new Error(`account ${id} vanished after creation`);
      return created;
    },

    async createApiToken(userId, name, scope, expiresAt = null) {
      const token = `fleet_${randomToken()}`;
      const record: ApiTokenRecord = {
        id: `tok_${randomBytes(8).toString('hex')}`,
        userId,
        name: name.slice(0, 100),
        tokenHash: sha256Hex(token),
        scope,
        createdAt: clock.now(),
        lastUsedAt: null,
        expiresAt,
        revokedAt: null,
      };
      await store.apiTokens.insert(record);
      return { token, record };
    },

    async authenticateApiToken(token) {
      if (!API_TOKEN.test(token)) return null;
      const record = await store.apiTokens.findByHash(sha256Hex(token));
      const now = clock.now();
      if (!record || record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt <= now)) return null;
      const user = await store.users.get(record.userId);
      if (!user || user.status !== 'active') return null;
      await store.apiTokens.touch(record.id, now);
      const p = await principalOf(user);
      return { principal: record.scope === 'read' ? { ...p, readOnly: true } : p, record };
    },
  };
}
