/**
 * Roles, permissions and scopes: who may do what, to which bots and groups.
 *
 * | role     | sees                          | may change                                        |
 * |----------|-------------------------------|---------------------------------------------------|
 * | admin    | everything                    | everything, users, sessions (Force Logout)        |
 * | operator | everything, users, security   | every bot and group, Pause All / Resume All;      |
 * |          | and audit                     | create bots; suspend users, exchange keys, risk   |
 * |          |                               | violations and policies; their own keys           |
 * | manager  | the traders of their groups   | those traders and groups; create bots in their    |
 * |          |                               | groups; their own exchange keys                   |
 * | user     | their own traders             | pause / resume their own traders; their own       |
 * |          |                               | exchange keys (add, check, delete)                |
 * | viewer   | everything but users and audit| nothing but their own password and 2FA            |
 *
 * `keys.own` is one's own exchange keys; `keys.manage` anyone's (revoke, disable, enable, and
 * adding, checking or deleting a key for another user). `bots.create` creates a bot in a group
 * in scope (a manager: their groups).
 */

/** The roles, most privileged first. */
export const ROLES = ['admin', 'operator', 'manager', 'user', 'viewer'] as const;
/** A user's role. */
export type Role = (typeof ROLES)[number];

/** True when a string names a role. */
export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}

/** Every permission a route or command may require. */
export const PERMISSIONS = [
  'console.view',
  'bots.read',
  'bots.pause',
  'bots.resume',
  'bots.restart',
  'bots.assign_strategy',
  'bots.create',
  'groups.read',
  'groups.pause',
  'groups.resume',
  'platform.pause_all',
  'platform.resume_all',
  'strategies.read',
  'events.read',
  'health.read',
  'account.manage',
  'users.read',
  'users.manage',
  'users.force_logout',
  'users.suspend',
  'audit.read',
  'security.read',
  'keys.read',
  'keys.manage',
  'keys.own',
  'risk.read',
  'risk.release',
  'risk.policies',
] as const;
/** A permission. */
export type Permission = (typeof PERMISSIONS)[number];

/** Commands on bots and groups: operators on any, managers on their own groups. */
const BOT_COMMANDS: readonly Permission[] = [
  'bots.pause',
  'bots.resume',
  'bots.restart',
  'bots.assign_strategy',
  'bots.create',
  'groups.pause',
  'groups.resume',
];

/** Permissions that change something (denied to read-only API tokens). */
export const MUTATING: ReadonlySet<Permission> = new Set<Permission>([
  ...BOT_COMMANDS,
  'platform.pause_all',
  'platform.resume_all',
  'account.manage',
  'users.manage',
  'users.force_logout',
  'users.suspend',
  'keys.manage',
  'keys.own',
  'risk.release',
  'risk.policies',
]);

const READ: readonly Permission[] = ['console.view', 'bots.read', 'groups.read', 'strategies.read', 'events.read', 'health.read'];

/** What each role is granted before scopes apply. */
export const GRANTS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(PERMISSIONS),
  operator: new Set<Permission>([
    ...READ,
    ...BOT_COMMANDS,
    'platform.pause_all',
    'platform.resume_all',
    'account.manage',
    'users.read',
    'users.suspend',
    'audit.read',
    'security.read',
    'keys.read',
    'keys.manage',
    'keys.own',
    'risk.read',
    'risk.release',
    'risk.policies',
  ]),
  manager: new Set<Permission>([...READ, ...BOT_COMMANDS, 'account.manage', 'keys.own']),
  user: new Set<Permission>(['console.view', 'bots.read', 'bots.pause', 'bots.resume', 'strategies.read', 'events.read', 'account.manage', 'keys.own']),
  viewer: new Set<Permission>([...READ, 'account.manage']),
};

/** Who is asking: a signed-in user (or an API token acting for one). */
export interface Principal {
  readonly userId: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  /** The groups (manager ids) a manager sees and controls; empty for other roles. */
  readonly managerIds: readonly string[];
  /** A read-scoped API token: every mutating permission is denied. */
  readonly readOnly?: boolean;
}

/** What a permission may be checked against. */
export type Resource =
  | { readonly kind: 'trader'; readonly userId: string; readonly managerId: string }
  | { readonly kind: 'manager'; readonly managerId: string }
  | { readonly kind: 'user'; readonly userId: string };

/** True when the role sees everything (its scope is the whole platform). */
export function seesAll(p: Pick<Principal, 'role'>): boolean {
  return p.role === 'admin' || p.role === 'operator' || p.role === 'viewer';
}

/** True when the resource lies inside the principal's scope. */
export function inScope(p: Principal, r: Resource): boolean {
  switch (r.kind) {
    case 'user':
      return p.role === 'admin' || p.role === 'operator' || p.role === 'viewer' || r.userId === p.userId;
    case 'trader':
      if (seesAll(p)) return true;
      if (p.role === 'manager') return p.managerIds.includes(r.managerId);
      return r.userId === p.userId;
    case 'manager':
      if (seesAll(p)) return true;
      return p.role === 'manager' && p.managerIds.includes(r.managerId);
  }
}

/**
 * True when the principal holds the permission and, when a resource is given, the resource is
 * in its scope.
 * @example can(p, 'bots.pause', { kind: 'trader', userId: bot.userId, managerId: bot.managerId })
 */
export function can(p: Principal, permission: Permission, resource?: Resource): boolean {
  if (!GRANTS[p.role].has(permission)) return false;
  if (p.readOnly && MUTATING.has(permission)) return false;
  return resource ? inScope(p, resource) : true;
}

/** The traders a principal sees: managers their groups' traders, users their own, others all. */
export function visibleTraders<T extends { readonly userId: string; readonly managerId: string }>(p: Principal, traders: readonly T[]): T[] {
  if (seesAll(p)) return [...traders];
  return traders.filter((t) => inScope(p, { kind: 'trader', userId: t.userId, managerId: t.managerId }));
}

/** The groups (managers) a principal sees. */
export function visibleManagers<M extends { readonly id: string }>(p: Principal, managers: readonly M[]): M[] {
  if (!GRANTS[p.role].has('groups.read')) return [];
  if (seesAll(p)) return [...managers];
  return managers.filter((m) => p.managerIds.includes(m.id));
}

/**
 * True when an event is in scope: events of a visible trader, of a visible group, or of the
 * platform as a whole (no trader and no group).
 */
export function eventVisible(
  p: Principal,
  e: { readonly traderId?: string | null; readonly managerId?: string | null },
  visibleTraderIds: ReadonlySet<string>,
): boolean {
  if (seesAll(p)) return true;
  if (e.traderId) return visibleTraderIds.has(e.traderId);
  if (e.managerId) return p.role === 'manager' && p.managerIds.includes(e.managerId);
  return true;
}
