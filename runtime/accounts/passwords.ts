/**
 * Password hashing with argon2id (@node-rs/argon2) and the password policy.
 */
import { hash, parseOptions, verify } from '@node-rs/argon2';

/** argon2id cost parameters. */
export interface HashCost {
  /** KiB of memory. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** OWASP's recommended minimum for argon2id: 19 MiB, 2 passes, 1 lane (~60 ms here). */
export const DEFAULT_HASH_COST: HashCost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** The cheapest valid cost, for tests only. */
export const TEST_HASH_COST: HashCost = { memoryCost: 256, timeCost: 1, parallelism: 1 };

/** Hashes and checks passwords. */
export interface PasswordHasher {
  /** An argon2id PHC string with a fresh random salt. */
  hash(password: string): Promise<string>;
  /** True when the password matches; false for a wrong password or a malformed hash. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when a hash was made with other parameters than the current ones. */
  needsRehash(passwordHash: string): boolean;
}

const ARGON2ID = 2; // Algorithm.Argon2id (a const enum, which isolatedModules cannot import)

/** Creates an argon2id hasher with the given cost. */
export function createPasswordHasher(cost: HashCost = DEFAULT_HASH_COST): PasswordHasher {
  const options = { algorithm: ARGON2ID, memoryCost: cost.memoryCost, timeCost: cost.timeCost, parallelism: cost.parallelism };
  return {
    hash: (password) => hash(password, options),
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    },
    needsRehash(passwordHash) {
      try {
        const o = parseOptions(passwordHash);
        return o.algorithm !== ARGON2ID || o.memoryCost !== cost.memoryCost || o.timeCost !== cost.timeCost || o.parallelism !== cost.parallelism;
      } catch {
        return true;
      }
    },
  };
}

/** Shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted (argon2 takes any length; this bounds the work per request). */
export const MAX_PASSWORD_LENGTH = 256;

/** Checks a new password; returns a sentence saying what is wrong, or null when it is acceptable. */
export function passwordProblem(password: string, context: { readonly email?: string } = {}): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `the password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `the password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() !== password) return 'the password must not start or end with spaces';
  if (new Set(password).size < 4) return 'the password repeats too few different characters';
  const name = context.email?.toLowerCase().split('@')[0] ?? '';
  if (name.length >= 4 && password.toLowerCase().includes(name) && password.length < 20) return 'the password must not contain your email name';
  return null;
}
