import { describe, expect, it } from 'vitest';
import { TEST_HASH_COST, createPasswordHasher, passwordProblem } from '../../../runtime/accounts/index.ts';

describe('password hashing', () => {
  const hasher = createPasswordHasher(TEST_HASH_COST);

  it('hashes with argon2id and a random salt, and verifies only the right password', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    expect(a.startsWith('$argon2id$v=19$m=256,t=1,p=1$')).toBe(true);
    expect(a).not.toBe(b);
    expect(await hasher.verify(a, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(a, 'correct horse battery stapl')).toBe(false);
  });

  it('answers false for a malformed hash instead of throwing', async () => {
    expect(await hasher.verify('not-a-hash', 'whatever')).toBe(false);
  });

  it('asks for a rehash when the cost changed', async () => {
    const cheap = await hasher.hash('correct horse battery staple');
    expect(hasher.needsRehash(cheap)).toBe(false);
    expect(createPasswordHasher({ memoryCost: 512, timeCost: 1, parallelism: 1 }).needsRehash(cheap)).toBe(true);
    expect(hasher.needsRehash('garbage')).toBe(true);
  });

  it('uses the OWASP minimum cost by default', async () => {
    expect((await createPasswordHasher().hash('correct horse battery staple')).startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true);
  });
});

describe('password policy', () => {
  it('says what is wrong with a weak or oversize password', () => {
    expect(passwordProblem('short')).toBe('the password must be at least 12 characters');
    expect(passwordProblem('x'.repeat(257))).toBe('the password must be at most 256 characters');
    expect(passwordProblem(' padded password ')).toBe('the password must not start or end with spaces');
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toBe('the password repeats too few different characters');
    expect(passwordProblem('grace-hopper-2026', { email: 'grace@example.com' })).toBe('the password must not contain your email name');
    expect(passwordProblem('correct horse battery staple', { email: 'grace@example.com' })).toBeNull();
  });
});
