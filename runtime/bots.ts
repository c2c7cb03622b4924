/**
 * Creating a bot: the input is checked against everything it names (owner, group, strategy
 * version and its params, the exchange key of a live bot), then the record is stored and the
 * trader started under its manager. The I/O is injected: the node passes its store, registry,
 * key store and actor tree.
 */
import { z } from 'zod';
import type { Actor, CreateBotResult, NewBotInput } from './api.ts';
import type { Clock } from './clock.ts';
import { errorMessage, Ids, type PauseInfo } from './domain.ts';
import { dec } from './exchange/index.ts';
import type { ExchangeKeyInfo } from './keys/index.ts';
import { isLiveVenue, LIVE_VENUES } from './live.ts';
import type { ManagerRecord, TraderRecord } from './store/types.ts';

/** What creating a bot reads and writes. */
export interface CreateBotDeps {
  readonly clock: Clock;
  /** The owner's account (null when unknown). */
  user(id: string): Promise<{ readonly id: string; readonly status: 'active' | 'suspended' } | null>;
  managers(): readonly ManagerRecord[];
  /** Every bot record the node holds. */
  traders(): Iterable<TraderRecord>;
  /** The version's defaults, or null when it is not registered. */
  version(name: string, version: number): { readonly defaults: Readonly<Record<string, unknown>> } | null;
  key(id: string): Promise<ExchangeKeyInfo | null>;
  /** Runs the version once with the params (the strategy's own checks refuse bad params). */
  dryRun(ref: { readonly name: string; readonly version: number }, params: Record<string, unknown>, equity: number): Promise<{ ok: true } | { ok: false; error: string }>;
  /** A new trader id. */
  newId(): string;
  save(record: TraderRecord): Promise<void>;
  /** Starts the stored trader under its manager, paused with `pause` when given. */
  start(record: TraderRecord, pause: PauseInfo | null): Promise<void>;
}

/** The largest capital a bot may be given (USDT): a typo guard, not a business rule. */
const MAX_CAPITAL = 1_000_000_000;

const NewBot = z.strictObject({
  name: z
    .string({ error: 'name must be text' })
    .trim()
    .min(1, { error: 'name is required' })
    .max(60, { error: 'name must be at most 60 characters' })
    .regex(/^[^\p{Cc}]*$/u, { error: 'name must not contain control characters' }),
  userId: z.string({ error: 'owner must be given' }).trim().min(1, { error: 'owner is required' }).max(100),
  managerId: z.string({ error: 'group must be given' }).trim().min(1, { error: 'group is required' }).max(100),
  strategy: z.strictObject({
    name: z.string({ error: 'strategy name must be text' }).regex(/^[A-Za-z0-9_.-]{1,100}$/, { error: 'strategy name is malformed' }),
    version: z.number({ error: 'strategy version must be a number' }).int({ error: 'strategy version must be a whole number' }).min(1).max(1_000_000),
  }),
  params: z.record(z.string(), z.unknown()).nullable(),
  venue: z.enum(['paper', ...LIVE_VENUES], { error: `venue must be one of paper, ${LIVE_VENUES.join(', ')}` }),
  keyId: z.string().trim().min(1).max(100).nullable(),
  initialCapital: z
    .string({ error: 'initial capital must be a decimal number' })
    .trim()
    .regex(/^\d{1,10}(\.\d{1,8})?$/, { error: 'initial capital must be a positive decimal number of USDT (up to 8 decimals)' })
    .refine((s) => Number(s) > 0 && Number(s) <= MAX_CAPITAL, { error: `initial capital must be more than 0 and at most ${MAX_CAPITAL.toLocaleString('en-US')} USDT` }),
  leverage: z.number({ error: 'leverage must be a number' }).int({ error: 'leverage must be a whole number' }).min(1, { error: 'leverage must be at least 1' }).max(125, { error: 'leverage must be at most 125' }),
  startPaused: z.boolean().optional(),
});

const refuse = (code: 'invalid' | 'not_found' | 'conflict', error: string): CreateBotResult => ({ ok: false, code, error });

/** Why a key cannot carry a new bot of `userId` on `venue`, or null. */
export function keyProblem(key: ExchangeKeyInfo | null, keyId: string, userId: string, venue: string): string | null {
  if (!key) return `no exchange key with id ${keyId}`;
  if (key.userId !== userId) return `exchange key ${keyId} belongs to another user`;
  if (key.exchange !== venue) return `exchange key ${keyId} is a ${key.exchange} key, not ${venue}`;
  if (key.status === 'revoked' || key.status === 'disabled' || key.status === 'invalid')
    return `exchange key ${keyId} is ${key.status}${key.statusReason ? ` (${key.statusReason})` : ''}`;
  return null;
}

/**
 * Creates bots with the node's services.
 * @example const createBot = createBotCommand(deps); await createBot({ name: 'BTC trend', … }, { by: 'ada' })
 */
export function createBotCommand(deps: CreateBotDeps): (input: NewBotInput, who: Actor) => Promise<CreateBotResult> {
  return async (raw, who) => {
    const parsed = NewBot.safeParse(raw);
    if (!parsed.success) {
      return refuse('invalid', parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
    }
    const input = parsed.data;
    const by = who.by.trim();
    if (!by) return refuse('invalid', 'who is asking must be given');

    const user = await deps.user(input.userId);
    if (!user) return refuse('not_found', `no user with id ${input.userId}`);
    if (user.status === 'suspended') return refuse('conflict', `user ${input.userId} is suspended: a suspended user gets no new bot`);
    const manager = deps.managers().find((m) => m.id === input.managerId);
    if (!manager) return refuse('not_found', `no group with id ${input.managerId}`);
    for (const t of deps.traders()) {
      if (t.userId === input.userId && t.name.toLowerCase() === input.name.toLowerCase())
        return refuse('conflict', `the user already has a bot named "${t.name}" (${t.id})`);
    }
    const version = deps.version(input.strategy.name, input.strategy.version);
    if (!version) return refuse('not_found', `strategy ${input.strategy.name}@${input.strategy.version} is not registered`);

    const id = deps.newId();
    let accountId: string;
    if (input.venue === 'paper') {
      if (input.keyId !== null) return refuse('invalid', 'a paper bot takes no exchange key');
      accountId = `paper:${id}`;
    } else {
      if (!isLiveVenue(input.venue) || input.keyId === null) return refuse('invalid', `a ${input.venue} bot needs one of the owner's ${input.venue} exchange keys`);
      // Positions live on the account, not the bot: two bots on one account would trade against each other.
      for (const t of deps.traders()) {
        if (t.venue !== 'paper' && t.accountId === input.keyId)
          return refuse('conflict', `exchange key ${input.keyId} already trades for ${t.name} (${t.id}): one bot per exchange account (use a sub-account key)`);
      }
      const problem = keyProblem(await deps.key(input.keyId), input.keyId, input.userId, input.venue);
      if (problem) return refuse(problem.startsWith('no exchange key') ? 'not_found' : 'conflict', problem);
      accountId = input.keyId;
    }

    const params = { ...version.defaults, ...(input.params ?? {}) };
    let check: { ok: true } | { ok: false; error: string };
    try {
      check = await deps.dryRun(input.strategy, params, Number(input.initialCapital));
    } catch (err) {
      check = { ok: false, error: errorMessage(err) };
    }
    if (!check.ok) return refuse('invalid', `${input.strategy.name}@${input.strategy.version} refused these params: ${check.error}`);

    const now = deps.clock.now();
    const record: TraderRecord = {
      id: Ids.trader(id),
      managerId: Ids.manager(input.managerId),
      userId: Ids.user(input.userId),
      name: input.name,
      strategyName: input.strategy.name,
      strategyVersion: input.strategy.version,
      params,
      venue: input.venue,
      accountId,
      initialCapital: dec(input.initialCapital).toFixed(),
      leverage: input.leverage,
      riskLimits: {},
      createdAt: now,
      updatedAt: now,
    };
    await deps.save(record);
    const pause: PauseInfo | null = input.startPaused ? { by, reason: who.reason?.trim() || 'created paused', scope: 'trader', at: now } : null;
    await deps.start(record, pause);
    const where = input.venue === 'paper' ? `paper, ${record.initialCapital} USDT` : `${input.venue} key ${accountId}`;
    return {
      ok: true,
      botId: record.id,
      message: `${record.name} created in ${manager.name} (${input.strategy.name}@${input.strategy.version}, ${where}, ${input.leverage}×)${pause ? ', paused' : ''}`,
    };
  };
}
