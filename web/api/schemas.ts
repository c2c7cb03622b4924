/**
 * zod schemas of the JSON API: the path parameters, query strings and bodies it validates, and
 * the shapes it answers with. The OpenAPI document (openapi.ts) is generated from these same
 * schemas, so what is documented is what is enforced.
 */
import { z } from 'zod';
import { ROLES } from '../../runtime/accounts/index.ts';
import { USER_SORTS } from '../../runtime/admin.ts';
import { EXCHANGES } from '../../runtime/keys/index.ts';

/** Longest free text (reasons) accepted. */
export const MAX_REASON = 500;
/** Longest id accepted in a path or a filter. */
export const MAX_ID = 100;

const ID = /^[A-Za-z0-9_.:@-]+$/;

/** An id of a bot, user, key or group: 1–100 of `A-Z a-z 0-9 _ . : @ -`. */
export const idString = (what: string) =>
  z
    .string({ error: `${what} must be text` })
    .min(1, `${what} is required`)
    .max(MAX_ID, `${what} is longer than ${MAX_ID} characters`)
    .regex(ID, `${what} may contain only letters, digits and _ . : @ -`);

/** An optional reason. */
export const optionalReason = z
  .string({ error: 'reason must be text' })
  .trim()
  .max(MAX_REASON, `reason is longer than ${MAX_REASON} characters`)
  .optional()
  .meta({ description: 'Why (recorded in the audit log).' });

/** A required reason. */
export const requiredReason = z
  .string({ error: 'reason is required and must be text' })
  .trim()
  .min(1, 'reason is required')
  .max(MAX_REASON, `reason is longer than ${MAX_REASON} characters`)
  .meta({ description: 'Why (recorded in the audit log).' });

// Query strings arrive as text: numbers and booleans are parsed from it, strictly.
const intParam = (what: string, min: number, max: number) =>
  z
    .string({ error: `${what} must be a whole number` })
    .regex(/^\d{1,16}$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));
const boolParam = (what: string) =>
  z.enum(['true', 'false'], { error: `${what} must be true or false` }).transform((v) => v === 'true');

/**
 * A point in time: epoch milliseconds, or an ISO 8601 date-time (UTC unless it names a zone).
 * @example "2026-11-21T12:00", "2026-11-21T12:00:00Z", "1795262400000"
 */
export const timeParam = (what: string) =>
  z
    .string({ error: `${what} must be a time` })
    .max(40, `${what} is too long`)
    .transform((v, ctx) => {
      if (/^\d{1,15}$/.test(v)) return Number(v);
      const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?(Z|[+-]\d{2}:\d{2})?$/.exec(v);
      const t = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? 'Z'}`) : NaN;
      if (!Number.isFinite(t)) {
        ctx.addIssue({ code: 'custom', message: `${what} must be epoch milliseconds or a date-time like 2026-11-21T12:00` });
        return z.NEVER;
      }
      return t;
    });

/** Path: a bot, user or key id. */
export const IdParam = z.strictObject({ id: idString('id') });
/** Path: a violation id. */
export const ViolationIdParam = z.strictObject({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'the violation id must be a positive whole number')
    .transform(Number)
    .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER, 'the violation id is too large')),
});
/** Path: a policy's scope and scope id. */
export const PolicyParam = z
  .strictObject({
    scope: z.enum(['platform', 'user', 'trader'], { error: 'scope must be platform, user or trader' }),
    scopeId: idString('scopeId'),
  })
  .refine((p) => p.scope !== 'platform' || p.scopeId === 'platform', { message: 'the platform policy is /policies/platform/platform', path: ['scopeId'] });

/** The query of a route that takes none: any parameter is refused. */
export const NoQuery = z.strictObject({});

/** Query of `GET /bots`. */
export const BotsQuery = z.strictObject({
  status: z.enum(['starting', 'running', 'paused', 'error', 'stopped'], { error: 'status must be starting, running, paused, error or stopped' }).optional(),
  manager: idString('manager').optional(),
  user: idString('user').optional(),
  q: z.string().max(100, 'q is longer than 100 characters').optional().meta({ description: 'Matches the name, id or strategy.' }),
  limit: intParam('limit', 1, 500).optional(),
  offset: intParam('offset', 0, 1_000_000).optional(),
});

/** Query of `GET /users`. */
export const UsersQuery = z.strictObject({
  q: z.string().max(100, 'q is longer than 100 characters').optional().meta({ description: 'Matches the id, email or name.' }),
  role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` }).optional(),
  status: z.enum(['active', 'suspended'], { error: 'status must be active or suspended' }).optional(),
  hasRunningBots: boolParam('hasRunningBots').optional(),
  sort: z.enum(USER_SORTS, { error: `sort must be one of ${USER_SORTS.join(', ')}` }).optional(),
  order: z.enum(['asc', 'desc'], { error: 'order must be asc or desc' }).optional(),
  limit: intParam('limit', 1, 500).optional(),
  offset: intParam('offset', 0, 1_000_000).optional(),
});

const KEY_STATUSES = ['valid', 'invalid', 'revoked', 'disabled', 'unchecked'] as const;

/** Query of `GET /keys`. */
export const KeysQuery = z.strictObject({
  userId: idString('userId').optional(),
  status: z.enum(KEY_STATUSES, { error: `status must be one of ${KEY_STATUSES.join(', ')}` }).optional(),
  exchange: z.enum(EXCHANGES, { error: `exchange must be one of ${EXCHANGES.join(', ')}` }).optional(),
});

/** Query of `GET /keys/history`. */
export const KeyHistoryQuery = z.strictObject({
  keyId: idString('keyId').optional(),
  userId: idString('userId').optional(),
  limit: intParam('limit', 1, 1000).optional(),
});

/** Query of `GET /violations`. */
export const ViolationsQuery = z.strictObject({
  status: z.enum(['open', 'released'], { error: 'status must be open or released' }).optional(),
  traderId: idString('traderId').optional(),
  userId: idString('userId').optional(),
  limit: intParam('limit', 1, 1000).optional(),
});

/** Query of `GET /sign-ins`. */
export const SignInsQuery = z.strictObject({ hours: intParam('hours', 1, 720).optional() });

const ACTION = /^[a-z0-9_.]+$/;

/** Query of `GET /audit`. */
export const AuditQuery = z.strictObject({
  actor: idString('actor').optional().meta({ description: "The acting user's id." }),
  action: z.string().max(100, 'action is too long').regex(ACTION, 'action may contain only a-z 0-9 _ .').optional(),
  actionPrefix: z.string().max(100, 'actionPrefix is too long').regex(ACTION, 'actionPrefix may contain only a-z 0-9 _ .').optional(),
  targetType: z.string().max(40, 'targetType is too long').regex(/^[a-z_]+$/, 'targetType may contain only a-z _').optional(),
  targetId: z.string().max(200, 'targetId is too long').optional(),
  since: timeParam('since').optional(),
  until: timeParam('until').optional(),
  beforeId: intParam('beforeId', 1, Number.MAX_SAFE_INTEGER).optional(),
  limit: intParam('limit', 1, 500).optional(),
});

const LIVE_VENUES = ['binanceusdm', 'bybit', 'okx', 'bitget'] as const;
const VENUES = ['paper', ...LIVE_VENUES] as const;

/** Body of `POST /bots`: a new bot. */
export const NewBotBody = z
  .strictObject({
    name: z
      .string({ error: 'name must be text' })
      .trim()
      .min(1, 'name is required')
      .max(64, 'name is longer than 64 characters')
      .regex(/^[^\p{Cc}]*$/u, 'name must not contain control characters'),
    userId: idString('userId').meta({ description: 'The owner: the bot trades for this user (with one of their exchange keys when live).' }),
    managerId: idString('managerId').meta({ description: 'The group (manager) the bot runs under.' }),
    strategy: z
      .string({ error: 'strategy must be text' })
      .max(300, 'strategy is longer than 300 characters')
      .regex(/^[A-Za-z0-9_.-]+@\d{1,9}$/, 'strategy must be a version as name@version, e.g. momentum@2'),
    params: z
      .record(z.string(), z.unknown(), { error: 'params must be a JSON object or null' })
      .nullable()
      .optional()
      .meta({ description: "Strategy params, validated against the version's schema; null or absent: the version's defaults." }),
    venue: z.enum(VENUES, { error: `venue must be one of ${VENUES.join(', ')}` }),
    keyId: idString('keyId').nullable().optional().meta({ description: "A live venue: the owner's exchange key of that venue. Paper: none." }),
    initialCapital: z
      .string({ error: 'initialCapital must be a decimal string of USDT, e.g. "1000"' })
      .regex(/^\d{1,12}(\.\d{1,8})?$/, 'initialCapital must be a decimal string of USDT, e.g. "1000" or "250.5"')
      .refine((v) => Number(v) > 0, 'initialCapital must be above 0'),
    leverage: z.number({ error: 'leverage must be a whole number' }).int('leverage must be a whole number').min(1, 'leverage must be at least 1').max(125, 'leverage must be at most 125'),
    startPaused: z.boolean({ error: 'startPaused must be true or false' }).optional().meta({ description: 'Create it paused instead of running at once.' }),
  })
  .superRefine((b, ctx) => {
    if (b.venue === 'paper' && b.keyId) ctx.addIssue({ code: 'custom', path: ['keyId'], message: 'a paper bot takes no keyId' });
    if (b.venue !== 'paper' && !b.keyId) ctx.addIssue({ code: 'custom', path: ['keyId'], message: `keyId is required for ${b.venue}` });
  });

/** Body of `POST /exchange-keys`: a key (the credentials are sealed at rest and never returned). */
export const NewKeyBody = z.strictObject({
  exchange: z.enum(LIVE_VENUES, { error: `exchange must be one of ${LIVE_VENUES.join(', ')}` }),
  label: z.string({ error: 'label must be text' }).max(100, 'label is longer than 100 characters'),
  apiKey: z.string({ error: 'apiKey must be text' }).max(256, 'apiKey is longer than 256 characters'),
  secret: z.string({ error: 'secret must be text' }).max(8192, 'secret is longer than 8192 characters'),
  passphrase: z
    .string({ error: 'passphrase must be text or null' })
    .max(128, 'passphrase is longer than 128 characters')
    .nullable()
    .optional()
    .meta({ description: 'okx and bitget only (required there).' }),
  userId: idString('userId').optional().meta({ description: 'Another user (needs keys.manage); default: the caller.' }),
});

/** A body that must be empty (`{}`). */
export const EmptyBody = z.strictObject({});

/** Body of a bot command and of Resume All. */
export const CommandBody = z.strictObject({ reason: optionalReason });
/** Body of a reconciliation decision: accept the venue state, or re-check after correcting the venue. */
export const ReconcileBody = z.strictObject({
  decision: z.enum(['accept', 'recheck'], { error: 'decision must be accept or recheck' }),
  reason: optionalReason,
});
/** Body of Pause All, a suspension, a key command and a release: a reason is required. */
export const ReasonBody = z.strictObject({ reason: requiredReason });

const pct = z
  .number({ error: 'must be a number (percent) or null' })
  .gt(0, 'must be above 0')
  .lte(100, 'must be at most 100')
  .nullable();

/** Body of `PUT /policies/{scope}/{scopeId}`: every limit, null to inherit. */
export const PolicyBody = z.strictObject({
  dailyStopLossPct: pct.meta({ description: 'Daily stop-loss in percent of the day-start PV; null inherits.' }),
  totalStopLossPct: pct.meta({ description: 'Total stop-loss in percent of the initial capital; null inherits.' }),
  maxLeverage: z
    .number({ error: 'must be a number or null' })
    .gte(1, 'must be at least 1')
    .lte(1000, 'must be at most 1000')
    .nullable()
    .meta({ description: 'Leverage cap; null inherits.' }),
});

// Answers (documented; the API test checks real answers against them).

const pause = z.object({ by: z.string(), reason: z.string(), scope: z.enum(['trader', 'manager', 'all', 'risk']), at: z.number() }).nullable();

/** A bot. */
export const Bot = z
  .object({
    id: z.string(),
    name: z.string(),
    userId: z.string(),
    userName: z.string(),
    managerId: z.string(),
    managerName: z.string(),
    strategy: z.string(),
    status: z.enum(['starting', 'running', 'paused', 'error', 'stopped']),
    stateDetail: z.string(),
    pause,
    error: z.object({ kind: z.string(), message: z.string(), at: z.number(), retryable: z.boolean() }).nullable(),
    escalated: z.boolean(),
    portfolioValue: z.string().nullable(),
    roe: z.number().nullable(),
    lastCycleAt: z.number().nullable(),
  })
  .meta({ id: 'Bot' });

/** A user row. */
export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(ROLES),
    status: z.enum(['active', 'suspended']),
    joinedAt: z.number(),
    lastSignInAt: z.number().nullable(),
    lastSignInIp: z.string().nullable(),
    twoFactor: z.boolean(),
    lockedUntil: z.number().nullable(),
    bots: z.object({ total: z.number(), running: z.number(), paused: z.number(), error: z.number() }),
    totalPnl: z.string().nullable().meta({ description: 'Σ (latest PV − initial capital) of the user’s traders.' }),
    mdd: z.number().nullable().meta({ description: 'Current maximum drawdown, a fraction.' }),
  })
  .meta({ id: 'User' });

/** An exchange key (never a secret). */
export const Key = z
  .object({
    id: z.string(),
    userId: z.string(),
    userEmail: z.string().nullable(),
    userName: z.string().nullable(),
    exchange: z.enum(EXCHANGES),
    label: z.string(),
    hint: z.string(),
    hasPassphrase: z.boolean(),
    status: z.enum(KEY_STATUSES),
    statusReason: z.string().nullable(),
    sealedWith: z.string(),
    createdAt: z.number(),
    updatedAt: z.number(),
    revokedAt: z.number().nullable(),
  })
  .meta({ id: 'ExchangeKey' });

/** A key history row. */
export const KeyEvent = z
  .object({ id: z.number(), keyId: z.string(), userId: z.string(), at: z.number(), action: z.string(), by: z.string(), reason: z.string().nullable() })
  .meta({ id: 'ExchangeKeyEvent' });

/** A risk violation. */
export const Violation = z
  .object({
    id: z.number(),
    at: z.number(),
    traderId: z.string(),
    userId: z.string(),
    policy: z.enum(['dailyStopLoss', 'totalStopLoss', 'maxLeverage']),
    observed: z.string(),
    limit: z.string(),
    message: z.string(),
    status: z.enum(['open', 'released']),
    releasedAt: z.number().nullable(),
    releasedBy: z.string().nullable(),
    releaseReason: z.string().nullable(),
    traderName: z.string().nullable(),
    userName: z.string().nullable(),
    traderStatus: z.string().nullable(),
    pause,
  })
  .meta({ id: 'RiskViolation' });

/** A risk policy row. */
export const Policy = z
  .object({
    scope: z.enum(['platform', 'user', 'trader']),
    scopeId: z.string(),
    dailyStopLossPct: z.number().nullable(),
    totalStopLossPct: z.number().nullable(),
    maxLeverage: z.number().nullable(),
    updatedAt: z.number(),
    updatedBy: z.string(),
  })
  .meta({ id: 'RiskPolicy' });

/** An audit-log entry. */
export const AuditEntry = z
  .object({
    id: z.number().optional(),
    at: z.number(),
    actorUserId: z.string().nullable(),
    actorLabel: z.string(),
    ip: z.string(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    outcome: z.enum(['ok', 'refused', 'denied']),
    message: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .meta({ id: 'AuditEntry' });

/** One of the caller's own exchange keys. */
export const OwnKey = Key.omit({ userEmail: true, userName: true })
  .extend({
    bots: z.array(z.object({ traderId: z.string(), traderName: z.string() })).meta({ description: 'The bots that trade with this key.' }),
    lastCheckedAt: z.number().nullable().meta({ description: 'The latest check that reached the venue (epoch ms).' }),
  })
  .meta({ id: 'OwnExchangeKey' });

/** The outcome of checking a key against its venue. */
export const KeyCheck = z
  .object({
    keyId: z.string(),
    status: z.enum(['valid', 'invalid', 'unreachable', 'skipped']),
    reason: z.string().nullable().meta({ description: "The venue's reason (invalid), why it could not be reached, or why it was not checked." }),
  })
  .meta({ id: 'KeyCheck' });

/** A key and its check. */
export const CheckedKeyAnswer = z.object({
  ok: z.literal(true),
  message: z.string(),
  result: z.object({ key: Key.omit({ userEmail: true, userName: true }), validation: KeyCheck }),
});

/** A command's answer. */
export const CommandAnswer = z.object({ ok: z.literal(true), message: z.string() }).loose().meta({ id: 'CommandAnswer' });

/** Every error body. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

/** Answers of the list routes. */
export const BotsAnswer = z.object({ bots: z.array(Bot), total: z.number() });
export const UsersAnswer = z.object({ users: z.array(User), total: z.number(), offset: z.number(), limit: z.number() });
export const UserDetailAnswer = z
  .object({
    user: User,
    groups: z.array(z.string()),
    failedAttempts: z.number(),
    exchangeAccounts: z.array(z.object({ traderId: z.string(), traderName: z.string(), venue: z.string(), accountId: z.string() })),
    keys: z.array(Key.omit({ userEmail: true, userName: true })),
    bots: z.array(Bot),
    strategies: z.array(z.object({ ref: z.string(), bots: z.number() })),
    positions: z.array(z.object({ traderId: z.string(), symbol: z.string(), risk: z.enum(['none', 'low', 'medium', 'high']) }).loose()),
    positionErrors: z.array(z.object({ traderId: z.string(), error: z.string() })),
    errors: z.array(z.object({ at: z.number(), type: z.string(), severity: z.string(), message: z.string() }).loose()),
    risk: z.object({ mdd: z.number().nullable(), openViolations: z.array(z.object({ id: z.number() }).loose()), liquidation: z.string(), policies: z.array(z.unknown()) }),
    sessions: z.array(z.object({ createdAt: z.number(), lastSeenAt: z.number(), ip: z.string(), userAgent: z.string() })),
    signIns: z.array(z.object({ email: z.string(), ip: z.string(), at: z.number(), ok: z.boolean(), reason: z.string() }).loose()),
  })
  .meta({ id: 'UserDetail' });
export const KeysAnswer = z.object({ keys: z.array(Key) });
export const OwnKeysAnswer = z.object({ keys: z.array(OwnKey) });
export const CreateBotAnswer = z.object({ ok: z.literal(true), message: z.string(), botId: z.string() });
export const KeyHistoryAnswer = z.object({ events: z.array(KeyEvent) });
export const ViolationsAnswer = z.object({ violations: z.array(Violation) });
export const PoliciesAnswer = z.object({
  platform: Policy,
  users: z.array(Policy.extend({ name: z.string().nullable() })),
  traders: z.array(Policy.extend({ name: z.string().nullable(), userId: z.string().nullable() })),
});
export const SignInsAnswer = z.object({
  since: z.number(),
  now: z.number(),
  failures: z.array(z.object({ email: z.string(), userId: z.string().nullable(), ip: z.string(), at: z.number(), ok: z.boolean(), reason: z.string() })),
  byIp: z.array(z.object({ ip: z.string(), attempts: z.number(), failures: z.number(), lastAt: z.number(), emails: z.array(z.string()) })),
  suspicious: z.array(z.object({ kind: z.enum(['many_failures', 'new_ip']), ip: z.string() }).loose()),
  twoFactor: z.array(AuditEntry),
});
export const AuditAnswer = z.object({ entries: z.array(AuditEntry), nextBeforeId: z.number().nullable() });
export const MeAnswer = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(ROLES),
  groups: z.array(z.string()),
  readOnly: z.boolean(),
  twoFactorEnabled: z.boolean(),
  via: z.enum(['session', 'token']).nullable(),
  require2faRoles: z.array(z.string()),
});
