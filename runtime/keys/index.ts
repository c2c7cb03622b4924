/** Public surface of the keys folder: exchange API keys sealed at rest, their status and history. */
export { EXCHANGES, NEEDS_PASSPHRASE, KeyChangeInput, NewKeyInput, describeIssues, type ExchangeName } from './input.ts';
export {
  createKeyStore,
  keyEventAudit,
  KeyStatus,
  KeyStoreError,
  type ExchangeCredentials,
  type ExchangeKeyInfo,
  type KeyAction,
  type KeyAuditEntry,
  type KeyEventRecord,
  type KeyLogger,
  type KeyStore,
  type KeyStoreDeps,
  type KeyStoreErrorCode,
  type RotationReport,
} from './store.ts';
