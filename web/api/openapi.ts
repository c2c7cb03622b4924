/**
 * The OpenAPI 3.1 document of `/api/v1`, generated from the zod schemas the routes validate
 * with (`z.toJSONSchema`), served at `/api/v1/openapi.json`.
 */
import { z } from 'zod';
import { ROUTES, type RouteRule } from '../access.ts';
import * as S from './schemas.ts';

/** One documented operation. */
export interface ApiOperation {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path under `/api/v1`, with `{name}` parameters. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly answer: z.ZodType;
}

/** Every operation of the API. */
export const OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'meta', answer: z.object({ openapi: z.string() }).loose() },
  { method: 'get', path: '/me', summary: 'Who is calling (session or token)', tag: 'meta', answer: S.MeAnswer },
  { method: 'get', path: '/bots', summary: 'List the bots the caller may see', tag: 'bots', query: S.BotsQuery, answer: S.BotsAnswer },
  {
    method: 'post',
    path: '/bots',
    summary: 'Create a bot: owner, group, strategy version and params, paper or an exchange key of the owner, capital, leverage',
    tag: 'bots',
    body: S.NewBotBody,
    answer: S.CreateBotAnswer,
  },
  { method: 'get', path: '/bots/{id}', summary: 'One bot', tag: 'bots', params: S.IdParam, answer: S.Bot },
  { method: 'post', path: '/bots/{id}/pause', summary: 'Pause a bot', tag: 'bots', params: S.IdParam, body: S.CommandBody, answer: S.CommandAnswer },
  { method: 'post', path: '/bots/{id}/resume', summary: 'Resume a bot', tag: 'bots', params: S.IdParam, body: S.CommandBody, answer: S.CommandAnswer },
  { method: 'post', path: '/bots/{id}/restart', summary: 'Restart a bot', tag: 'bots', params: S.IdParam, body: S.CommandBody, answer: S.CommandAnswer },
  {
    method: 'post',
    path: '/bots/{id}/reconcile',
    summary: 'Settle a bot paused by reconciliation: accept the venue state or re-check, then resume',
    tag: 'bots',
    params: S.IdParam,
    body: S.ReconcileBody,
    answer: S.CommandAnswer,
  },
  { method: 'post', path: '/platform/pause-all', summary: 'Pause All trading (closes the order gate)', tag: 'platform', body: S.ReasonBody, answer: S.CommandAnswer },
  { method: 'post', path: '/platform/resume-all', summary: 'Resume All trading', tag: 'platform', body: S.CommandBody, answer: S.CommandAnswer },
  { method: 'get', path: '/users', summary: 'Users with P&L, drawdown and bots; search, filter, sort', tag: 'users', query: S.UsersQuery, answer: S.UsersAnswer },
  { method: 'get', path: '/users/{id}', summary: 'A user: keys, bots, positions, errors, risk, sessions', tag: 'users', params: S.IdParam, answer: S.UserDetailAnswer },
  {
    method: 'post',
    path: '/users/{id}/suspend',
    summary: 'Suspend: block sign-in, end sessions, pause every bot',
    tag: 'users',
    params: S.IdParam,
    body: S.ReasonBody,
    answer: S.CommandAnswer,
  },
  { method: 'post', path: '/users/{id}/unsuspend', summary: 'Reinstate a suspended user', tag: 'users', params: S.IdParam, body: S.CommandBody, answer: S.CommandAnswer },
  { method: 'post', path: '/users/{id}/force-logout', summary: 'End every session of a user', tag: 'users', params: S.IdParam, body: S.CommandBody, answer: S.CommandAnswer },
  { method: 'get', path: '/keys', summary: 'Exchange keys (never a secret)', tag: 'keys', query: S.KeysQuery, answer: S.KeysAnswer },
  { method: 'get', path: '/keys/history', summary: 'Key creation, change and deletion history', tag: 'keys', query: S.KeyHistoryQuery, answer: S.KeyHistoryAnswer },
  { method: 'post', path: '/keys/{id}/revoke', summary: 'Revoke a key for good', tag: 'keys', params: S.IdParam, body: S.ReasonBody, answer: S.CommandAnswer },
  { method: 'post', path: '/keys/{id}/disable', summary: 'Disable a key (reversible)', tag: 'keys', params: S.IdParam, body: S.ReasonBody, answer: S.CommandAnswer },
  { method: 'post', path: '/keys/{id}/enable', summary: 'Enable a disabled key', tag: 'keys', params: S.IdParam, body: S.ReasonBody, answer: S.CommandAnswer },
  { method: 'get', path: '/exchange-keys', summary: "The caller's own exchange keys, with the bots using each", tag: 'exchange-keys', answer: S.OwnKeysAnswer },
  {
    method: 'post',
    path: '/exchange-keys',
    summary: 'Add an exchange key and check it against its venue at once (the answer carries the verdict)',
    tag: 'exchange-keys',
    body: S.NewKeyBody,
    answer: S.CheckedKeyAnswer,
  },
  { method: 'post', path: '/exchange-keys/{id}/check', summary: 'Check a key against its venue now', tag: 'exchange-keys', params: S.IdParam, body: S.EmptyBody, answer: S.CheckedKeyAnswer },
  { method: 'delete', path: '/exchange-keys/{id}', summary: 'Delete a key (refused while a bot trades with it)', tag: 'exchange-keys', params: S.IdParam, answer: S.CommandAnswer },
  { method: 'get', path: '/violations', summary: 'Risk policy violations and the pauses they caused', tag: 'risk', query: S.ViolationsQuery, answer: S.ViolationsAnswer },
  {
    method: 'post',
    path: '/violations/{id}/release',
    summary: 'Release a violation (resumes the bot when nothing else holds it)',
    tag: 'risk',
    params: S.ViolationIdParam,
    body: S.ReasonBody,
    answer: S.CommandAnswer,
  },
  { method: 'get', path: '/policies', summary: 'Risk policies: platform defaults, user and trader limits', tag: 'risk', answer: S.PoliciesAnswer },
  { method: 'put', path: '/policies/{scope}/{scopeId}', summary: 'Set a risk policy', tag: 'risk', params: S.PolicyParam, body: S.PolicyBody, answer: S.CommandAnswer },
  { method: 'delete', path: '/policies/{scope}/{scopeId}', summary: "Remove a user's or trader's own limits", tag: 'risk', params: S.PolicyParam, answer: S.CommandAnswer },
  { method: 'get', path: '/sign-ins', summary: 'Failed sign-ins, suspicious addresses, 2FA history', tag: 'security', query: S.SignInsQuery, answer: S.SignInsAnswer },
  { method: 'get', path: '/audit', summary: 'The audit log, filtered and paged', tag: 'security', query: S.AuditQuery, answer: S.AuditAnswer },
];

/** The route-table path (`:name`) of an OpenAPI path (`{name}`). */
export function routePath(openApiPath: string): string {
  return `/api/v1${openApiPath.replace(/\{(\w+)\}/g, ':$1')}`;
}

type Json = Record<string, unknown>;

/** Moves every `$defs` entry to `components.schemas` and points the `$ref`s there. */
function hoist(schema: unknown, defs: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => hoist(s, defs));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === '$schema') continue;
    if (k === '$defs') {
      for (const [name, def] of Object.entries(v as Json)) defs[name] = hoist(def, defs);
      continue;
    }
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : hoist(v, defs);
  }
  return out;
}

const ERRORS: Record<string, string> = {
  '400': 'Invalid input: `error.issues` names each field',
  '401': 'No valid session or bearer token',
  '403': 'The role (or a read-only token) does not allow it, or a CSRF token is missing',
  '404': 'No such resource (or outside the caller’s scope)',
  '409': 'Refused in the current state',
};

/** Builds the document (a plain JSON object). */
export function openApiDocument(): Json {
  const defs: Record<string, unknown> = {};
  const schema = (s: z.ZodType, io: 'input' | 'output') => hoist(z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }), defs) as Json;
  const paths: Record<string, Json> = {};
  const rules = new Map<string, RouteRule>(ROUTES.map((r) => [`${r.method} ${r.path}`, r]));
  for (const op of OPERATIONS) {
    const rule = rules.get(`${op.method.toUpperCase()} ${routePath(op.path)}`);
    const parameters: Json[] = [];
    for (const [where, s] of [
      ['path', op.params],
      ['query', op.query],
    ] as const) {
      if (!s) continue;
      const js = schema(s, 'input');
      const props = (js['properties'] ?? {}) as Record<string, Json>;
      const required = new Set((js['required'] as string[] | undefined) ?? []);
      for (const [name, p] of Object.entries(props)) {
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: p, ...(p['description'] ? { description: p['description'] } : {}) });
      }
    }
    const errors = Object.fromEntries(
      Object.entries(ERRORS).map(([code, description]) => [code, { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
    );
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      summary: op.summary,
      tags: [op.tag],
      ...(rule?.permission ? { description: `Requires the \`${rule.permission}\` permission.`, security: [{ bearer: [] }, { session: [] }] } : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(op.body, 'input') } } } } : {}),
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: schema(op.answer, 'output') } } }, ...errors },
    };
  }
  // Registers the shared `Error` schema the error responses point to.
  schema(S.ErrorBody, 'output');
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Fleet runtime API',
      version: '1',
      description:
        'The console’s operations as JSON. Authenticate with `Authorization: Bearer fleet_…` (an API token from /account; read tokens cannot change anything) or with the console session cookie plus its `X-CSRF-Token` header on changes. Errors are `{ "error": { "code", "message", "issues"? } }`.',
    },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token created on /account (shown once).' },
        session: { type: 'apiKey', in: 'cookie', name: 'fleet_session', description: 'The console session; changes also need the X-CSRF-Token header.' },
      },
      schemas: defs,
    },
    paths,
  };
}
