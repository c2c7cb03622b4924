/**
 * Validation of exchange keys as a user enters them (zod). Messages name the field and the
 * rule, never the value: they reach logs and the console.
 */
import { z } from 'zod';

/** The venues a key can be stored for. */
export const EXCHANGES = ['binanceusdm', 'bybit', 'okx', 'bitget', 'paper'] as const;
export type ExchangeName = (typeof EXCHANGES)[number];

/** Venues whose API keys come with a passphrase. */
export const NEEDS_PASSPHRASE: ReadonlySet<ExchangeName> = new Set(['okx', 'bitget']);

const PEM = /^-----BEGIN [A-Z0-9 ]+-----\r?\n[A-Za-z0-9+/=\r\n]+-----END [A-Z0-9 ]+-----$/;
const TOKEN_SECRET = /^[\x21-\x7E]{16,512}$/;

const apiKey = z
  .string({ error: 'api key must be text' })
  .trim()
  .regex(/^[A-Za-z0-9_-]{16,256}$/, { error: 'api key must be 16 to 256 characters of A-Z a-z 0-9 _ -' });

const secret = z
  .string({ error: 'secret must be text' })
  .trim()
  .max(8192, { error: 'secret must be at most 8192 characters' })
  .refine((s) => TOKEN_SECRET.test(s) || PEM.test(s), {
    error: 'secret must be 16 to 512 printable characters without spaces, or a PEM private key',
  });

const passphrase = z
  .string({ error: 'passphrase must be text' })
  .regex(/^[\x20-\x7E]{1,128}$/, { error: 'passphrase must be 1 to 128 printable characters' });

const label = z
  .string({ error: 'label must be text' })
  .trim()
  .min(1, { error: 'label is required' })
  .max(100, { error: 'label must be at most 100 characters' })
  .regex(/^[^\p{Cc}]*$/u, { error: 'label must not contain control characters' });

/** A key as entered. */
export const NewKeyInput = z
  .strictObject({
    userId: z.string({ error: 'user id must be text' }).trim().min(1, { error: 'user id is required' }).max(100),
    exchange: z.enum(EXCHANGES, { error: `exchange must be one of ${EXCHANGES.join(', ')}` }),
    label,
    apiKey,
    secret,
    passphrase: passphrase.nullable().optional(),
  })
  .superRefine((k, ctx) => {
    const needs = NEEDS_PASSPHRASE.has(k.exchange);
    if (needs && !k.passphrase) ctx.addIssue({ code: 'custom', path: ['passphrase'], message: `passphrase is required for ${k.exchange}` });
    if (!needs && k.passphrase) ctx.addIssue({ code: 'custom', path: ['passphrase'], message: `${k.exchange} keys take no passphrase` });
  });
export type NewKeyInput = z.input<typeof NewKeyInput>;

/** A change of label and/or credentials (credentials change together: api key and secret). */
export const KeyChangeInput = z
  .strictObject({
    label: label.optional(),
    apiKey: apiKey.optional(),
    secret: secret.optional(),
    passphrase: passphrase.nullable().optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.apiKey === undefined) !== (c.secret === undefined))
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'api key and secret are changed together' });
    if (c.label === undefined && c.apiKey === undefined && c.passphrase === undefined)
      ctx.addIssue({ code: 'custom', path: [], message: 'nothing to change' });
  });
export type KeyChangeInput = z.input<typeof KeyChangeInput>;

/** The issues of a failed parse as one line, e.g. `secret: secret must be …; passphrase: …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
