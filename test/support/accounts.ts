/**
 * Accounts for tests: a fast accounts service (in-memory store, cheap argon2id cost, a fixed
 * secrets key, a manual clock), users per role, and signed-in sessions as a cookie and CSRF
 * token, or as a Playwright page that went through the sign-in form.
 */
import type { Page } from 'playwright-core';
import {
  createAccounts,
  createMemoryAccountsStore,
  createPasswordHasher,
  TEST_HASH_COST,
  totpCode,
  type AccountRecord,
  type Accounts,
  type AccountsStore,
  type Role,
} from '../../runtime/accounts/index.ts';
import { createManualClock, type ManualClock } from '../../runtime/clock.ts';
import { parseKeyring } from '../../runtime/crypto/index.ts';

/** The password every test user gets. */
export const TEST_PASSWORD = 'correct horse battery staple';

/** A fixed 32-byte secrets key (base64) for tests. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

/** Default start of the accounts clock: 2026-11-21 12:00:00 UTC. */
export const ACCOUNTS_T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/** An accounts service for a test and the clock it runs on. */
export interface TestAccounts {
  readonly accounts: Accounts;
  readonly clock: ManualClock;
}

/** Options of {@link createTestAccounts}. */
export interface TestAccountsOptions {
  readonly store?: AccountsStore;
  readonly clock?: ManualClock;
  /** Default: none (tests of the requirement pass the roles). */
  readonly require2faRoles?: readonly Role[];
  readonly sessionIdleMs?: number;
  readonly sessionAbsoluteMs?: number;
}

/** A fast accounts service over an in-memory store (or the given one). */
export function createTestAccounts(o: TestAccountsOptions = {}): TestAccounts {
  const clock = o.clock ?? createManualClock(ACCOUNTS_T0);
  const accounts = createAccounts({
    store: o.store ?? createMemoryAccountsStore(),
    clock,
    keyring: parseKeyring(TEST_SECRETS_KEY),
    hasher: createPasswordHasher(TEST_HASH_COST),
    require2faRoles: o.require2faRoles ?? [],
    ...(o.sessionIdleMs ? { sessionIdleMs: o.sessionIdleMs } : {}),
    ...(o.sessionAbsoluteMs ? { sessionAbsoluteMs: o.sessionAbsoluteMs } : {}),
  });
  return { accounts, clock };
}

/** The user each role signs in as in console tests over the fake api (u-17 owns t-0001 and t-0004). */
export const ROLE_USERS: Readonly<Record<Role, { id: string; email: string; name: string; groups?: readonly string[] }>> = {
  admin: { id: 'u-admin', email: 'admin@test.example', name: 'Ada Admin' },
  operator: { id: 'u-operator', email: 'operator@test.example', name: 'Otto Operator' },
  manager: { id: 'u-manager', email: 'manager@test.example', name: 'Mia Manager', groups: ['m-alpha'] },
  user: { id: 'u-17', email: 'ada@test.example', name: 'Ada' },
  viewer: { id: 'u-viewer', email: 'viewer@test.example', name: 'Vic Viewer' },
};

/** Creates a role's test user (see {@link ROLE_USERS}) unless it exists; returns its account. */
export async function ensureRoleUser(accounts: Accounts, role: Role): Promise<AccountRecord> {
  const u = ROLE_USERS[role];
  const existing = await accounts.store.users.get(u.id);
  if (existing) return existing;
  return accounts.createUser({ id: u.id, email: u.email, displayName: u.name, role, password: TEST_PASSWORD, groups: u.groups ?? [] });
}

/** Enables 2FA for a user with a code made at the clock's time; returns the base32 secret and the recovery codes. */
export async function enrolTotp(t: TestAccounts, userId: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const begun = await t.accounts.beginTotpEnrolment(userId);
  if (!begun.ok) throw new Error(begun.error);
  const done = await t.accounts.confirmTotpEnrolment({ userId, label: 'test', ip: '127.0.0.1' }, userId, totpCode(begun.value.secret, t.clock.now()));
  if (!done.ok) throw new Error(done.error);
  return { secret: begun.value.secret, recoveryCodes: done.value.recoveryCodes };
}

/** A signed-in session as request headers carry it. */
export interface TestSession {
  readonly user: AccountRecord;
  /** `fleet_session=<token>` for a Cookie header. */
  readonly cookie: string;
  readonly token: string;
  readonly csrf: string;
  readonly sessionId: string;
}

/**
 * Signs a user in through the service (password, and the TOTP code when 2FA is on).
 * @example const s = await signIn(t, await ensureRoleUser(t.accounts, 'viewer'));
 */
export async function signIn(t: TestAccounts, user: AccountRecord, opts: { totpSecret?: string; ip?: string } = {}): Promise<TestSession> {
  const client = { ip: opts.ip ?? '127.0.0.1', userAgent: 'vitest' };
  const r = await t.accounts.signIn(user.email, TEST_PASSWORD, client);
  if (!r.ok) throw new Error(`test sign-in of ${user.email} failed: ${r.message}`);
  let issued = r.issued;
  if (r.needsSecondFactor) {
    if (!opts.totpSecret) throw new Error(`${user.email} has 2FA: pass its secret`);
    // A step nobody has used yet: move the clock past the enrolment's step.
    t.clock.advance(30_000);
    const f = await t.accounts.verifySecondFactor(r.issued.session, totpCode(opts.totpSecret, t.clock.now()), client);
    if (!f.ok) throw new Error(`test second factor of ${user.email} failed: ${f.message}`);
    issued = f.issued;
  }
  return { user, cookie: `fleet_session=${issued.token}`, token: issued.token, csrf: issued.session.csrfToken, sessionId: issued.session.id };
}

/** Creates (if needed) and signs in the test user of a role. */
export async function signInAs(t: TestAccounts, role: Role): Promise<TestSession> {
  return signIn(t, await ensureRoleUser(t.accounts, role));
}

/** Signs in through the browser's sign-in form (and the 2FA form when `totp` gives a code). */
export async function signInInBrowser(page: Page, baseUrl: string, email: string, password = TEST_PASSWORD, totp?: () => string): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  // Wait for the page the form leads to, so the next navigation does not cut its load short.
  await Promise.all([page.waitForURL((u) => u.pathname !== '/sign-in', { waitUntil: 'load' }), page.locator('#sign-in-submit').click()]);
  if (totp) {
    await page.locator('#second-factor-form').waitFor();
    await page.locator('input[name="code"]').fill(totp());
    await Promise.all([page.waitForURL((u) => u.pathname !== '/sign-in/2fa', { waitUntil: 'load' }), page.locator('#second-factor-submit').click()]);
  }
}
