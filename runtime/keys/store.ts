/**
 * The exchange key store: keys sealed at rest with AES-256-GCM (runtime/crypto), listed by
 * hint only, opened only for the exchange adapter, with a history row for every change.
 * Plaintext never reaches SQL, a log line or an error message.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { open, seal } from '../crypto/index.ts';
import { errorMessage } from '../domain.ts';
import { transaction, type Sql, type TxSql } from '../store/db.ts';
import { describeIssues, EXCHANGES, KeyChangeInput, NewKeyInput, type ExchangeName } from './input.ts';

/** A key's status. */
export const KeyStatus = {
  valid: 'valid',
  invalid: 'invalid',
  revoked: 'revoked',
  disabled: 'disabled',
  unchecked: 'unchecked',
} as const;
export type KeyStatus = (typeof KeyStatus)[keyof typeof KeyStatus];

/** What a history row records. */
export type KeyAction = 'created' | 'changed' | 'validated' | 'invalidated' | 'revoked' | 'disabled' | 'deleted' | 'rotated';

/** A key as listed: no secret, only the last four characters of the API key. */
export interface ExchangeKeyInfo {
  readonly id: string;
  readonly userId: string;
  readonly exchange: ExchangeName;
  readonly label: string;
  /** The API key's last four characters. */
  readonly hint: string;
  readonly hasPassphrase: boolean;
  readonly status: KeyStatus;
  readonly statusReason: string | null;
  /** The id of the encryption key that sealed it. */
  readonly sealedWith: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly revokedAt: number | null;
}

/** One history row. */
export interface KeyEventRecord {
  readonly id: number;
  readonly keyId: string;
  readonly userId: string;
  readonly at: number;
  readonly action: KeyAction;
  readonly by: string;
  readonly reason: string | null;
}

/**
 * Opened credentials, for the exchange adapter only. Read each field by name
 * (`{ apiKey: c.apiKey, secret: c.secret, password: c.passphrase }`): they are not enumerable,
 * so a spread is empty and logging or serializing them prints `[redacted]`.
 */
export interface ExchangeCredentials {
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string | null;
}

/** Why a key store call was refused. */
export type KeyStoreErrorCode = 'invalid_input' | 'not_found' | 'bad_state' | 'unknown_user' | 'undecryptable' | 'unknown_key';

/** A refused or failed key store call; its message never contains a secret. */
export class KeyStoreError extends Error {
  readonly code: KeyStoreErrorCode;
  constructor(code: KeyStoreErrorCode, message: string) {
    super(message);
    this.name = 'KeyStoreError';
    this.code = code;
  }
}

/** The subset of a pino logger the key store writes to. */
export interface KeyLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the key store needs. */
export interface KeyStoreDeps {
  readonly sql: Sql;
  /** Every configured encryption key by id (`SecretKeyring.keys`). */
  readonly keys: ReadonlyMap<string, Buffer>;
  /** The id of the key new values are sealed with (`SecretKeyring.current.id`). */
  readonly currentKeyId: string;
  readonly clock: Clock;
  readonly log: KeyLogger;
  /** Id generator (default `xk-` and 16 random hex digits). */
  readonly newId?: () => string;
  /** Told about every history row after it is committed (e.g. to mirror it into the audit log). */
  readonly onEvent?: (e: KeyEventRecord) => void;
}

/** Outcome of a rotation. */
export interface RotationReport {
  readonly to: string;
  readonly rotated: number;
  readonly alreadyCurrent: number;
  readonly failed: readonly { readonly id: string; readonly error: string }[];
}

/** The key store. */
export interface KeyStore {
  /** Validates, seals and stores a key (status `unchecked`); the plaintext is never returned again. */
  add(input: NewKeyInput, by: string): Promise<ExchangeKeyInfo>;
  /** Keys (all, or a user's), oldest first, without secrets. */
  list(filter?: { readonly userId?: string }): Promise<ExchangeKeyInfo[]>;
  get(id: string): Promise<ExchangeKeyInfo | null>;
  /** Opens a key's credentials for the exchange adapter; refused for a revoked or disabled key. */
  credentials(id: string): Promise<ExchangeCredentials>;
  /** Changes the label and/or the credentials (new credentials reset the status to `unchecked`). */
  change(id: string, change: KeyChangeInput, by: string, reason?: string): Promise<ExchangeKeyInfo>;
  /** Records a successful check against the venue. */
  markValid(id: string, by: string, reason?: string): Promise<ExchangeKeyInfo>;
  /** Records a failed check against the venue, with the venue's reason. */
  markInvalid(id: string, reason: string, by: string): Promise<ExchangeKeyInfo>;
  /** Takes a key out of use until `enable`. */
  disable(id: string, reason: string, by: string): Promise<ExchangeKeyInfo>;
  /** Puts a disabled key back in use, as `unchecked`. */
  enable(id: string, reason: string, by: string): Promise<ExchangeKeyInfo>;
  /** Revokes a key for good (only deletion follows). */
  revoke(id: string, reason: string, by: string): Promise<ExchangeKeyInfo>;
  /** Deletes a key and its sealed secrets; its history stays. */
  delete(id: string, by: string, reason?: string): Promise<void>;
  /** History rows, newest first. */
  history(filter?: { readonly keyId?: string; readonly userId?: string; readonly limit?: number }): Promise<KeyEventRecord[]>;
  /** Re-seals every stored secret under `newKeyId`, which also seals every later value. */
  rotate(newKeyId: string, by?: string): Promise<RotationReport>;
}

const ms = z.number().int();
const InfoRow = z.object({
  id: z.string(),
  user_id: z.string(),
  exchange: z.enum(EXCHANGES),
  label: z.string(),
  key_hint: z.string(),
  has_passphrase: z.boolean(),
  status: z.enum(['valid', 'invalid', 'revoked', 'disabled', 'unchecked']),
  status_reason: z.string().nullable(),
  sealed_with: z.string(),
  created_at: ms,
  updated_at: ms,
  revoked_at: ms.nullable(),
});
const SealedRow = z.object({
  id: z.string(),
  status: z.enum(['valid', 'invalid', 'revoked', 'disabled', 'unchecked']),
  api_key_sealed: z.string(),
  secret_sealed: z.string(),
  passphrase_sealed: z.string().nullable(),
});
const EventRow = z.object({
  id: ms,
  key_id: z.string(),
  user_id: z.string(),
  at: ms,
  action: z.enum(['created', 'changed', 'validated', 'invalidated', 'revoked', 'disabled', 'deleted', 'rotated']),
  by: z.string(),
  reason: z.string().nullable(),
});

function parse<S extends z.ZodType>(schema: S, rows: readonly unknown[], table: string): z.infer<S>[] {
  return rows.map((r) => {
    const res = schema.safeParse(r);
    // The issue text names fields only: a sealed column never reaches the message.
    if (!res.success) throw new Error(`invalid ${table} row from the database: ${describeIssues(res.error)}`);
    return res.data;
  });
}

function toInfo(r: z.infer<typeof InfoRow>): ExchangeKeyInfo {
  return {
    id: r.id,
    userId: r.user_id,
    exchange: r.exchange,
    label: r.label,
    hint: r.key_hint,
    hasPassphrase: r.has_passphrase,
    status: r.status,
    statusReason: r.status_reason,
    sealedWith: r.sealed_with,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    revokedAt: r.revoked_at,
  };
}

function toEvent(r: z.infer<typeof EventRow>): KeyEventRecord {
  return { id: r.id, keyId: r.key_id, userId: r.user_id, at: r.at, action: r.action, by: r.by, reason: r.reason };
}

const REDACTED = '[redacted]';

/** The sealed credentials of a row. */
type Field = 'apiKey' | 'secret' | 'passphrase';

/**
 * Credentials whose fields are read by name only: non-enumerable, so a spread, `JSON.stringify`,
 * pino (whose redaction copies enumerable fields) or `util.inspect` never shows them.
 */
function credentialsOf(apiKey: string, secret: string, passphrase: string | null): ExchangeCredentials {
  const c = {};
  Object.defineProperties(c, {
    apiKey: { value: apiKey },
    secret: { value: secret },
    passphrase: { value: passphrase },
    toJSON: { value: () => REDACTED },
    [inspect.custom]: { value: () => `ExchangeCredentials { ${REDACTED} }` },
  });
  return Object.freeze(c) as ExchangeCredentials;
}

/** The key id a sealed value names (`v1.<keyId>.…`), or null when it is not a sealed value. */
function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split('.');
  return parts.length === 5 ? (parts[1] ?? null) : null;
}

const INFO_COLUMNS = ['id', 'user_id', 'exchange', 'label', 'key_hint', 'status', 'status_reason', 'sealed_with', 'created_at', 'updated_at', 'revoked_at'];

const MAX_TEXT = 500;

function actor(by: string): string {
  const b = by.trim();
  if (!b) throw new KeyStoreError('invalid_input', 'who is asking must be given');
  if (b.length > 100) throw new KeyStoreError('invalid_input', 'the name is longer than 100 characters');
  return b;
}

function reasonOf(reason: string | undefined, required: boolean): string | null {
  const r = (reason ?? '').trim();
  if (required && !r) throw new KeyStoreError('invalid_input', 'a reason is required');
  if (r.length > MAX_TEXT) throw new KeyStoreError('invalid_input', `the reason is longer than ${MAX_TEXT} characters`);
  return r || null;
}

/** Which statuses each status command starts from. */
const FROM: Record<'validated' | 'invalidated' | 'disabled' | 'enabled' | 'revoked', readonly KeyStatus[]> = {
  validated: ['unchecked', 'valid', 'invalid'],
  invalidated: ['unchecked', 'valid', 'invalid'],
  disabled: ['unchecked', 'valid', 'invalid'],
  enabled: ['disabled'],
  revoked: ['unchecked', 'valid', 'invalid', 'disabled'],
};

/**
 * Creates the key store over `sql`.
 * @example const keys = createKeyStore({ sql, keys: ring.keys, currentKeyId: ring.current.id, clock, log });
 */
export function createKeyStore(deps: KeyStoreDeps): KeyStore {
  const { sql, keys, clock, log } = deps;
  const newId = deps.newId ?? (() => `xk-${randomBytes(8).toString('hex')}`);
  let current = deps.currentKeyId;
  if (!keys.has(current)) throw new KeyStoreError('unknown_key', `the current encryption key "${current}" is not among the configured keys`);

  /**
   * Seals one credential bound to its key id and field: a sealed value copied into another
   * row or column does not open there.
   */
  const sealField = (id: string, field: Field, plain: string, keyId: string): string =>
    seal(JSON.stringify([id, field, plain]), keys.get(keyId)!, keyId);

  const openField = (id: string, field: Field, sealed: string): string => {
    let text: string;
    try {
      text = open(sealed, keys);
    } catch (err) {
      // SecretBoxError messages name a key id at most, never the value.
      throw new KeyStoreError('undecryptable', `exchange key ${id} cannot be opened: ${errorMessage(err)}`);
    }
    let bound: unknown;
    try {
      bound = JSON.parse(text);
    } catch {
      bound = null;
    }
    if (!Array.isArray(bound) || bound.length !== 3 || bound[0] !== id || bound[1] !== field || typeof bound[2] !== 'string') {
      throw new KeyStoreError('undecryptable', `exchange key ${id} cannot be opened: its sealed ${field} belongs to another key or field`);
    }
    return bound[2];
  };

  const selectInfo = (q: Sql | TxSql) => q`
    ${q(INFO_COLUMNS)}, passphrase_sealed IS NOT NULL AS has_passphrase`;

  const getInfo = async (q: Sql | TxSql, id: string): Promise<ExchangeKeyInfo | null> => {
    const raw = await q`SELECT ${selectInfo(q)} FROM exchange_keys WHERE id = ${id}`;
    const [r] = parse(InfoRow, raw, 'exchange_keys');
    return r ? toInfo(r) : null;
  };

  const insertEvent = async (
    q: Sql | TxSql,
    e: Omit<KeyEventRecord, 'id'>,
  ): Promise<KeyEventRecord> => {
    const raw = await q`
      INSERT INTO exchange_key_events (key_id, user_id, at, action, by, reason)
      VALUES (${e.keyId}, ${e.userId}, ${e.at}, ${e.action}, ${e.by}, ${e.reason})
      RETURNING *`;
    return toEvent(parse(EventRow, raw, 'exchange_key_events')[0]!);
  };

  const told = (events: readonly KeyEventRecord[]) => {
    for (const e of events) {
      try {
        deps.onEvent?.(e);
      } catch (err) {
        log.warn({ key: e.keyId, action: e.action, err: errorMessage(err) }, 'exchange key event listener failed');
      }
    }
  };

  /** Applies a status command inside one transaction with its history row. */
  const transition = async (
    id: string,
    action: 'validated' | 'invalidated' | 'disabled' | 'enabled' | 'revoked',
    to: KeyStatus,
    by: string,
    reason: string | null,
  ): Promise<ExchangeKeyInfo> => {
    const at = clock.now();
    const { info, event } = await transaction(sql, async (tx) => {
      const [row] = await tx<{ user_id: string; status: KeyStatus }[]>`
        SELECT user_id, status FROM exchange_keys WHERE id = ${id} FOR UPDATE`;
      if (!row) throw new KeyStoreError('not_found', `no exchange key ${id}`);
      if (!FROM[action].includes(row.status)) {
        throw new KeyStoreError('bad_state', `exchange key ${id} is ${row.status}: it cannot be ${action === 'enabled' ? 'enabled' : action}`);
      }
      await tx`
        UPDATE exchange_keys SET status = ${to}, status_reason = ${reason}, updated_at = ${at},
          revoked_at = ${to === 'revoked' ? at : null}
        WHERE id = ${id}`;
      const event = await insertEvent(tx, {
        keyId: id,
        userId: row.user_id,
        at,
        action: action === 'enabled' ? 'changed' : action,
        by,
        reason: action === 'enabled' ? `enabled${reason ? `: ${reason}` : ''}` : reason,
      });
      return { info: (await getInfo(tx, id))!, event };
    });
    log.info({ key: id, user: info.userId, status: to, by }, `exchange key ${action}`);
    told([event]);
    return info;
  };

  const refused = (what: string, fields: Record<string, unknown>, err: unknown): never => {
    if (err instanceof KeyStoreError) {
      log.warn({ ...fields, code: err.code, reason: err.message }, `exchange key ${what} refused`);
      throw err;
    }
    log.error({ ...fields, err: errorMessage(err) }, `exchange key ${what} failed`);
    throw err;
  };

  return {
    async add(input, by) {
      const fields = { user: typeof input?.userId === 'string' ? input.userId : null, exchange: input?.exchange ?? null };
      try {
        const who = actor(by);
        const parsed = NewKeyInput.safeParse(input);
        if (!parsed.success) throw new KeyStoreError('invalid_input', describeIssues(parsed.error));
        const k = parsed.data;
        const id = newId();
        const at = clock.now();
        const row = {
          id,
          user_id: k.userId,
          exchange: k.exchange,
          label: k.label,
          api_key_sealed: sealField(id, 'apiKey', k.apiKey, current),
          secret_sealed: sealField(id, 'secret', k.secret, current),
          passphrase_sealed: k.passphrase ? sealField(id, 'passphrase', k.passphrase, current) : null,
          sealed_with: current,
          key_hint: k.apiKey.slice(-4),
          status: 'unchecked',
          created_at: at,
          updated_at: at,
        };
        const { info, event } = await transaction(sql, async (tx) => {
          const [user] = await tx`SELECT 1 FROM users WHERE id = ${k.userId}`;
          if (!user) throw new KeyStoreError('unknown_user', `no user ${k.userId}`);
          await tx`INSERT INTO exchange_keys ${tx(row)}`;
          const event = await insertEvent(tx, { keyId: id, userId: k.userId, at, action: 'created', by: who, reason: null });
          return { info: (await getInfo(tx, id))!, event };
        });
        log.info({ key: id, user: info.userId, exchange: info.exchange, by: who }, 'exchange key added');
        told([event]);
        return info;
      } catch (err) {
        return refused('add', fields, err);
      }
    },

    async list(filter = {}) {
      const raw = await sql`
        SELECT ${selectInfo(sql)} FROM exchange_keys
        ${filter.userId !== undefined ? sql`WHERE user_id = ${filter.userId}` : sql``}
        ORDER BY created_at, id`;
      return parse(InfoRow, raw, 'exchange_keys').map(toInfo);
    },

    get(id) {
      return getInfo(sql, id);
    },

    async credentials(id) {
      try {
        const raw = await sql`
          SELECT id, status, api_key_sealed, secret_sealed, passphrase_sealed FROM exchange_keys WHERE id = ${id}`;
        const [r] = parse(SealedRow, raw, 'exchange_keys');
        if (!r) throw new KeyStoreError('not_found', `no exchange key ${id}`);
        if (r.status === 'revoked' || r.status === 'disabled') throw new KeyStoreError('bad_state', `exchange key ${id} is ${r.status}`);
        const creds = credentialsOf(
          openField(id, 'apiKey', r.api_key_sealed),
          openField(id, 'secret', r.secret_sealed),
          r.passphrase_sealed === null ? null : openField(id, 'passphrase', r.passphrase_sealed),
        );
        log.info({ key: id }, 'exchange key opened for the exchange adapter');
        return creds;
      } catch (err) {
        return refused('open', { key: id }, err);
      }
    },

    async change(id, change, by, reason) {
      try {
        const who = actor(by);
        const why = reasonOf(reason, false);
        const parsed = KeyChangeInput.safeParse(change);
        if (!parsed.success) throw new KeyStoreError('invalid_input', describeIssues(parsed.error));
        const c = parsed.data;
        const at = clock.now();
        const { info, event } = await transaction(sql, async (tx) => {
          const [row] = await tx<{ user_id: string; status: KeyStatus; exchange: ExchangeName; passphrase_sealed: string | null }[]>`
            SELECT user_id, status, exchange, passphrase_sealed FROM exchange_keys WHERE id = ${id} FOR UPDATE`;
          if (!row) throw new KeyStoreError('not_found', `no exchange key ${id}`);
          if (row.status === 'revoked') throw new KeyStoreError('bad_state', `exchange key ${id} is revoked: add a new key instead`);
          const needs = row.exchange === 'okx' || row.exchange === 'bitget';
          if (!needs && c.passphrase) throw new KeyStoreError('invalid_input', `passphrase: ${row.exchange} keys take no passphrase`);
          if (needs && c.passphrase === null) throw new KeyStoreError('invalid_input', `passphrase: passphrase is required for ${row.exchange}`);
          const set: Record<string, unknown> = { updated_at: at };
          const what: string[] = [];
          if (c.label !== undefined) {
            set['label'] = c.label;
            what.push('label');
          }
          if (c.apiKey !== undefined && c.secret !== undefined) {
            set['api_key_sealed'] = sealField(id, 'apiKey', c.apiKey, current);
            set['secret_sealed'] = sealField(id, 'secret', c.secret, current);
            set['key_hint'] = c.apiKey.slice(-4);
            what.push('credentials');
          }
          if (c.passphrase !== undefined && c.passphrase !== null) {
            set['passphrase_sealed'] = sealField(id, 'passphrase', c.passphrase, current);
            what.push('passphrase');
          }
          if (what.includes('credentials') || what.includes('passphrase')) {
            // Every sealed column of the row must name one key for `sealed_with` to be true.
            if (c.apiKey === undefined) {
              const [sealed] = await tx<{ api_key_sealed: string; secret_sealed: string }[]>`
                SELECT api_key_sealed, secret_sealed FROM exchange_keys WHERE id = ${id}`;
              set['api_key_sealed'] = sealField(id, 'apiKey', openField(id, 'apiKey', sealed!.api_key_sealed), current);
              set['secret_sealed'] = sealField(id, 'secret', openField(id, 'secret', sealed!.secret_sealed), current);
            }
            if (c.passphrase === undefined && row.passphrase_sealed !== null) {
              set['passphrase_sealed'] = sealField(id, 'passphrase', openField(id, 'passphrase', row.passphrase_sealed), current);
            }
            set['sealed_with'] = current;
            set['status'] = 'unchecked';
            set['status_reason'] = null;
          }
          if (what.length === 0) throw new KeyStoreError('invalid_input', 'nothing to change');
          await tx`UPDATE exchange_keys SET ${tx(set)} WHERE id = ${id}`;
          const event = await insertEvent(tx, {
            keyId: id,
            userId: row.user_id,
            at,
            action: 'changed',
            by: who,
            reason: `${what.join(', ')} changed${why ? `: ${why}` : ''}`,
          });
          return { info: (await getInfo(tx, id))!, event };
        });
        log.info({ key: id, user: info.userId, by: who }, 'exchange key changed');
        told([event]);
        return info;
      } catch (err) {
        return refused('change', { key: id }, err);
      }
    },

    async markValid(id, by, reason) {
      try {
        return await transition(id, 'validated', 'valid', actor(by), reasonOf(reason, false));
      } catch (err) {
        return refused('validation', { key: id }, err);
      }
    },

    async markInvalid(id, reason, by) {
      try {
        return await transition(id, 'invalidated', 'invalid', actor(by), reasonOf(reason, true));
      } catch (err) {
        return refused('invalidation', { key: id }, err);
      }
    },

    async disable(id, reason, by) {
      try {
        return await transition(id, 'disabled', 'disabled', actor(by), reasonOf(reason, true));
      } catch (err) {
        return refused('disable', { key: id }, err);
      }
    },

    async enable(id, reason, by) {
      try {
        return await transition(id, 'enabled', 'unchecked', actor(by), reasonOf(reason, true));
      } catch (err) {
        return refused('enable', { key: id }, err);
      }
    },

    async revoke(id, reason, by) {
      try {
        return await transition(id, 'revoked', 'revoked', actor(by), reasonOf(reason, true));
      } catch (err) {
        return refused('revoke', { key: id }, err);
      }
    },

    async delete(id, by, reason) {
      try {
        const who = actor(by);
        const why = reasonOf(reason, false);
        const at = clock.now();
        const event = await transaction(sql, async (tx) => {
          const [row] = await tx<{ user_id: string }[]>`DELETE FROM exchange_keys WHERE id = ${id} RETURNING user_id`;
          if (!row) throw new KeyStoreError('not_found', `no exchange key ${id}`);
          return insertEvent(tx, { keyId: id, userId: row.user_id, at, action: 'deleted', by: who, reason: why });
        });
        log.info({ key: id, user: event.userId, by: who }, 'exchange key deleted');
        told([event]);
      } catch (err) {
        refused('delete', { key: id }, err);
      }
    },

    async history(filter = {}) {
      const raw = await sql`
        SELECT * FROM exchange_key_events
        WHERE TRUE
          ${filter.keyId !== undefined ? sql`AND key_id = ${filter.keyId}` : sql``}
          ${filter.userId !== undefined ? sql`AND user_id = ${filter.userId}` : sql``}
        ORDER BY id DESC
        LIMIT ${filter.limit ?? 500}`;
      return parse(EventRow, raw, 'exchange_key_events').map(toEvent);
    },

    async rotate(newKeyId, by = 'system') {
      if (!keys.has(newKeyId)) {
        const err = new KeyStoreError('unknown_key', `cannot rotate to "${newKeyId}": it is not among the configured keys (SECRETS_KEY)`);
        log.error({ to: newKeyId, code: err.code }, 'exchange key rotation refused');
        throw err;
      }
      const who = actor(by);
      current = newKeyId;
      let rotated = 0;
      let alreadyCurrent = 0;
      const failed: { id: string; error: string }[] = [];
      const events: KeyEventRecord[] = [];
      const raw = await sql`
        SELECT id, status, api_key_sealed, secret_sealed, passphrase_sealed FROM exchange_keys ORDER BY id`;
      for (const r of parse(SealedRow, raw, 'exchange_keys')) {
        const sealed = [r.api_key_sealed, r.secret_sealed, r.passphrase_sealed].filter((s): s is string => s !== null);
        const from = [...new Set(sealed.map((s) => sealedKeyId(s) ?? '?'))];
        if (from.length === 1 && from[0] === newKeyId) {
          alreadyCurrent++;
          continue;
        }
        try {
          const apiKey = sealField(r.id, 'apiKey', openField(r.id, 'apiKey', r.api_key_sealed), newKeyId);
          const secret = sealField(r.id, 'secret', openField(r.id, 'secret', r.secret_sealed), newKeyId);
          const pass = r.passphrase_sealed === null ? null : sealField(r.id, 'passphrase', openField(r.id, 'passphrase', r.passphrase_sealed), newKeyId);
          const at = clock.now();
          const event = await transaction(sql, async (tx) => {
            // Compare-and-set: a key changed since it was read keeps its newer values (already current).
            const res = await tx<{ user_id: string }[]>`
              UPDATE exchange_keys SET api_key_sealed = ${apiKey}, secret_sealed = ${secret}, passphrase_sealed = ${pass},
                sealed_with = ${newKeyId}
              WHERE id = ${r.id} AND api_key_sealed = ${r.api_key_sealed} AND secret_sealed = ${r.secret_sealed}
              RETURNING user_id`;
            const [row] = res;
            if (!row) return null;
            return insertEvent(tx, { keyId: r.id, userId: row.user_id, at, action: 'rotated', by: who, reason: `re-sealed from ${from.join(', ')} to ${newKeyId}` });
          });
          if (event) {
            rotated++;
            events.push(event);
          } else alreadyCurrent++;
        } catch (err) {
          failed.push({ id: r.id, error: errorMessage(err) });
          log.error({ key: r.id, err: errorMessage(err) }, 'exchange key could not be re-sealed');
        }
      }
      log.info({ to: newKeyId, rotated, alreadyCurrent, failed: failed.length }, 'exchange keys re-sealed');
      told(events);
      return { to: newKeyId, rotated, alreadyCurrent, failed };
    },
  };
}

/** An audit-log entry for a key history row, shaped as the accounts module's `AuditInput`. */
export interface KeyAuditEntry {
  readonly actor: { readonly userId: string | null; readonly label: string; readonly ip: string };
  readonly action: `exchange_key.${KeyAction}`;
  readonly target: { readonly type: 'exchange_key'; readonly id: string };
  readonly outcome: 'ok';
  readonly message: string;
  readonly before: null;
  readonly after: Readonly<Record<string, unknown>>;
}

/**
 * The audit entry for a key history row (for `onEvent`); `actor` is the acting user's id and address.
 * @example createKeyStore({ …, onEvent: (e) => void audit.record(keyEventAudit(e)) })
 */
export function keyEventAudit(e: KeyEventRecord, actor: { readonly userId: string | null; readonly ip: string } = { userId: null, ip: '' }): KeyAuditEntry {
  return {
    actor: { userId: actor.userId, label: e.by, ip: actor.ip },
    action: `exchange_key.${e.action}`,
    target: { type: 'exchange_key', id: e.keyId },
    outcome: 'ok',
    message: `${e.by}: exchange key ${e.keyId} of ${e.userId} ${e.action}${e.reason ? ` (${e.reason})` : ''}`,
    before: null,
    after: { userId: e.userId, action: e.action, reason: e.reason },
  };
}
