/**
 * First run: make sure an administrator can sign in, and (with the demo fleet) create the demo
 * accounts: an operator, a manager per demo desk, a viewer, and sign-in credentials for the
 * demo fleet's users. Passwords are printed once, in one block, when they are created.
 */
import { randomInt } from 'node:crypto';
import type { Accounts } from './accounts.ts';
import { normalizeEmail } from './accounts.ts';
import { passwordProblem } from './passwords.ts';
import type { Role } from './permissions.ts';

/** Options of {@link ensureDemoAccounts}. */
export interface DemoAccountsOptions {
  readonly accounts: Accounts;
  /** Also create the demo accounts (operator, managers, viewer, fleet users); the admin is always ensured. */
  readonly demo: boolean;
  /** The groups (manager desks); one demo manager account is created per group. */
  readonly groups: readonly { readonly id: string; readonly name: string }[];
  /** `ADMIN_EMAIL` (default admin@example.com). */
  readonly adminEmail?: string | undefined;
  /** `ADMIN_PASSWORD`; generated (and printed once) when unset. */
  readonly adminPassword?: string | undefined;
  /** Where the one-time credentials block goes (default: stdout, never the JSON log). */
  readonly print?: (text: string) => void;
}

/** What {@link ensureDemoAccounts} did. */
export interface DemoAccountsResult {
  /** Emails of the accounts created or given a password, in print order. */
  readonly created: readonly string[];
  /** The printed block, or null when nothing was created. */
  readonly printed: string | null;
}

/** Default admin email. */
export const DEFAULT_ADMIN_EMAIL = 'admin@example.com';

const WORDS = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password like `Xk7p-9QmT-hR4w-Lz2c` (≈ 93 bits). */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let s = '';
    for (let i = 0; i < 4; i++) s += WORDS[randomInt(WORDS.length)];
    groups.push(s);
  }
  return groups.join('-');
}

interface Line {
  readonly role: Role;
  readonly email: string;
  readonly note: string;
}

/**
 * Ensures the admin exists (and the demo accounts when `demo`); prints the credentials once.
 * Idempotent: accounts that exist are left alone, so a restart prints nothing.
 */
export async function ensureDemoAccounts(o: DemoAccountsOptions): Promise<DemoAccountsResult> {
  const { accounts } = o;
  const store = accounts.store;
  const lines: Line[] = [];
  const existing = await store.users.list();
  const byEmail = new Map(existing.map((u) => [u.email.toLowerCase(), u]));
  const byId = new Map(existing.map((u) => [u.id, u]));

  let adminPassword: string | null = null;
  let adminFromEnv = false;
  if (!existing.some((u) => u.role === 'admin' && u.passwordHash !== null && u.status === 'active')) {
    const email = normalizeEmail(o.adminEmail ?? DEFAULT_ADMIN_EMAIL);
    adminFromEnv = o.adminPassword !== undefined && o.adminPassword !== '';
    adminPassword = adminFromEnv ? o.adminPassword! : generatePassword();
    const problem = passwordProblem(adminPassword, { email });
    if (problem) throw new Error(`ADMIN_PASSWORD is not acceptable: ${problem}`);
    const same = byEmail.get(email);
    if (same) {
      if (same.role !== 'admin') throw new Error(`ADMIN_EMAIL ${email} belongs to an existing ${same.role} account; choose another email`);
      const r = await accounts.setPassword(same.id, adminPassword);
      if (!r.ok) throw new Error(`cannot set the admin password: ${r.error}`);
      await store.users.setStatus(same.id, 'active');
    } else {
      await accounts.createUser({ id: byId.has('u-admin') ? undefined : 'u-admin', email, displayName: 'Administrator', role: 'admin', password: adminPassword });
    }
    lines.push({ role: 'admin', email, note: adminFromEnv ? 'password from ADMIN_PASSWORD' : `password: ${adminPassword}` });
  }

  let demoPassword: string | null = null;
  const demoPw = () => (demoPassword ??= generatePassword());
  if (o.demo) {
    const wanted: { id: string; email: string; name: string; role: Role; groups?: string[] }[] = [
      { id: 'u-operator', email: 'operator@example.com', name: 'Olivia Operator', role: 'operator' },
      ...o.groups.map((g) => {
        const slug = g.id.replace(/^m-/, '').replace(/[^a-z0-9]+/gi, '-').toLowerCase() || 'desk';
        return { id: `u-mgr-${slug}`, email: `${slug}.manager@example.com`, name: `${g.name} manager`, role: 'manager' as const, groups: [g.id] };
      }),
      { id: 'u-viewer', email: 'viewer@example.com', name: 'Victor Viewer', role: 'viewer' },
    ];
    for (const w of wanted) {
      if (byId.has(w.id) || byEmail.has(w.email)) continue;
      await accounts.createUser({ id: w.id, email: w.email, displayName: w.name, role: w.role, password: demoPw(), groups: w.groups });
      lines.push({ role: w.role, email: w.email, note: w.groups ? `groups: ${w.groups.join(', ')}` : '' });
    }
    // The demo fleet's owners exist without credentials: give them the demo password.
    for (const u of existing) {
      if (u.role !== 'user' || u.passwordHash !== null) continue;
      const r = await accounts.setPassword(u.id, demoPw());
      if (!r.ok) throw new Error(`cannot set a password for ${u.email}: ${r.error}`);
      lines.push({ role: 'user', email: u.email, note: `owns ${u.displayName}'s traders` });
    }
  }

  if (lines.length === 0) return { created: [], printed: null };
  const width = Math.max(...lines.map((l) => l.email.length)) + 2;
  const body = lines.map((l) => `  ${l.role.padEnd(9)} ${l.email.padEnd(width)} ${l.note}`.trimEnd());
  const required = accounts.policy.require2faRoles;
  const text = [
    '',
    '================ Fleet console: sign-in accounts (shown once) ================',
    ...body,
    ...(demoPassword ? ['', `  Demo password of every account above except the admin: ${demoPassword}`] : []),
    ...(required.length ? [`  Roles that must enrol two-factor authentication at first sign-in: ${required.join(', ')}`] : []),
    '  These passwords are not stored in clear and will not be shown again.',
    '==============================================================================',
    '',
  ].join('\n');
  (o.print ?? ((t: string) => process.stdout.write(t)))(text);
  return { created: lines.map((l) => l.email), printed: text };
}
