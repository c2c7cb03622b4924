import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../runtime/config.ts';

const KEY = Buffer.alloc(32, 9).toString('base64');

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, '/srv');
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('accounts configuration', () => {
  it('defaults to 2FA for admins and operators, 30-minute idle and 12-hour sessions, plain cookies', () => {
    const c = loadConfig({}, '/srv');
    expect(c.require2faRoles).toEqual(['admin', 'operator']);
    expect(c.sessionIdleMs).toBe(30 * 60_000);
    expect(c.sessionAbsoluteMs).toBe(12 * 3_600_000);
    expect(c.cookieSecure).toBe(false);
    expect(c.trustProxy).toBe(false);
    expect(c.secretsKey).toBeUndefined();
    expect(c.adminEmail).toBeUndefined();
  });

  it('reads the roles that require 2FA, or none', () => {
    expect(loadConfig({ REQUIRE_2FA_ROLES: 'admin, manager,admin' }, '/srv').require2faRoles).toEqual(['admin', 'manager']);
    expect(loadConfig({ REQUIRE_2FA_ROLES: 'none' }, '/srv').require2faRoles).toEqual([]);
    expect(problems({ REQUIRE_2FA_ROLES: 'admin,root' })).toEqual([
      'REQUIRE_2FA_ROLES="admin,root": expected a comma-separated list of admin, operator, manager, user, viewer (or none); unknown: root',
    ]);
  });

  it('reads the admin, the session lifetimes, the cookie and proxy switches and the secrets key', () => {
    const c = loadConfig(
      {
        ADMIN_EMAIL: 'root@fleet.example',
        ADMIN_PASSWORD: 'a long admin passphrase',
        SESSION_IDLE_MINUTES: '10',
        SESSION_MAX_HOURS: '8',
        COOKIE_SECURE: 'true',
        TRUST_PROXY: 'yes',
        SECRETS_KEY: KEY,
      },
      '/srv',
    );
    expect(c).toMatchObject({ adminEmail: 'root@fleet.example', adminPassword: 'a long admin passphrase', sessionIdleMs: 600_000, sessionAbsoluteMs: 8 * 3_600_000, cookieSecure: true, trustProxy: true, secretsKey: KEY });
  });

  it('refuses a bad secrets key or admin password without printing either', () => {
    const got = problems({ SECRETS_KEY: 'c2hvcnQ=', ADMIN_PASSWORD: 'hunter2', ADMIN_EMAIL: 'not-an-email' });
    expect(got).toEqual([
      'SECRETS_KEY="[redacted]": expected base64 of 32 random bytes (openssl rand -base64 32), or several separated by commas',
      'ADMIN_EMAIL="not-an-email": expected an email address',
      'ADMIN_PASSWORD="[redacted]": expected a password of 12 to 256 characters: the password must be at least 12 characters',
    ]);
    expect(got.join('\n')).not.toContain('hunter2');
    expect(got.join('\n')).not.toContain('c2hvcnQ=');
  });
});
