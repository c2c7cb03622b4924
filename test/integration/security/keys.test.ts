import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../../runtime/clock.ts';
import { Ids } from '../../../runtime/domain.ts';
import { createKeyStore, KeyStoreError, type KeyEventRecord, type KeyLogger, type KeyStore } from '../../../runtime/keys/index.ts';
import { createLogger } from '../../../runtime/log.ts';
import { dbTargets, freshDatabase, type FreshDatabase } from '../../support/db.ts';

const T0 = Date.UTC(2026, 10, 21, 9);

// Distinctive values: any leak of them (or of a long part of them) is easy to find.
const API_KEY = 'ApiKeyPLAINTEXTaaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666';
const SECRET = 'SecretPLAINTEXTzzzz9999yyyy8888xxxx7777wwww6666vvvv5555uuuu4444';
const PASSPHRASE = 'PassphrasePLAINTEXT-qqqq';
const OKX_KEY = '8a7c1f2e-3b4d-4e5f-9a0b-PLAINTEXTokx';
const OKX_SECRET = 'OkxSecretPLAINTEXT0123456789ABCDEF';

const K1 = randomBytes(32);
const K2 = randomBytes(32);

/** A pino logger (the process's own configuration) writing into an array. */
function capturedLogger(): { log: KeyLogger & ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger('trace', { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

const silent: KeyLogger = { info: () => {}, warn: () => {}, error: () => {} };

describe.each(dbTargets())('exchange key store on $name', (target) => {
  let db: FreshDatabase;
  const clock = createManualClock(T0);
  let n = 0;
  const newId = () => `xk-${String(++n).padStart(4, '0')}`;
  const events: KeyEventRecord[] = [];
  let keys: KeyStore;

  beforeAll(async () => {
    db = await freshDatabase(target);
    for (const id of ['u-1', 'u-2']) {
      await db.store.users.upsert({ id: Ids.user(id), email: `${id}@example.test`, displayName: id, role: 'user', createdAt: T0 });
    }
    keys = createKeyStore({ sql: db.sql, keys: new Map([['k1', K1]]), currentKeyId: 'k1', clock, log: silent, newId, onEvent: (e) => events.push(e) });
  });
  afterAll(async () => {
    await db?.cleanup();
  });

  it('adds a key as unchecked and lists it by its hint only', async () => {
    const info = await keys.add({ userId: 'u-1', exchange: 'binanceusdm', label: 'main', apiKey: API_KEY, secret: SECRET }, 'alice');
    expect(info).toEqual({
      id: 'xk-0001',
      userId: 'u-1',
      exchange: 'binanceusdm',
      label: 'main',
      hint: '6666',
      hasPassphrase: false,
      status: 'unchecked',
      statusReason: null,
      sealedWith: 'k1',
      createdAt: T0,
      updatedAt: T0,
      revokedAt: null,
    });
    const listed = await keys.list({ userId: 'u-1' });
    expect(listed).toEqual([info]);
    expect(JSON.stringify(listed)).not.toContain('PLAINTEXT');
    expect(events.map((e) => [e.keyId, e.action, e.by])).toEqual([['xk-0001', 'created', 'alice']]);
  });

  it('never stores a credential in clear: the sealed columns and the history hold no plaintext', async () => {
    await keys.add({ userId: 'u-2', exchange: 'okx', label: 'okx', apiKey: OKX_KEY, secret: OKX_SECRET, passphrase: PASSPHRASE }, 'bob');
    const rows = await db.sql`SELECT * FROM exchange_keys ORDER BY id`;
    const history = await db.sql`SELECT * FROM exchange_key_events`;
    const dump = JSON.stringify([rows, history]);
    for (const plain of [API_KEY, SECRET, PASSPHRASE, OKX_KEY, OKX_SECRET, 'PLAINTEXT']) expect(dump).not.toContain(plain);
    for (const r of rows) {
      for (const col of ['api_key_sealed', 'secret_sealed']) expect(String(r[col])).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    }
    expect(rows.map((r) => r['passphrase_sealed'] === null)).toEqual([true, false]);
  });

  it('opens the credentials for the adapter, and they neither print nor spread', async () => {
    const creds = await keys.credentials('xk-0002');
    expect([creds.apiKey, creds.secret, creds.passphrase]).toEqual([OKX_KEY, OKX_SECRET, PASSPHRASE]);
    expect(JSON.stringify({ creds })).toBe('{"creds":"[redacted]"}');
    expect(inspect(creds)).toBe('ExchangeCredentials { [redacted] }');
    expect({ ...creds }).toEqual({});
    expect(String(creds)).not.toContain('PLAINTEXT');
  });

  it('fails with a clear error on tampered ciphertext, and on a value moved from another key', async () => {
    const [row] = await db.sql<{ secret_sealed: string }[]>`SELECT secret_sealed FROM exchange_keys WHERE id = 'xk-0001'`;
    const parts = row!.secret_sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    await db.sql`UPDATE exchange_keys SET secret_sealed = ${parts.join('.')} WHERE id = 'xk-0001'`;
    const err = await keys.credentials('xk-0001').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyStoreError);
    expect((err as KeyStoreError).code).toBe('undecryptable');
    expect((err as KeyStoreError).message).toBe(
      'exchange key xk-0001 cannot be opened: sealed value does not open with key "k1" (tampered with, or a different key under that id)',
    );

    // A valid box copied from another row opens under the key, but is bound to its own row.
    await db.sql`UPDATE exchange_keys SET secret_sealed = (SELECT secret_sealed FROM exchange_keys WHERE id = 'xk-0002') WHERE id = 'xk-0001'`;
    await expect(keys.credentials('xk-0001')).rejects.toThrow('exchange key xk-0001 cannot be opened: its sealed secret belongs to another key or field');
  });

  it('changes the credentials under a new hint, resets the status and records why', async () => {
    clock.set(T0 + 1000);
    const info = await keys.change('xk-0001', { apiKey: `${API_KEY.slice(0, -4)}7777`, secret: SECRET }, 'alice', 'rotated on Binance');
    expect(info).toMatchObject({ hint: '7777', status: 'unchecked', updatedAt: T0 + 1000 });
    expect((await keys.credentials('xk-0001')).secret).toBe(SECRET);
    expect((await keys.history({ keyId: 'xk-0001', limit: 1 }))[0]).toMatchObject({
      action: 'changed',
      by: 'alice',
      reason: 'credentials changed: rotated on Binance',
    });
    await expect(keys.change('xk-0001', { passphrase: 'nope-nope' }, 'alice')).rejects.toThrow('passphrase: binanceusdm keys take no passphrase');
  });

  it('moves through valid, invalid, disabled and revoked with reasons, refusing what a status forbids', async () => {
    clock.set(T0 + 2000);
    expect(await keys.markValid('xk-0001', 'validator')).toMatchObject({ status: 'valid', statusReason: null });
    expect(await keys.markInvalid('xk-0001', 'binance: -2015 Invalid API-key, IP, or permissions', 'validator')).toMatchObject({
      status: 'invalid',
      statusReason: 'binance: -2015 Invalid API-key, IP, or permissions',
    });
    expect(await keys.disable('xk-0001', 'user on holiday', 'ops')).toMatchObject({ status: 'disabled' });
    await expect(keys.credentials('xk-0001')).rejects.toThrow('exchange key xk-0001 is disabled');
    await expect(keys.markValid('xk-0001', 'validator')).rejects.toThrow('exchange key xk-0001 is disabled: it cannot be validated');
    expect(await keys.enable('xk-0001', 'back', 'ops')).toMatchObject({ status: 'unchecked', statusReason: 'back' });
    await expect(keys.revoke('xk-0001', '', 'ops')).rejects.toThrow('a reason is required');
    expect(await keys.revoke('xk-0001', 'leaked in a screenshot', 'ops')).toMatchObject({
      status: 'revoked',
      statusReason: 'leaked in a screenshot',
      revokedAt: T0 + 2000,
    });
    await expect(keys.revoke('xk-0001', 'again', 'ops')).rejects.toThrow('exchange key xk-0001 is revoked: it cannot be revoked');
    await expect(keys.change('xk-0001', { label: 'x' }, 'ops')).rejects.toThrow('exchange key xk-0001 is revoked: add a new key instead');
    await expect(keys.credentials('xk-0001')).rejects.toThrow('exchange key xk-0001 is revoked');
    await expect(keys.markValid('xk-none', 'validator')).rejects.toThrow('no exchange key xk-none');
  });

  it('deletes a key and its secrets but keeps its whole history', async () => {
    clock.set(T0 + 3000);
    await keys.delete('xk-0001', 'ops', 'user closed the account');
    expect(await keys.get('xk-0001')).toBeNull();
    expect((await db.sql`SELECT 1 FROM exchange_keys WHERE id = 'xk-0001'`).length).toBe(0);
    const history = await keys.history({ keyId: 'xk-0001' });
    expect(history.map((h) => h.action).reverse()).toEqual([
      'created',
      'changed',
      'validated',
      'invalidated',
      'disabled',
      'changed',
      'revoked',
      'deleted',
    ]);
    expect(history[0]).toMatchObject({ by: 'ops', reason: 'user closed the account', userId: 'u-1', at: T0 + 3000 });
    await expect(keys.delete('xk-0001', 'ops')).rejects.toThrow('no exchange key xk-0001');
  });

  it('refuses a key for an unknown user, storing nothing', async () => {
    const err = await keys
      .add({ userId: 'u-ghost', exchange: 'bybit', label: 'x', apiKey: 'ABCDEFGHIJKLMNOPQR', secret: 'abcdefghijklmnopqrstuvwxyz0123456789' }, 'ops')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unknown_user', message: 'no user u-ghost' });
    expect(await keys.list({ userId: 'u-ghost' })).toEqual([]);
  });

  it('re-seals every key under a new encryption key, and the old key is then no longer needed', async () => {
    const both = createKeyStore({ sql: db.sql, keys: new Map([['k1', K1], ['k2', K2]]), currentKeyId: 'k1', clock, log: silent, newId });
    const added = await both.add({ userId: 'u-1', exchange: 'paper', label: 'paper', apiKey: 'paperpaperpaperpaper', secret: 'paper-secret-0000' }, 'alice');
    const report = await both.rotate('k2', 'ops');
    expect(report).toEqual({ to: 'k2', rotated: 2, alreadyCurrent: 0, failed: [] });
    expect((await both.list()).map((k) => k.sealedWith)).toEqual(['k2', 'k2']);
    const sealed = await db.sql<{ a: string; s: string; p: string | null }[]>`
      SELECT api_key_sealed AS a, secret_sealed AS s, passphrase_sealed AS p FROM exchange_keys`;
    for (const r of sealed) for (const v of [r.a, r.s, r.p]) if (v !== null) expect(v.startsWith('v1.k2.')).toBe(true);
    // Later values are sealed with the new key too.
    expect((await both.change(added.id, { label: 'paper 2' }, 'alice')).sealedWith).toBe('k2');

    const onlyNew = createKeyStore({ sql: db.sql, keys: new Map([['k2', K2]]), currentKeyId: 'k2', clock, log: silent });
    expect((await onlyNew.credentials('xk-0002')).passphrase).toBe(PASSPHRASE);
    expect(await onlyNew.rotate('k2')).toEqual({ to: 'k2', rotated: 0, alreadyCurrent: 2, failed: [] });
    expect((await onlyNew.history({ keyId: 'xk-0002', limit: 1 }))[0]).toMatchObject({ action: 'rotated', by: 'ops', reason: 're-sealed from k1 to k2' });
    await expect(onlyNew.rotate('k9')).rejects.toThrow('cannot rotate to "k9": it is not among the configured keys (SECRETS_KEY)');
    expect(() => createKeyStore({ sql: db.sql, keys: new Map([['k2', K2]]), currentKeyId: 'k1', clock, log: silent })).toThrow(
      'the current encryption key "k1" is not among the configured keys',
    );
  });

  it('reports a key it cannot re-seal and rotates the others', async () => {
    const k3 = randomBytes(32);
    const store = createKeyStore({ sql: db.sql, keys: new Map([['k2', K2], ['k3', k3]]), currentKeyId: 'k2', clock, log: silent, newId });
    const lost = await store.add({ userId: 'u-2', exchange: 'paper', label: 'lost', apiKey: 'lostlostlostlostlost', secret: 'lost-secret-00000' }, 'ops');
    // Sealed under a key this process does not have.
    const foreign = createKeyStore({ sql: db.sql, keys: new Map([['k4', randomBytes(32)]]), currentKeyId: 'k4', clock, log: silent });
    await foreign.change(lost.id, { label: 'lost' }, 'ops');
    await db.sql`UPDATE exchange_keys SET api_key_sealed = 'v1.k4.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA', sealed_with = 'k4' WHERE id = ${lost.id}`;
    const report = await store.rotate('k3');
    expect(report.rotated).toBe(2);
    expect(report.failed).toEqual([
      { id: lost.id, error: `exchange key ${lost.id} cannot be opened: sealed with key "k4", which is not configured (SECRETS_KEY)` },
    ]);
  });

  it('writes no api key, secret or passphrase to the logs, on success or failure', async () => {
    const { log, lines } = capturedLogger();
    let id = 0;
    const store = createKeyStore({
      sql: db.sql,
      keys: new Map([['k2', K2], ['k3', randomBytes(32)]]),
      currentKeyId: 'k2',
      clock,
      log,
      newId: () => `xk-log-${++id}`,
    });
    const BAD_SECRET = 'BadSecretPLAINTEXT with spaces';
    const added = await store.add({ userId: 'u-2', exchange: 'bitget', label: 'bg', apiKey: 'bg_PLAINTEXTbitgetkey00000000000', secret: SECRET, passphrase: PASSPHRASE }, 'alice');
    await expect(store.add({ userId: 'u-2', exchange: 'bybit', label: 'bad', apiKey: API_KEY, secret: BAD_SECRET }, 'alice')).rejects.toThrow(
      'secret: secret must be 16 to 512 printable characters without spaces, or a PEM private key',
    );
    await expect(store.add({ userId: 'u-ghost', exchange: 'binanceusdm', label: 'x', apiKey: API_KEY, secret: SECRET }, 'alice')).rejects.toThrow('no user u-ghost');
    await store.list();
    const creds = await store.credentials(added.id);
    // Even a careless log call of the opened credentials prints them redacted.
    log.info({ creds }, 'credentials handed to the adapter');
    log.info({ ...creds }, 'spread credentials');
    log.info({ deep: { creds } }, 'nested credentials');
    await store.change(added.id, { apiKey: API_KEY, secret: OKX_SECRET, passphrase: `${PASSPHRASE}2` }, 'alice');
    await store.rotate('k3');
    await db.sql`UPDATE exchange_keys SET secret_sealed = 'v1.k3.bad' WHERE id = ${added.id}`;
    await expect(store.credentials(added.id)).rejects.toThrow(KeyStoreError);

    const text = lines.join('');
    for (const msg of [
      'exchange key added',
      'exchange key add refused',
      'exchange key opened for the exchange adapter',
      'exchange key changed',
      'exchange keys re-sealed',
      'exchange key open refused',
    ]) {
      expect(text).toContain(msg);
    }
    for (const plain of [API_KEY, SECRET, PASSPHRASE, OKX_SECRET, BAD_SECRET, 'bg_PLAINTEXTbitgetkey', 'PLAINTEXT']) {
      expect(text).not.toContain(plain);
    }
  });
});
