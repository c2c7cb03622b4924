/**
 * Creating a bot, shared by the console form and the JSON API: which owners and groups the
 * caller may choose (their scope), the owner's usable exchange keys, and the scope check made
 * before `PlatformApi.createBot` (which checks everything else: strategy, params, key, name).
 */
import type { Principal, Role } from '../runtime/accounts/index.ts';
import { can, seesAll, visibleManagers } from '../runtime/accounts/index.ts';
import type { OwnKeyRow } from '../runtime/admin.ts';
import type { CreateBotResult, ManagerRow } from '../runtime/api.ts';
import type { ResolvedDeps } from './types.ts';

/** The live venues a bot can trade on with an exchange key. */
export const LIVE_VENUES = ['binanceusdm', 'bybit', 'okx', 'bitget'] as const;

/** The largest leverage a bot may be created with. */
export const MAX_LEVERAGE = 125;

/** Longest bot name. */
export const MAX_BOT_NAME = 64;

/** An initial capital in USDT as typed: digits with up to 8 decimals, above zero. */
export const CAPITAL = /^\d{1,12}(\.\d{1,8})?$/;

/** Someone a bot can be created for. */
export interface OwnerChoice {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
}

/**
 * The owners the caller may create a bot for: every active account for administrators and
 * operators; for a manager themselves, the members of their groups and the owners of their
 * groups' bots (a manager does not see the users list).
 */
export async function ownerChoices(deps: ResolvedDeps, p: Principal): Promise<OwnerChoice[]> {
  const users = (await deps.accounts.store.users.list()).filter((u) => u.status === 'active');
  let allowed: ReadonlySet<string> | null = null;
  if (!seesAll(p)) {
    const ids = new Set<string>([p.userId]);
    for (const m of p.managerIds) for (const id of await deps.accounts.store.memberships.membersOf(m)) ids.add(id);
    for (const b of deps.api.listBots()) if (p.managerIds.includes(b.managerId)) ids.add(b.userId);
    allowed = ids;
  }
  return users
    .filter((u) => allowed === null || allowed.has(u.id))
    .map((u) => ({ id: u.id, name: u.displayName, email: u.email, role: u.role }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** The groups the caller may put a bot in. */
export function groupChoices(deps: ResolvedDeps, p: Principal): ManagerRow[] {
  return visibleManagers(p, deps.api.listManagers()).filter((m) => can(p, 'bots.create', { kind: 'manager', managerId: m.id }));
}

/** Keys a new bot may trade with: the owner's live-venue keys that are valid or not yet checked. */
export async function usableKeys(deps: ResolvedDeps, userId: string): Promise<OwnKeyRow[]> {
  if (!deps.admin) return [];
  return (await deps.admin.userKeys(userId)).filter((k) => k.exchange !== 'paper' && (k.status === 'valid' || k.status === 'unchecked'));
}

/** Why the caller may not create a bot for this owner in this group, or null when they may. */
export async function scopeRefusal(deps: ResolvedDeps, p: Principal, userId: string, managerId: string): Promise<{ status: 400 | 403; message: string } | null> {
  if (!can(p, 'bots.create', { kind: 'manager', managerId })) return { status: 403, message: `the group ${managerId} is outside what your account may change` };
  if (!deps.api.listManagers().some((m) => m.id === managerId)) return { status: 400, message: `there is no group ${managerId}` };
  if (!(await ownerChoices(deps, p)).some((o) => o.id === userId)) {
    return seesAll(p) ? { status: 400, message: `there is no active user ${userId}` } : { status: 403, message: `you may not create bots for ${userId}` };
  }
  return null;
}

/** The HTTP status of a `createBot` refusal. */
export function createBotStatus(r: Extract<CreateBotResult, { ok: false }>): 400 | 404 | 409 {
  return r.code === 'invalid' ? 400 : r.code === 'not_found' ? 404 : 409;
}
