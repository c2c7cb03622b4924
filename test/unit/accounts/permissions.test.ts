import { describe, expect, it } from 'vitest';
import {
  PERMISSIONS,
  ROLES,
  can,
  eventVisible,
  visibleManagers,
  visibleTraders,
  type Permission,
  type Principal,
  type Role,
} from '../../../runtime/accounts/index.ts';

const who = (role: Role, extra: Partial<Principal> = {}): Principal => ({
  userId: `u-${role}`,
  email: `${role}@example.com`,
  displayName: role,
  role,
  managerIds: role === 'manager' ? ['m-alpha'] : [],
  ...extra,
});

const traders = [
  { id: 't-1', userId: 'u-user', managerId: 'm-alpha' },
  { id: 't-2', userId: 'u-other', managerId: 'm-alpha' },
  { id: 't-3', userId: 'u-user', managerId: 'm-beta' },
  { id: 't-4', userId: 'u-other', managerId: 'm-beta' },
];

// The expected grants, written out independently of GRANTS.
const EXPECTED: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  operator: [
    'console.view', 'bots.read', 'bots.pause', 'bots.resume', 'bots.restart', 'bots.assign_strategy', 'bots.create', 'groups.read', 'groups.pause',
    'groups.resume', 'platform.pause_all', 'platform.resume_all', 'strategies.read', 'events.read', 'health.read', 'account.manage',
    'users.read', 'users.suspend', 'audit.read', 'security.read', 'keys.read', 'keys.manage', 'keys.own', 'risk.read', 'risk.release', 'risk.policies',
  ],
  manager: [
    'console.view', 'bots.read', 'bots.pause', 'bots.resume', 'bots.restart', 'bots.assign_strategy', 'bots.create', 'groups.read', 'groups.pause',
    'groups.resume', 'strategies.read', 'events.read', 'health.read', 'account.manage', 'keys.own',
  ],
  user: ['console.view', 'bots.read', 'bots.pause', 'bots.resume', 'strategies.read', 'events.read', 'account.manage', 'keys.own'],
  viewer: ['console.view', 'bots.read', 'groups.read', 'strategies.read', 'events.read', 'health.read', 'account.manage'],
};

describe('permissions', () => {
  it.each(ROLES)('grants the %s role exactly its permissions', (role) => {
    const granted = PERMISSIONS.filter((p) => can(who(role), p));
    expect([...granted].sort()).toEqual([...EXPECTED[role]].sort());
  });

  it('lets only admins and operators pause and resume all trading', () => {
    expect(ROLES.filter((r) => can(who(r), 'platform.pause_all'))).toEqual(['admin', 'operator']);
    expect(ROLES.filter((r) => can(who(r), 'platform.resume_all'))).toEqual(['admin', 'operator']);
  });

  it('limits a manager to the traders and groups of their groups', () => {
    const m = who('manager');
    expect(can(m, 'bots.pause', { kind: 'trader', userId: 'u-x', managerId: 'm-alpha' })).toBe(true);
    expect(can(m, 'bots.pause', { kind: 'trader', userId: 'u-x', managerId: 'm-beta' })).toBe(false);
    expect(can(m, 'groups.pause', { kind: 'manager', managerId: 'm-alpha' })).toBe(true);
    expect(can(m, 'groups.pause', { kind: 'manager', managerId: 'm-beta' })).toBe(false);
    expect(visibleTraders(m, traders).map((t) => t.id)).toEqual(['t-1', 't-2']);
    expect(visibleManagers(m, [{ id: 'm-alpha' }, { id: 'm-beta' }])).toEqual([{ id: 'm-alpha' }]);
  });

  it('limits a user to their own traders and shows them no groups', () => {
    const u = who('user');
    expect(visibleTraders(u, traders).map((t) => t.id)).toEqual(['t-1', 't-3']);
    expect(can(u, 'bots.pause', { kind: 'trader', userId: 'u-user', managerId: 'm-beta' })).toBe(true);
    expect(can(u, 'bots.pause', { kind: 'trader', userId: 'u-other', managerId: 'm-alpha' })).toBe(false);
    expect(can(u, 'bots.restart', { kind: 'trader', userId: 'u-user', managerId: 'm-alpha' })).toBe(false);
    expect(visibleManagers(u, [{ id: 'm-alpha' }])).toEqual([]);
  });

  it('shows admins, operators and viewers every trader, and lets viewers change nothing', () => {
    for (const r of ['admin', 'operator', 'viewer'] as const) expect(visibleTraders(who(r), traders)).toHaveLength(4);
    const v = who('viewer');
    for (const p of ['bots.pause', 'bots.resume', 'bots.restart', 'bots.assign_strategy', 'groups.pause', 'platform.pause_all'] as const) {
      expect(can(v, p, { kind: 'trader', userId: 'u-user', managerId: 'm-alpha' })).toBe(false);
    }
  });

  it('denies every mutating permission to a read-only API token, whatever the role', () => {
    const ro = who('admin', { readOnly: true });
    expect(can(ro, 'bots.read')).toBe(true);
    expect(can(ro, 'bots.pause')).toBe(false);
    expect(can(ro, 'platform.pause_all')).toBe(false);
    expect(can(ro, 'users.force_logout')).toBe(false);
  });

  it('scopes events: own traders, own groups and platform-wide ones', () => {
    const m = who('manager');
    const mine = new Set(['t-1', 't-2']);
    expect(eventVisible(m, { traderId: 't-1' }, mine)).toBe(true);
    expect(eventVisible(m, { traderId: 't-3' }, mine)).toBe(false);
    expect(eventVisible(m, { managerId: 'm-alpha' }, mine)).toBe(true);
    expect(eventVisible(m, { managerId: 'm-beta' }, mine)).toBe(false);
    expect(eventVisible(m, { traderId: null, managerId: null }, mine)).toBe(true);
    expect(eventVisible(who('user'), { managerId: 'm-alpha' }, new Set())).toBe(false);
    expect(eventVisible(who('viewer'), { traderId: 't-4' }, new Set())).toBe(true);
  });
});
