import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SECRETS_KEY_FILE, SecretBoxError, keyIdOf, loadKeyring, open, parseKey, parseKeyring, seal } from '../../../runtime/crypto/index.ts';

const key = Buffer.alloc(32, 1);
const other = Buffer.alloc(32, 2);
const ring = (...ks: Buffer[]) => new Map(ks.map((k) => [keyIdOf(k), k]));

describe('seal and open', () => {
  it('round-trips a secret and labels it with the key id', () => {
    const sealed = seal('JBSWY3DPEHPK3PXP', key, keyIdOf(key));
    expect(sealed.startsWith(`v1.${keyIdOf(key)}.`)).toBe(true);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(open(sealed, ring(key))).toBe('JBSWY3DPEHPK3PXP');
  });

  it('uses a fresh nonce each time, so the same secret seals differently', () => {
    expect(seal('same', key, 'k1')).not.toBe(seal('same', key, 'k1'));
  });

  it('refuses a value whose ciphertext was altered', () => {
    const parts = seal('secret', key, 'k1').split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => open(parts.join('.'), new Map([['k1', key]]))).toThrow(SecretBoxError);
  });

  it('refuses a value relabelled with another key id (the id is authenticated)', () => {
    const sealed = seal('secret', key, 'k1').replace('v1.k1.', 'v1.k2.');
    expect(() => open(sealed, new Map([['k1', key], ['k2', key]]))).toThrow(/does not open with key "k2"/);
  });

  it('names a key id that is not configured', () => {
    expect(() => open(seal('secret', key, 'gone'), new Map([['k1', key]]))).toThrow('sealed with key "gone", which is not configured (SECRETS_KEY)');
  });

  it('refuses malformed values, keys of the wrong size and bad key ids', () => {
    expect(() => open('not sealed', ring(key))).toThrow(/not a sealed value/);
    expect(() => seal('x', Buffer.alloc(16), 'k1')).toThrow('a secrets key must be 32 bytes, got 16');
    expect(() => seal('x', key, 'bad id!')).toThrow(/key id/);
  });

  it('opens values sealed with an older key after rotation, and seals with the new one', () => {
    const old = seal('secret', key, keyIdOf(key));
    const rotated = parseKeyring(`${other.toString('base64')},${key.toString('base64')}`);
    expect(rotated.current.id).toBe(keyIdOf(other));
    expect(open(old, rotated.keys)).toBe('secret');
    expect(open(seal('new', rotated.current.key, rotated.current.id), rotated.keys)).toBe('new');
  });
});

describe('keys', () => {
  it('parses base64 and base64url keys of 32 bytes and refuses other sizes', () => {
    const k = randomBytes(32);
    expect(parseKey(k.toString('base64')).equals(k)).toBe(true);
    expect(parseKey(k.toString('base64url')).equals(k)).toBe(true);
    expect(() => parseKey(randomBytes(31).toString('base64'))).toThrow('a secrets key must decode to 32 bytes, got 31 (openssl rand -base64 32)');
    expect(() => parseKey('not base64!')).toThrow(/base64/);
    expect(() => parseKeyring(' , ')).toThrow('SECRETS_KEY is empty');
  });

  describe('without SECRETS_KEY', () => {
    let dir: string;
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('generates a development key file with mode 0600 once, warns, and reuses it', () => {
      dir = mkdtempSync(join(tmpdir(), 'fleet-keys-'));
      const warnings: string[] = [];
      const log = { warn: (_: object, msg?: string) => warnings.push(msg ?? '') };
      const first = loadKeyring({ secretsKey: undefined, dataDir: dir, log });
      const file = join(dir, SECRETS_KEY_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(parseKey(readFileSync(file, 'utf8')).equals(first.current.key)).toBe(true);
      const second = loadKeyring({ secretsKey: undefined, dataDir: dir, log });
      expect(second.current.id).toBe(first.current.id);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toContain('generated a development key file');
    });

    it('prefers SECRETS_KEY when it is set', () => {
      dir = mkdtempSync(join(tmpdir(), 'fleet-keys-'));
      const r = loadKeyring({ secretsKey: key.toString('base64'), dataDir: dir });
      expect(r.current.id).toBe(keyIdOf(key));
      expect(() => statSync(join(dir, SECRETS_KEY_FILE))).toThrow();
    });
  });
});
