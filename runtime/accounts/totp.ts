/**
 * TOTP two-factor codes (RFC 6238 via otpauth: SHA-1, 6 digits, 30 s) and single-use recovery
 * codes. Secrets are sealed at rest by the caller; recovery codes are stored as SHA-256 hashes
 * (they are 50-bit random values, so a fast hash is enough).
 */
import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** Seconds per TOTP step. */
export const TOTP_PERIOD_S = 30;
/** Steps either side of now a code may be from (clock drift). */
export const TOTP_WINDOW = 1;
/** Recovery codes issued at enrolment. */
export const RECOVERY_CODE_COUNT = 10;

/** A new random TOTP secret (160 bits), base32. */
export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secretBase32: string, label = 'account', issuer = 'Fleet Console'): TOTP {
  return new TOTP({ issuer, label, secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_S });
}

/** The `otpauth://` URI an authenticator app scans (shown as a QR code). */
export function totpUri(secretBase32: string, accountLabel: string, issuer = 'Fleet Console'): string {
  return totp(secretBase32, accountLabel, issuer).toString();
}

/** The code for a time (tests and tools). */
export function totpCode(secretBase32: string, at: number): string {
  return totp(secretBase32).generate({ timestamp: at });
}

/** The TOTP step of a time. */
export function totpStep(at: number): number {
  return Math.floor(at / 1000 / TOTP_PERIOD_S);
}

/**
 * Checks a 6-digit code against the secret at `at` (±1 step); returns the matched step, or
 * null. Replay protection (a step used once is spent) is the caller's, through the store.
 */
export function matchTotp(secretBase32: string, code: string, at: number): number | null {
  const c = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(c)) return null;
  const delta = totp(secretBase32).validate({ token: c, timestamp: at, window: TOTP_WINDOW });
  return delta === null ? null : totpStep(at) + delta;
}

const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i

/** Ten fresh recovery codes like `k3m9p-xq2rt` (≈ 49 bits each). */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let j = 0; j < 10; j++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    out.push(`${s.slice(0, 5)}-${s.slice(5, 10)}`);
  }
  return out;
}

/** Normalizes what a person typed (case, spaces, dashes) and hashes it. */
export function hashRecoveryCode(code: string): string {
  const norm = code.toLowerCase().replace(/[^a-z0-9]/g, '');
  return createHash('sha256').update(`recovery:${norm}`).digest('hex');
}

/** True when the text looks like a recovery code rather than a TOTP code. */
export function looksLikeRecoveryCode(code: string): boolean {
  return code.replace(/[\s-]/g, '').length === 10 && /[a-z]/i.test(code);
}
