/**
 * The filters the administration pages add to the accounts store (audit: several actions, an
 * action prefix, a time range; sign-in attempts: since a time), on the in-memory store and on
 * the SQL store alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountsStore, createMemoryAccountsStore, type AccountsStore, type AuditEntry } from '../../../runtime/accounts/index.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';

type Target = { name: 'memory' } | { name: 'pglite' | 'postgres' };
const targets: Target[] = [{ name: 'memory' }, ...dbTargets()];
const T = 1_700_000_000_000;

const entry = (at: number, action: string): AuditEntry => ({
  at,
  actorUserId: null,
  actorLabel: 'system',
  ip: '',
  action,
  targetType: 'user',
  targetId: 'u-1',
  outcome: 'ok',
  message: '',
  before: null,
  after: null,
});

describe.each(targets)('administration queries of the accounts store on $name', (target) => {
  let db: FreshDatabase | null = null;
  let store: AccountsStore;

  beforeAll(async () => {
    if (target.name === 'memory') store = createMemoryAccountsStore();
    else {
      db = await freshDatabase(target);
      store = createAccountsStore(db.sql);
    }
    await store.users.create({ id: 'u-1', email: 'one@example.com', displayName: 'One', role: 'user', passwordHash: null, createdAt: T });
    for (const [i, action] of ['risk.pause', 'user.suspend', 'risk.release', 'account.2fa_enabled', 'riskier.thing'].entries()) await store.audit.append(entry(T + i * 1000, action));
    for (let i = 0; i < 4; i++) await store.attempts.record({ email: 'one@example.com', userId: 'u-1', ip: `10.0.0.${i}`, at: T + i * 1000, ok: i % 2 === 0, reason: i % 2 === 0 ? 'ok' : 'bad_password' });
  });

  afterAll(async () => {
    await db?.cleanup();
  });

  it('filters the audit log by several actions, by an action prefix and by a time range', async () => {
    const actions = async (q: Parameters<AccountsStore['audit']['list']>[0]) => (await store.audit.list(q)).map((e) => e.action);
    expect(await actions({ limit: 10, actions: ['user.suspend', 'account.2fa_enabled'] })).toEqual(['account.2fa_enabled', 'user.suspend']);
    expect(await actions({ limit: 10, actions: [] })).toEqual([]);
    expect(await actions({ limit: 10, actionPrefix: 'risk.' })).toEqual(['risk.release', 'risk.pause']);
    expect(await actions({ limit: 10, actionPrefix: "risk.' OR 1=1 --" })).toEqual([]);
    expect(await actions({ limit: 10, since: T + 1000, until: T + 2000 })).toEqual(['risk.release', 'user.suspend']);
    expect(await actions({ limit: 10, since: T + 1000, until: T + 2000, actionPrefix: 'user.' })).toEqual(['user.suspend']);
  });

  it('reads sign-in attempts since a time, newest first', async () => {
    const recent = await store.attempts.recent({ limit: 10, since: T + 2000 });
    expect(recent.map((a) => a.ip)).toEqual(['10.0.0.3', '10.0.0.2']);
    expect((await store.attempts.recent({ limit: 10, userId: 'u-1', since: T + 3000 })).map((a) => a.reason)).toEqual(['bad_password']);
    expect(await store.attempts.recent({ limit: 10, since: T + 10_000 })).toEqual([]);
  });
});
