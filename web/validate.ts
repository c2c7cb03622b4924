/**
 * zod at the HTTP edge: form bodies and query strings become typed values or one readable
 * sentence for a 400 response.
 */
import type { Context } from 'hono';
import { z } from 'zod';

/** A parse outcome: the data, or a message a person can read. */
export type Parsed<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly message: string };

/** zod preprocessor: an empty or blank form field counts as absent. */
export const emptyToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/**
 * Turns zod issues into one readable sentence: `your name is required; reason is too long`.
 * Schemas carry messages that name their field, so paths are left out.
 */
export function issuesText(error: z.ZodError): string {
  return [...new Set(error.issues.map((i) => i.message))].join('; ');
}

/** Validates any value against a schema. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): Parsed<z.output<S>> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, data: r.data } : { ok: false, message: issuesText(r.error) };
}

/** Validates the query string (first value of each key). */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): Parsed<z.output<S>> {
  return parseWith(schema, c.req.query());
}

/** Validates a urlencoded or multipart form body; an unreadable body is a 400 too. */
export async function parseForm<S extends z.ZodType>(c: Context, schema: S): Promise<Parsed<z.output<S>>> {
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    return { ok: false, message: 'the form body could not be read' };
  }
  return parseWith(schema, body);
}

/**
 * A whole number as typed in a form or a query string: decimal digits only (no sign, exponent,
 * hex or fraction, which `Number()` would accept), within bounds.
 * @example z.preprocess(emptyToUndefined, wholeNumber('page', 1, 1000).default(1))
 */
export function wholeNumber(what: string, min: number, max: number) {
  return z
    .string({ error: () => `${what} must be a whole number` })
    .trim()
    .regex(/^\d{1,16}$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));
}
