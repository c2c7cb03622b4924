/**
 * Accounts and access: roles and permissions, password hashing (argon2id), sessions, sign-in
 * with lockout and rate limiting, TOTP two-factor with recovery codes, API tokens, the audit
 * log, and the first-run accounts.
 */
export {
  RETENTION,
  createAccounts,
  normalizeEmail,
  randomToken,
  safeEqual,
  sha256Hex,
  type Accounts,
  type AccountsOptions,
  type AccountsPolicy,
  type AuditActor,
  type AuditInput,
  type AuditSink,
  type AuthenticatedSession,
  type ClientInfo,
  type Done,
  type IssuedSession,
  type NewUserInput,
  type Outcome,
  type SecondFactorResult,
  type SignInRefusal,
  type SignInResult,
} from './accounts.ts';
export { DEFAULT_ADMIN_EMAIL, ensureDemoAccounts, generatePassword, type DemoAccountsOptions, type DemoAccountsResult } from './demo.ts';
export { createMemoryAccountsStore } from './memory.ts';
export {
  DEFAULT_HASH_COST,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  TEST_HASH_COST,
  createPasswordHasher,
  passwordProblem,
  type HashCost,
  type PasswordHasher,
} from './passwords.ts';
export {
  GRANTS,
  MUTATING,
  PERMISSIONS,
  ROLES,
  can,
  eventVisible,
  inScope,
  isRole,
  seesAll,
  visibleManagers,
  visibleTraders,
  type Permission,
  type Principal,
  type Resource,
  type Role,
} from './permissions.ts';
export { createAccountsStore } from './store.ts';
export {
  RECOVERY_CODE_COUNT,
  TOTP_PERIOD_S,
  TOTP_WINDOW,
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchTotp,
  totpCode,
  totpStep,
  totpUri,
} from './totp.ts';
export type * from './types.ts';
export { DuplicateEmailError } from './types.ts';
