/**
 * Records and repositories of accounts and access: credentials and two-factor state of users,
 * manager groups, sessions, sign-in attempts, the audit log and API tokens. Times are epoch ms.
 */
import type { Role } from './permissions.ts';

/** Whether an account may sign in. */
export type AccountStatus = 'active' | 'suspended';

/** A user as the access layer sees it (the `users` row with its credential columns). */
export interface AccountRecord {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly status: AccountStatus;
  /** argon2id PHC string, or null when the account has no password (cannot sign in). */
  readonly passwordHash: string | null;
  /** The sealed TOTP secret: pending enrolment while `totpEnabled` is false. */
  readonly totpSecret: string | null;
  readonly totpEnabled: boolean;
  /** The last accepted TOTP time step (replays of it or older steps are refused). */
  readonly totpLastStep: number | null;
  readonly failedAttempts: number;
  readonly lockedUntil: number | null;
  readonly lastSignInAt: number | null;
  readonly lastSignInIp: string | null;
  readonly passwordChangedAt: number | null;
  readonly createdAt: number;
}

/** A new account. */
export interface NewAccount {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly passwordHash: string | null;
  readonly status?: AccountStatus;
  readonly createdAt: number;
}

/** The outcome of counting a failed sign-in against an account. */
export interface FailureCount {
  readonly failedAttempts: number;
  readonly lockedUntil: number | null;
}

/** Users with their credential columns. */
export interface AccountUsersRepo {
  /** Inserts an account; throws {@link DuplicateEmailError} when the email (any case) is taken. */
  create(a: NewAccount): Promise<void>;
  get(id: string): Promise<AccountRecord | null>;
  /** Case-insensitive. */
  getByEmail(email: string): Promise<AccountRecord | null>;
  list(): Promise<AccountRecord[]>;
  setPassword(id: string, hash: string, at: number): Promise<void>;
  setRole(id: string, role: Role): Promise<void>;
  setStatus(id: string, status: AccountStatus): Promise<void>;
  /**
   * Counts one failure atomically; at `maxFailures` consecutive failures the account locks until
   * `at + lockMs` and the count starts again.
   */
  recordFailure(id: string, at: number, policy: { readonly maxFailures: number; readonly lockMs: number }): Promise<FailureCount>;
  /** Clears the failure count and lock, and records the sign-in. */
  recordSuccess(id: string, at: number, ip: string): Promise<void>;
  /** Stores a pending (not yet enabled) sealed TOTP secret; false when 2FA is already enabled. */
  setPendingTotp(id: string, sealedSecret: string): Promise<boolean>;
  /** Enables 2FA with the pending secret, recording the step of the code that proved it. */
  enableTotp(id: string, step: number): Promise<boolean>;
  /** Removes the secret and disables 2FA. */
  disableTotp(id: string): Promise<void>;
  /** Accepts a TOTP step once: true when it is newer than the last accepted step (atomic). */
  useTotpStep(id: string, step: number): Promise<boolean>;
}

/** Single-use recovery codes (stored hashed). */
export interface RecoveryCodesRepo {
  /** Replaces every code of a user. */
  replace(userId: string, hashes: readonly string[], at: number): Promise<void>;
  /** Marks an unused code used; false when it is unknown or already used (atomic). */
  use(userId: string, hash: string, at: number): Promise<boolean>;
  /** How many unused codes remain. */
  remaining(userId: string): Promise<number>;
  deleteAll(userId: string): Promise<void>;
}

/** The groups (manager ids) of users with the manager role. */
export interface MembershipsRepo {
  groupsOf(userId: string): Promise<string[]>;
  /** Replaces a user's groups. */
  setGroups(userId: string, managerIds: readonly string[]): Promise<void>;
  membersOf(managerId: string): Promise<string[]>;
}

/** A server-side session. */
export interface SessionRecord {
  /** Hex SHA-256 of the cookie token. */
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly ip: string;
  readonly userAgent: string;
  readonly csrfToken: string;
  /** False between a correct password and the second factor. */
  readonly mfaVerified: boolean;
  readonly revokedAt: number | null;
  readonly revokedReason: string | null;
}

/** Sessions. */
export interface SessionsRepo {
  insert(s: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | null>;
  touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void>;
  /** Revokes one session; false when it was already revoked or unknown. */
  revoke(id: string, at: number, reason: string): Promise<boolean>;
  /** Revokes every live session of a user (but `exceptId`); returns the ids revoked. */
  revokeAllForUser(userId: string, at: number, reason: string, exceptId?: string): Promise<string[]>;
  /** Sessions neither revoked nor expired at `now`, newest first. */
  listActiveForUser(userId: string, now: number): Promise<SessionRecord[]>;
  /** Deletes sessions that ended before `before`; returns how many. */
  purge(before: number): Promise<number>;
}

/** Why a sign-in attempt failed, or `ok`. */
export type SignInReason =
  | 'ok'
  | 'bad_password'
  | 'unknown_email'
  | 'no_password'
  | 'locked'
  | 'suspended'
  | 'rate_limited'
  | 'bad_code'
  | 'recovery_code';

/** One sign-in attempt (password or second factor). */
export interface SignInAttempt {
  readonly email: string;
  readonly userId: string | null;
  readonly ip: string;
  readonly at: number;
  readonly ok: boolean;
  readonly reason: SignInReason;
}

/** Sign-in attempts, for lockout, rate limiting and review. */
export interface SignInAttemptsRepo {
  record(a: SignInAttempt): Promise<void>;
  /** Attempts from an IP since `since` (successes included: the limit is on attempts). */
  countByIp(ip: string, since: number): Promise<number>;
  /** Failed attempts for an email since `since`. */
  countFailuresByEmail(email: string, since: number): Promise<number>;
  /** Newest first; `since` keeps attempts at or after that time. */
  recent(opts: { readonly limit: number; readonly userId?: string; readonly since?: number }): Promise<SignInAttempt[]>;
  /** Deletes attempts older than `before`; returns how many. */
  purge(before: number): Promise<number>;
}

/** How an audited action ended. */
export type AuditOutcome = 'ok' | 'refused' | 'denied';

/** One audit-log entry. */
export interface AuditEntry {
  readonly id?: number;
  readonly at: number;
  /** Null for the system. */
  readonly actorUserId: string | null;
  readonly actorLabel: string;
  readonly ip: string;
  /** Dot-namespaced: `bot.pause`, `group.resume`, `platform.pause_all`, `account.2fa_enabled`, … */
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string | null;
  readonly outcome: AuditOutcome;
  readonly message: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** Filters of {@link AuditRepo.list}. */
export interface AuditQuery {
  readonly limit: number;
  /** Entries with a smaller id (paging backwards). */
  readonly beforeId?: number;
  readonly actorUserId?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly action?: string;
  /** Any of these actions. */
  readonly actions?: readonly string[];
  /** Actions starting with this text, e.g. `risk.`. */
  readonly actionPrefix?: string;
  /** Entries at or after this time (epoch ms). */
  readonly since?: number;
  /** Entries at or before this time (epoch ms). */
  readonly until?: number;
}

/** The audit log (append-only). */
export interface AuditRepo {
  /** Appends an entry; returns its id. */
  append(e: AuditEntry): Promise<number>;
  /** Newest first. */
  list(q: AuditQuery): Promise<AuditEntry[]>;
}

/** What an API token may do. */
export type ApiTokenScope = 'read' | 'write';

/** An API token (only its hash is stored). */
export interface ApiTokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  /** Hex SHA-256 of the token. */
  readonly tokenHash: string;
  readonly scope: ApiTokenScope;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

/** API tokens. */
export interface ApiTokensRepo {
  insert(t: ApiTokenRecord): Promise<void>;
  findByHash(tokenHash: string): Promise<ApiTokenRecord | null>;
  touch(id: string, at: number): Promise<void>;
  revoke(id: string, at: number): Promise<boolean>;
  listForUser(userId: string): Promise<ApiTokenRecord[]>;
}

/** Every repository of accounts and access. */
export interface AccountsStore {
  readonly users: AccountUsersRepo;
  readonly recoveryCodes: RecoveryCodesRepo;
  readonly memberships: MembershipsRepo;
  readonly sessions: SessionsRepo;
  readonly attempts: SignInAttemptsRepo;
  readonly audit: AuditRepo;
  readonly apiTokens: ApiTokensRepo;
}

/** Raised when an account's email is already taken (compared case-insensitively). */
export class DuplicateEmailError extends Error {
  constructor(readonly email: string) {
    super(`an account with the email ${email} already exists`);
    this.name = 'DuplicateEmailError';
  }
}
