/**
 * First run on a real database: the demo fleet is seeded, then the accounts are ensured the
 * way the node does it; every printed credential signs in, the managers get their desks, and a
 * second start prints nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_HASH_COST,
  createAccounts,
  createAccountsStore,
  createPasswordHasher,
  ensureDemoAccounts,
  type Accounts,
} from '../../../runtime/accounts/index.ts';
import { createManualClock } from '../../../runtime/clock.ts';
import { parseKeyring } from '../../../runtime/crypto/index.ts';
import { seedDemoFleet } from '../../../runtime/demo.ts';
import type { StrategyVersionRecord } from '../../../runtime/store/types.ts';
import { TEST_SECRETS_KEY } from '../../support/accounts.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';

const T = Date.UTC(2026, 10, 21, 12);
const version = (name: string) => ({ name, version: 1, meta: { defaults: {} } }) as unknown as StrategyVersionRecord;
const client = { ip: '127.0.0.1', userAgent: 'vitest' };

describe.each(dbTargets())('first run on $name', (target) => {
  let db: FreshDatabase;
  let accounts: Accounts;

  beforeAll(async () => {
    db = await freshDatabase(target);
    await seedDemoFleet(db.store, createManualClock(T), version);
    accounts = createAccounts({
      store: createAccountsStore(db.sql),
      clock: createManualClock(T),
      keyring: parseKeyring(TEST_SECRETS_KEY),
      hasher: createPasswordHasher(TEST_HASH_COST),
      require2faRoles: ['admin', 'operator'],
    });
  }, 60_000);

  afterAll(async () => {
    await db?.cleanup();
  });

  it('creates the accounts over the demo fleet, and each printed password signs in with its role', async () => {
    const printed: string[] = [];
    const r = await ensureDemoAccounts({ accounts, demo: true, groups: await db.store.managers.list(), print: (s) => printed.push(s) });
    expect(r.created).toEqual([
      'admin@example.com',
      'operator@example.com',
      'alpha.manager@example.com',
      'beta.manager@example.com',
      'viewer@example.com',
      'alice@example.com',
      'bob@example.com',
      'carol@example.com',
      'dave@example.com',
    ]);
    const admin = /admin@example\.com\s+password: (\S+)/.exec(printed[0]!)![1]!;
    const demo = /except the admin: (\S+)/.exec(printed[0]!)![1]!;
    const role = async (email: string, password: string) => {
      const s = await accounts.signIn(email, password, client);
      if (!s.ok) throw new Error(`${email}: ${s.message}`);
      return (await accounts.authenticate(s.issued.token))!.principal;
    };
    expect(await role('admin@example.com', admin)).toMatchObject({ role: 'admin' });
    expect(await role('alpha.manager@example.com', demo)).toMatchObject({ role: 'manager', managerIds: ['m-alpha'] });
    expect(await role('carol@example.com', demo)).toMatchObject({ role: 'user', userId: 'u-carol' });
    // The platform's own view of the users is intact.
    expect((await db.store.users.list()).find((u) => u.id === 'u-alice')).toMatchObject({ email: 'alice@example.com', role: 'user' });

    const again = await ensureDemoAccounts({ accounts, demo: true, groups: await db.store.managers.list(), print: (s) => printed.push(s) });
    expect(again.printed).toBeNull();
    expect(printed).toHaveLength(1);
  });
});
