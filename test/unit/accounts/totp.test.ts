import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchTotp,
  totpStep,
  totpUri,
} from '../../../runtime/accounts/index.ts';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const AT = Date.UTC(2026, 10, 21, 12, 0, 10);
/** A code from otpauth itself (independent of the code under test). */
const codeAt = (t: number) => new TOTP({ secret: Secret.fromBase32(SECRET), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: t });

describe('TOTP', () => {
  it('accepts the current code and returns its step', () => {
    expect(matchTotp(SECRET, codeAt(AT), AT)).toBe(totpStep(AT));
  });

  it('accepts the previous and the next step (clock drift) and nothing further', () => {
    expect(matchTotp(SECRET, codeAt(AT - 30_000), AT)).toBe(totpStep(AT) - 1);
    expect(matchTotp(SECRET, codeAt(AT + 30_000), AT)).toBe(totpStep(AT) + 1);
    expect(matchTotp(SECRET, codeAt(AT - 60_000), AT)).toBeNull();
    expect(matchTotp(SECRET, codeAt(AT + 60_000), AT)).toBeNull();
  });

  it('ignores spaces and refuses anything but six digits', () => {
    const c = codeAt(AT);
    expect(matchTotp(SECRET, `${c.slice(0, 3)} ${c.slice(3)}`, AT)).toBe(totpStep(AT));
    expect(matchTotp(SECRET, '12345', AT)).toBeNull();
    expect(matchTotp(SECRET, 'abcdef', AT)).toBeNull();
    expect(matchTotp(SECRET, `${c}0`, AT)).toBeNull();
  });

  it('makes 160-bit base32 secrets and an otpauth URI naming the account and issuer', () => {
    const s = generateTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    const uri = totpUri(s, 'ada@example.com');
    expect(uri).toContain('otpauth://totp/Fleet%20Console:ada%40example.com?');
    expect(uri).toContain(`secret=${s}`);
    expect(uri).toContain('issuer=Fleet%20Console');
  });
});

describe('recovery codes', () => {
  it('makes ten distinct codes like abcde-12345', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
  });

  it('hashes what a person types the same way whatever the case, spaces or dashes', () => {
    expect(hashRecoveryCode('ABCDE-23456')).toBe(hashRecoveryCode('abcde23456'));
    expect(hashRecoveryCode(' abcde 23456 ')).toBe(hashRecoveryCode('abcde-23456'));
    expect(hashRecoveryCode('abcde-23456')).not.toBe(hashRecoveryCode('abcde-23457'));
    expect(hashRecoveryCode('abcde-23456')).toMatch(/^[0-9a-f]{64}$/);
  });
});
