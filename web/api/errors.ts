/**
 * The JSON API's errors: every refusal is `{ error: { code, message, issues? } }` with a 4xx
 * status; `issues` lists each invalid field of a 400.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AdminErrorCode } from '../../runtime/admin.ts';

/** Status codes the API answers errors with. */
export type ApiErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 503;

/** One invalid field: where (dot path; empty for the whole body) and what is wrong. */
export interface ApiIssue {
  readonly path: string;
  readonly message: string;
}

/** Sends an API error. */
export function apiFail(c: Context, status: ApiErrorStatus, code: string, message: string, issues?: readonly ApiIssue[]): Response {
  return c.json({ error: { code, message, ...(issues && issues.length > 0 ? { issues } : {}) } }, status);
}

/** zod issues as API issues. */
export function issuesOf(error: z.ZodError): ApiIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** A 400 for a zod failure: the message names every field. */
export function invalid(c: Context, error: z.ZodError, what: string): Response {
  const issues = issuesOf(error);
  const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return apiFail(c, 400, 'invalid_request', `Invalid ${what}: ${text}.`, issues);
}

/** The HTTP status of an administration refusal. */
export const ADMIN_STATUS: Readonly<Record<AdminErrorCode, 400 | 403 | 404 | 409>> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
};
