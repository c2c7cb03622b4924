import { describe, expect, it } from 'vitest';
import { describeIssues, KeyChangeInput, NewKeyInput } from '../../../runtime/keys/index.ts';

const API_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';

const key = (over: Record<string, unknown> = {}) => ({ userId: 'u-1', exchange: 'binanceusdm', label: 'main', apiKey: API_KEY, secret: SECRET, ...over });

function problems(input: unknown): string {
  const r = NewKeyInput.safeParse(input);
  return r.success ? 'ok' : describeIssues(r.error);
}

describe('NewKeyInput', () => {
  it('accepts a Binance-style key and trims what was pasted around it', () => {
    const r = NewKeyInput.parse(key({ apiKey: `  ${API_KEY}\n`, label: ' main ' }));
    expect(r).toEqual({ userId: 'u-1', exchange: 'binanceusdm', label: 'main', apiKey: API_KEY, secret: SECRET });
  });

  it('accepts an OKX key (UUID api key) with its passphrase', () => {
    expect(problems(key({ exchange: 'okx', apiKey: '8a7c1f2e-3b4d-4e5f-9a0b-1c2d3e4f5a6b', secret: 'A1B2C3D4E5F60718293A4B5C6D7E8F90', passphrase: 'Pass phrase 1!' }))).toBe('ok');
  });

  it('accepts a PEM private key as the secret (Ed25519 API keys)', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDxlk0F6ZQ3UHQ5U4bN0H3m2QqX2PlwB8P9x3Zxq9A1z\n-----END PRIVATE KEY-----';
    expect(problems(key({ secret: pem }))).toBe('ok');
  });

  it('names every broken field and rule without echoing any value', () => {
    const badKey = 'short key!';
    const badSecret = 'has spaces in the secret value';
    const msg = problems(key({ apiKey: badKey, secret: badSecret, exchange: 'kraken', label: '' }));
    expect(msg).toBe(
      'exchange: exchange must be one of binanceusdm, bybit, okx, bitget, paper; label: label is required; ' +
        'apiKey: api key must be 16 to 256 characters of A-Z a-z 0-9 _ -; ' +
        'secret: secret must be 16 to 512 printable characters without spaces, or a PEM private key',
    );
    expect(msg).not.toContain(badKey);
    expect(msg).not.toContain(badSecret);
  });

  it('requires a passphrase for OKX and Bitget and refuses one elsewhere', () => {
    expect(problems(key({ exchange: 'bitget' }))).toBe('passphrase: passphrase is required for bitget');
    expect(problems(key({ exchange: 'bybit', passphrase: 'secret-pass' }))).toBe('passphrase: bybit keys take no passphrase');
  });

  it('refuses unknown fields and a non-text secret', () => {
    expect(problems(key({ extra: 1 }))).toBe('Unrecognized key: "extra"');
    expect(problems(key({ secret: 12345 }))).toBe('secret: secret must be text');
  });
});

describe('KeyChangeInput', () => {
  const change = (input: unknown) => {
    const r = KeyChangeInput.safeParse(input);
    return r.success ? 'ok' : describeIssues(r.error);
  };

  it('changes the label alone, or the api key and the secret together', () => {
    expect(change({ label: 'spare' })).toBe('ok');
    expect(change({ apiKey: API_KEY, secret: SECRET })).toBe('ok');
    expect(change({ apiKey: API_KEY })).toBe('secret: api key and secret are changed together');
    expect(change({})).toBe('nothing to change');
  });
});
