/**
 * zod schemas of the accounts tables' rows as they come back from the database.
 */
import { z } from 'zod';
import { ROLES } from './permissions.ts';

const ms = z.number().int();
const msOrNull = ms.nullable();

/** `users` row with the credential columns. */
export const AccountRow = z.object({
  id: z.string(),
  email: z.string(),
  display_name: z.string(),
  role: z.enum(ROLES),
  status: z.enum(['active', 'suspended']),
  password_hash: z.string().nullable(),
  totp_secret: z.string().nullable(),
  totp_enabled: z.boolean(),
  totp_last_step: msOrNull,
  failed_attempts: z.number().int(),
  locked_until: msOrNull,
  last_sign_in_at: msOrNull,
  last_sign_in_ip: z.string().nullable(),
  password_changed_at: msOrNull,
  created_at: ms,
});

/** `sessions` row. */
export const SessionRow = z.object({
  id: z.string(),
  user_id: z.string(),
  created_at: ms,
  last_seen_at: ms,
  idle_expires_at: ms,
  absolute_expires_at: ms,
  ip: z.string(),
  user_agent: z.string(),
  csrf_token: z.string(),
  mfa_verified: z.boolean(),
  revoked_at: msOrNull,
  revoked_reason: z.string().nullable(),
});

/** `sign_in_attempts` row. */
export const AttemptRow = z.object({
  id: z.number().int(),
  email: z.string(),
  user_id: z.string().nullable(),
  ip: z.string(),
  at: ms,
  ok: z.boolean(),
  reason: z.enum(['ok', 'bad_password', 'unknown_email', 'no_password', 'locked', 'suspended', 'rate_limited', 'bad_code', 'recovery_code']),
});

/** `audit_log` row. */
export const AuditRow = z.object({
  id: z.number().int(),
  at: ms,
  actor_user_id: z.string().nullable(),
  actor_label: z.string(),
  ip: z.string(),
  action: z.string(),
  target_type: z.string(),
  target_id: z.string().nullable(),
  outcome: z.enum(['ok', 'refused', 'denied']),
  message: z.string(),
  before: z.json().nullable(),
  after: z.json().nullable(),
});

/** `api_tokens` row. */
export const ApiTokenRow = z.object({
  id: z.string(),
  user_id: z.string(),
  name: z.string(),
  token_hash: z.string(),
  scope: z.enum(['read', 'write']),
  created_at: ms,
  last_used_at: msOrNull,
  expires_at: msOrNull,
  revoked_at: msOrNull,
});

/** A count. */
export const CountRow = z.object({ n: z.coerce.number().int() });

/** Parses database rows; a row that does not match is a broken invariant and throws. */
export function parseRows<S extends z.ZodType>(schema: S, rows: readonly unknown[], table: string): z.infer<S>[] {
  return rows.map((r) => {
    const res = schema.safeParse(r);
    if (!res.success) throw new Error(`invalid ${table} row from the database: ${z.prettifyError(res.error)}`);
    return res.data;
  });
}
