/**
 * Cryptography helpers shared by the runtime: sealing secrets at rest.
 */
export {
  SECRETS_KEY_FILE,
  SecretBoxError,
  keyIdOf,
  loadKeyring,
  open,
  parseKey,
  parseKeyring,
  seal,
  type KeyringLogger,
  type SecretKeyring,
} from './secretbox.ts';
