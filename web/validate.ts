/**
 * zod at the HTTP edge: form bodies and query strings become typed values or one readable
 * sentence for a 400 response.
 */
import type { Context } from 'hono';
import type { z } from 'zod';

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
