import { describe, expect, it } from 'vitest';
import { ensureDemoAccounts } from '../../../runtime/accounts/index.ts';
import { createTestAccounts } from '../../support/accounts.ts';

const GROUPS = [
  { id: 'm-alpha', name: 'Alpha desk' },
  { id: 'm-beta', name: 'Beta desk' },
];
const client = { ip: '127.0.0.1', userAgent: 'vitest' };

describe('first-run accounts', () => {
  it('creates the admin and the demo accounts, prints the passwords once, and nothing on the next start', async () => {
    const t = createTestAccounts({ require2faRoles: ['admin', 'operator'] });
    // The demo fleet's owners exist without credentials before this runs.
    await t.accounts.createUser({ id: 'u-alice', email: 'alice@example.com', displayName: 'Alice Kim', role: 'user', password: null });
    const printed: string[] = [];
    const first = await ensureDemoAccounts({ accounts: t.accounts, demo: true, groups: GROUPS, print: (s) => printed.push(s) });
    expect(first.created).toEqual([
      'admin@example.com',
      'operator@example.com',
      'alpha.manager@example.com',
      'beta.manager@example.com',
      'viewer@example.com',
      'alice@example.com',
    ]);
    expect(printed).toHaveLength(1);
    const text = printed[0]!;
    const admin = /admin@example\.com\s+password: (\S+)/.exec(text)?.[1];
    const demo = /Demo password of every account above except the admin: (\S+)/.exec(text)?.[1];
    expect(admin).toBeDefined();
    expect(demo).toBeDefined();
    expect(text).toContain('must enrol two-factor authentication at first sign-in: admin, operator');
    expect((await t.accounts.signIn('admin@example.com', admin!, client)).ok).toBe(true);
    expect((await t.accounts.signIn('alice@example.com', demo!, client)).ok).toBe(true);
    expect((await t.accounts.signIn('beta.manager@example.com', demo!, client)).ok).toBe(true);
    expect(await t.accounts.store.memberships.groupsOf('u-mgr-beta')).toEqual(['m-beta']);
    expect((await t.accounts.store.users.get('u-viewer'))!.role).toBe('viewer');

    const second = await ensureDemoAccounts({ accounts: t.accounts, demo: true, groups: GROUPS, print: (s) => printed.push(s) });
    expect(second).toEqual({ created: [], printed: null });
    expect(printed).toHaveLength(1);
  });

  it('takes the admin from ADMIN_EMAIL and ADMIN_PASSWORD and never prints that password', async () => {
    const t = createTestAccounts();
    const printed: string[] = [];
    await ensureDemoAccounts({
      accounts: t.accounts,
      demo: false,
      groups: GROUPS,
      adminEmail: 'Root@Fleet.Example',
      adminPassword: 'a long admin passphrase',
      print: (s) => printed.push(s),
    });
    expect(printed[0]).toContain('root@fleet.example');
    expect(printed[0]).toContain('password from ADMIN_PASSWORD');
    expect(printed[0]).not.toContain('a long admin passphrase');
    expect((await t.accounts.store.users.list()).map((u) => u.role)).toEqual(['admin']);
    expect((await t.accounts.signIn('root@fleet.example', 'a long admin passphrase', client)).ok).toBe(true);
  });

  it('refuses an ADMIN_PASSWORD that fails the password policy', async () => {
    const t = createTestAccounts();
    await expect(ensureDemoAccounts({ accounts: t.accounts, demo: false, groups: [], adminPassword: 'short', print: () => {} })).rejects.toThrow(
      'ADMIN_PASSWORD is not acceptable: the password must be at least 12 characters',
    );
  });
});
