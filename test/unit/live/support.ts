/**
 * What the live-trading unit tests share: an in-memory key store with the real one's status
 * rules, and trader records.
 */
import { inspect } from 'node:util';
import { Ids } from '../../../runtime/domain.ts';
import { KeyStoreError, type ExchangeCredentials, type ExchangeKeyInfo, type ExchangeName, type KeyAction } from '../../../runtime/keys/index.ts';
import type { LiveKeyStore } from '../../../runtime/live.ts';
import type { TraderRecord } from '../../../runtime/store/types.ts';

/** A stored key of the memory key store. */
export interface MemoryKey {
  info: ExchangeKeyInfo;
  readonly apiKey: string;
  readonly secret: string;
  readonly passphrase: string | null;
}

/** An in-memory key store: keys by id, the calls it received, the history actions it wrote. */
export interface MemoryKeyStore extends LiveKeyStore {
  readonly keys: Map<string, MemoryKey>;
  readonly opened: string[];
  readonly history: { keyId: string; action: KeyAction; reason: string | null }[];
  put(k: { id: string; exchange: ExchangeName; apiKey: string; secret: string; userId?: string; status?: ExchangeKeyInfo['status']; reason?: string | null }): void;
  setStatus(id: string, status: ExchangeKeyInfo['status'], reason: string | null): void;
}

/** Creates an empty memory key store. */
export function memoryKeyStore(): MemoryKeyStore {
  const keys = new Map<string, MemoryKey>();
  const opened: string[] = [];
  const history: MemoryKeyStore['history'] = [];
  const mustGet = (id: string): MemoryKey => {
    const k = keys.get(id);
    if (!k) throw new KeyStoreError('not_found', `no exchange key ${id}`);
    return k;
  };
  const transition = (id: string, action: KeyAction, status: ExchangeKeyInfo['status'], reason: string | null): ExchangeKeyInfo => {
    const k = mustGet(id);
    if (k.info.status === 'revoked' || k.info.status === 'disabled') throw new KeyStoreError('bad_state', `exchange key ${id} is ${k.info.status}: it cannot be ${action}`);
    k.info = { ...k.info, status, statusReason: reason };
    history.push({ keyId: id, action, reason });
    return k.info;
  };
  return {
    keys,
    opened,
    history,
    put(k) {
      keys.set(k.id, {
        apiKey: k.apiKey,
        secret: k.secret,
        passphrase: null,
        info: {
          id: k.id,
          userId: k.userId ?? 'u-1',
          exchange: k.exchange,
          label: k.id,
          hint: k.apiKey.slice(-4),
          hasPassphrase: false,
          status: k.status ?? 'unchecked',
          statusReason: k.reason ?? null,
          sealedWith: 'k1',
          createdAt: 0,
          updatedAt: 0,
          revokedAt: null,
        },
      });
    },
    setStatus(id, status, reason) {
      const k = mustGet(id);
      k.info = { ...k.info, status, statusReason: reason };
    },
    async get(id) {
      return keys.get(id)?.info ?? null;
    },
    async list() {
      return [...keys.values()].map((k) => k.info);
    },
    async credentials(id) {
      const k = mustGet(id);
      if (k.info.status === 'revoked' || k.info.status === 'disabled') throw new KeyStoreError('bad_state', `exchange key ${id} is ${k.info.status}`);
      opened.push(id);
      const c = {};
      Object.defineProperties(c, {
        apiKey: { value: k.apiKey },
        secret: { value: k.secret },
        passphrase: { value: k.passphrase },
        [inspect.custom]: { value: () => 'ExchangeCredentials { [redacted] }' },
      });
      return c as ExchangeCredentials;
    },
    async markValid(id) {
      return transition(id, 'validated', 'valid', null);
    },
    async markInvalid(id, reason) {
      return transition(id, 'invalidated', 'invalid', reason);
    },
  };
}

/** A live trader of `u-1` whose account is exchange key `keyId`. */
export const liveTrader = (id: string, venue: string, keyId: string, over: Partial<TraderRecord> = {}): TraderRecord => ({
  id: Ids.trader(id),
  managerId: Ids.manager('m-1'),
  userId: Ids.user('u-1'),
  name: `bot ${id}`,
  strategyName: 'equal-weight',
  strategyVersion: 1,
  params: {},
  venue,
  accountId: keyId,
  initialCapital: '10000',
  leverage: 2,
  riskLimits: {},
  createdAt: 0,
  updatedAt: 0,
  ...over,
});
