/**
 * Secrets at rest: AES-256-GCM with a random 96-bit nonce per message. A sealed value carries
 * the id of the key that sealed it, so keys rotate by adding a new current key and keeping the
 * old ones for opening (`SECRETS_KEY=new,old`).
 *
 * Format: `v1.<keyId>.<nonce>.<ciphertext>.<tag>` (base64url parts). The version and key id
 * are authenticated as associated data: a value relabelled with another key id does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = 'v1';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Name of the generated development key file inside the data dir. */
export const SECRETS_KEY_FILE = 'secrets.key';

/** Raised when a sealed value cannot be opened: malformed, unknown key id, or tampered with. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

function aad(keyId: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}`, 'utf8');
}

/**
 * Encrypts `plain` with a 32-byte `key` and labels the result with `keyId`.
 * @example const sealed = seal('JBSWY3DPEHPK3PXP', ring.current.key, ring.current.id);
 */
export function seal(plain: string, key: Buffer, keyId: string): string {
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`a secrets key must be ${KEY_BYTES} bytes, got ${key.length}`);
  if (!KEY_ID.test(keyId)) throw new SecretBoxError('a key id is 1 to 32 characters of A-Z a-z 0-9 _ -');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(keyId));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, keyId, nonce.toString('base64url'), body.toString('base64url'), tag.toString('base64url')].join('.');
}

/** Decrypts a value made by {@link seal} with the key its id names; throws {@link SecretBoxError}. */
export function open(sealed: string, keys: ReadonlyMap<string, Buffer>): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretBoxError('not a sealed value (expected v1.<keyId>.<nonce>.<ciphertext>.<tag>)');
  const [, keyId, nonceText, bodyText, tagText] = parts as [string, string, string, string, string];
  const key = keys.get(keyId);
  if (!key) throw new SecretBoxError(`sealed with key "${keyId}", which is not configured (SECRETS_KEY)`);
  const nonce = Buffer.from(nonceText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('sealed value is malformed');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(keyId));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretBoxError(`sealed value does not open with key "${keyId}" (tampered with, or a different key under that id)`);
  }
}

/** The keys secrets are sealed with: the current one seals, every one opens. */
export interface SecretKeyring {
  readonly current: { readonly id: string; readonly key: Buffer };
  /** Every configured key by id, the current one included. */
  readonly keys: ReadonlyMap<string, Buffer>;
}

/** The id of a key: `k` and the first 8 hex digits of its SHA-256 (stable, reveals nothing useful). */
export function keyIdOf(key: Buffer): string {
  return `k${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

/** Parses one base64 (or base64url) key of exactly 32 bytes; throws with a readable message. */
export function parseKey(text: string): Buffer {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) throw new SecretBoxError('a secrets key must be base64 of 32 random bytes (openssl rand -base64 32)');
  const key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== KEY_BYTES) throw new SecretBoxError(`a secrets key must decode to ${KEY_BYTES} bytes, got ${key.length} (openssl rand -base64 32)`);
  return key;
}

/**
 * Parses `SECRETS_KEY`: one or more comma-separated base64 keys; the first seals, all open.
 * @example parseKeyring(`${newKey},${oldKey}`)
 */
export function parseKeyring(value: string): SecretKeyring {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parseKey);
  const first = list[0];
  if (!first) throw new SecretBoxError('SECRETS_KEY is empty');
  const keys = new Map<string, Buffer>();
  for (const k of list) keys.set(keyIdOf(k), k);
  return { current: { id: keyIdOf(first), key: first }, keys };
}

/** What {@link loadKeyring} may warn through (a pino logger fits). */
export interface KeyringLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * The keyring from `SECRETS_KEY`; when unset (development), a key generated once into
 * `<dataDir>/secrets.key` (mode 0600) and reused, with a warning that production should set
 * `SECRETS_KEY` (a key beside the data it protects guards only against leaked backups of the
 * database alone).
 */
export function loadKeyring(opts: { readonly secretsKey: string | undefined; readonly dataDir: string; readonly log?: KeyringLogger }): SecretKeyring {
  if (opts.secretsKey !== undefined && opts.secretsKey.trim() !== '') return parseKeyring(opts.secretsKey);
  const file = join(opts.dataDir, SECRETS_KEY_FILE);
  if (existsSync(file)) {
    opts.log?.warn({ file }, 'SECRETS_KEY is not set: using the development key file (set SECRETS_KEY in production)');
    return parseKeyring(readFileSync(file, 'utf8'));
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  opts.log?.warn({ file }, 'SECRETS_KEY is not set: generated a development key file (set SECRETS_KEY in production)');
  return parseKeyring(key.toString('base64'));
}
