/**
 * The demo fleet created on first start: users, two manager desks and eight traders running
 * the sample strategies on the paper exchange. Created only when the database has no traders.
 */
import type { Clock } from './clock.ts';
import { Ids, type TraderId } from './domain.ts';
import type { ManagerRecord, Store, TraderRecord, UserRecord } from './store/types.ts';
import type { StrategyVersionRecord } from './store/types.ts';

interface DemoTrader {
  readonly name: string;
  readonly user: string;
  readonly manager: string;
  readonly strategy: string;
  readonly params?: Record<string, unknown>;
  readonly leverage: number;
  readonly capital: string;
}

const USERS: readonly (Omit<UserRecord, 'createdAt'>)[] = [
  { id: Ids.user('u-alice'), email: 'alice@example.com', displayName: 'Alice Kim', role: 'user' },
  { id: Ids.user('u-bob'), email: 'bob@example.com', displayName: 'Bob Lee', role: 'user' },
  { id: Ids.user('u-carol'), email: 'carol@example.com', displayName: 'Carol Park', role: 'user' },
  { id: Ids.user('u-dave'), email: 'dave@example.com', displayName: 'Dave Choi', role: 'user' },
];

const MANAGERS: readonly (Omit<ManagerRecord, 'createdAt'>)[] = [
  { id: Ids.manager('m-alpha'), name: 'Alpha desk', capital: '40000', maxRestarts: 5, restartWindowMs: 600_000 },
  { id: Ids.manager('m-beta'), name: 'Beta desk', capital: '40000', maxRestarts: 5, restartWindowMs: 600_000 },
];

const TRADERS: readonly DemoTrader[] = [
  { name: 'Alpha momentum', user: 'u-alice', manager: 'm-alpha', strategy: 'momentum', leverage: 2, capital: '10000' },
  { name: 'Alpha equal-weight', user: 'u-alice', manager: 'm-alpha', strategy: 'equal-weight', leverage: 1, capital: '10000' },
  { name: 'Bob momentum fast', user: 'u-bob', manager: 'm-alpha', strategy: 'momentum', params: { lookback: 10 }, leverage: 3, capital: '10000' },
  { name: 'Bob inverse-vol', user: 'u-bob', manager: 'm-alpha', strategy: 'inverse-volatility', leverage: 2, capital: '10000' },
  { name: 'Carol equal-weight', user: 'u-carol', manager: 'm-beta', strategy: 'equal-weight', leverage: 2, capital: '10000' },
  { name: 'Carol momentum', user: 'u-carol', manager: 'm-beta', strategy: 'momentum', leverage: 1, capital: '10000' },
  { name: 'Dave inverse-vol', user: 'u-dave', manager: 'm-beta', strategy: 'inverse-volatility', leverage: 1, capital: '10000' },
  { name: 'Dave momentum slow', user: 'u-dave', manager: 'm-beta', strategy: 'momentum', params: { lookback: 40 }, leverage: 2, capital: '10000' },
];

/**
 * Creates the demo fleet unless traders exist; returns the traders created. `existing` is the
 * trader count when the caller has already read it (a node's boot has: no second full read).
 */
export async function seedDemoFleet(
  store: Store,
  clock: Clock,
  latest: (name: string) => StrategyVersionRecord | undefined,
  existing?: number,
): Promise<TraderRecord[]> {
  if ((existing ?? (await store.traders.list()).length) > 0) return [];
  const now = clock.now();
  for (const u of USERS) await store.users.upsert({ ...u, createdAt: now });
  for (const m of MANAGERS) await store.managers.upsert({ ...m, createdAt: now });
  const fallback = latest('equal-weight') ?? latest('momentum');
  const created: TraderRecord[] = [];
  let n = 0;
  for (const t of TRADERS) {
    const v = latest(t.strategy) ?? fallback;
    if (!v) throw new Error('the demo fleet needs the sample strategies: none of momentum, equal-weight is registered');
    n++;
    const id = `t-${String(n).padStart(4, '0')}` as TraderId;
    const rec: TraderRecord = {
      id,
      managerId: Ids.manager(t.manager),
      userId: Ids.user(t.user),
      name: t.name,
      strategyName: v.name,
      strategyVersion: v.version,
      params: { ...v.meta.defaults, ...(v.name === t.strategy ? (t.params ?? {}) : {}) },
      venue: 'paper',
      accountId: `paper:${id}`,
      initialCapital: t.capital,
      leverage: t.leverage,
      riskLimits: {},
      createdAt: now,
      updatedAt: now,
    };
    await store.traders.upsert(rec);
    created.push(rec);
  }
  return created;
}
