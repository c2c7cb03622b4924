/**
 * Configuration from the environment, validated with zod at start-up. A bad value stops the
 * process with a message naming the variable, what was given and what is expected.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { isRole, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, passwordProblem, ROLES, type Role } from './accounts/index.ts';
import { parseKeyring } from './crypto/index.ts';
import { SYNTHETIC_MARKETS } from './market/markets.ts';

/** Where market data comes from: the seeded synthetic market, or a venue's public candles. */
export const MARKET_FEEDS = ['synthetic', 'binanceusdm', 'bybit', 'okx', 'bitget'] as const;
export type MarketFeedName = (typeof MARKET_FEEDS)[number];

const SYNTHETIC_SYMBOLS = SYNTHETIC_MARKETS.map((m) => m.symbol);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `expected at least ${min}` })
    .max(max, { message: `expected at most ${max}` });

const EnvSchema = z.object({
  PORT: int(1, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// or postgresql:// URL' })
    .optional(),
  DATA_DIR: z.string().min(1).default('data'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, { message: 'expected a redis:// or rediss:// URL' })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STRATEGY_DIR: z.string().min(1).default('strategies'),
  MARKET_TIME_SCALE: z.coerce
    .number({ message: 'expected a number' })
    .min(1, { message: 'expected at least 1 (real time)' })
    .max(3600, { message: 'expected at most 3600 (one simulated hour per second)' })
    .default(1),
  MARKET_SEED: int(0, 2 ** 31 - 1).default(42),
  MARKET_BACKFILL_BARS: int(100, 20_000).default(1500),
  DEMO_FLEET: bool.default(true),
  POOL_THREADS: int(1, 64).default(Math.max(1, cpus().length - 1)),
  STRATEGY_TIMEOUT_MS: int(50, 60_000).default(2000),
  STRATEGY_HEAP_MB: int(16, 4096).default(128),
  HEAP_GROWTH_PERCENT: int(0, 400).default(100),
  MEMORY_BUDGET_MB: int(0, 1_048_576).default(0),
  REBALANCE_THRESHOLD: z.coerce.number({ message: 'expected a number' }).min(0).max(0.5).default(0.01),
  NODE_ID: z.string().min(1).max(64).default('node-1'),
  SECRETS_KEY: z
    .string()
    .refine(
      (v) => {
        try {
          parseKeyring(v);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'expected base64 of 32 random bytes (openssl rand -base64 32), or several separated by commas' },
    )
    .optional(),
  REQUIRE_2FA_ROLES: z
    .string()
    .transform((v, ctx) => {
      if (v.trim().toLowerCase() === 'none') return [];
      const roles = v
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== '');
      const bad = roles.filter((r) => !isRole(r));
      if (bad.length) {
        ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${ROLES.join(', ')} (or none); unknown: ${bad.join(', ')}` });
        return z.NEVER;
      }
      return [...new Set(roles)] as Role[];
    })
    .default(['admin', 'operator']),
  ADMIN_EMAIL: z.email({ message: 'expected an email address' }).max(254).optional(),
  ADMIN_PASSWORD: z
    .string()
    .superRefine((v, ctx) => {
      const problem = passwordProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `expected a password of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters: ${problem}` });
    })
    .optional(),
  SESSION_IDLE_MINUTES: int(1, 24 * 60).default(30),
  SESSION_MAX_HOURS: int(1, 24 * 30).default(12),
  COOKIE_SECURE: bool.default(false),
  TRUST_PROXY: bool.default(false),
  MARKET_FEED: z.enum(MARKET_FEEDS, { message: `expected one of ${MARKET_FEEDS.join(', ')}` }).default('synthetic'),
  MARKET_SYMBOLS: z
    .string()
    .transform((v, ctx) => {
      const list = [...new Set(v.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
      const bad = list.filter((s) => !/^[A-Z0-9]{1,20}USDT$/.test(s));
      if (list.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of USDT perpetual symbols like BTCUSDT${bad.length ? `; not one: ${bad.join(', ')}` : ''}` });
        return z.NEVER;
      }
      return list;
    })
    .default(SYNTHETIC_SYMBOLS),
  EXCHANGE_API_URL: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'expected an http:// or https:// URL' })
    .optional(),
}).superRefine((e, ctx) => {
  if (e.MARKET_FEED === 'synthetic') {
    const unknown = e.MARKET_SYMBOLS.filter((s) => !SYNTHETIC_SYMBOLS.includes(s));
    if (unknown.length > 0)
      ctx.addIssue({ code: 'custom', path: ['MARKET_SYMBOLS'], message: `the synthetic market has only ${SYNTHETIC_SYMBOLS.join(', ')}; unknown: ${unknown.join(', ')}` });
  } else if (e.MARKET_TIME_SCALE !== 1) {
    ctx.addIssue({ code: 'custom', path: ['MARKET_TIME_SCALE'], message: `expected 1 with MARKET_FEED=${e.MARKET_FEED}: a venue's candles come in real time` });
  }
});

/** The validated configuration of one runtime process. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Unset: embedded PGlite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly redisUrl: string | undefined;
  readonly logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  readonly strategyDir: string;
  /** Simulated minutes per real minute for the synthetic market (1 = real time). */
  readonly marketTimeScale: number;
  readonly marketSeed: number;
  readonly marketBackfillBars: number;
  /** Create the demo fleet when the database has no traders. */
  readonly demoFleet: boolean;
  readonly poolThreads: number;
  readonly strategyTimeoutMs: number;
  readonly strategyHeapMb: number;
  /**
   * How far V8 lets the heap grow past what the last full GC kept (percent); 0 keeps V8's own
   * factor (up to 4×, which let a 10,000-trader node's heap reach 3× its live size between waves).
   */
  readonly heapGrowthPercent: number;
  /** Resident memory the node aims to stay within (MiB); 0: a fixed `heapGrowthPercent`. */
  readonly memoryBudgetMb: number;
  readonly rebalanceThreshold: number;
  readonly nodeId: string;
  /** `SECRETS_KEY`: base64 keys sealing secrets at rest (first seals); unset: a generated dev key file. */
  readonly secretsKey: string | undefined;
  /** Roles that must enrol two-factor authentication before using the console. */
  readonly require2faRoles: readonly Role[];
  /** The first-run admin's email and password (generated and printed once when unset). */
  readonly adminEmail: string | undefined;
  readonly adminPassword: string | undefined;
  readonly sessionIdleMs: number;
  readonly sessionAbsoluteMs: number;
  /** Mark the session cookie `Secure` (serve over HTTPS). */
  readonly cookieSecure: boolean;
  /** Take the client address from `X-Forwarded-For` (behind a trusted reverse proxy). */
  readonly trustProxy: boolean;
  /** `MARKET_FEED`: the synthetic market or a venue's public candles (dry run with paper traders). */
  readonly marketFeed: MarketFeedName;
  /** `MARKET_SYMBOLS`: the symbols the feed collects and strategies may trade. */
  readonly marketSymbols: readonly string[];
  /** `EXCHANGE_API_URL`: replaces every venue's API host (path kept); tests and proxies. */
  readonly exchangeApiUrl: string | undefined;
}

/** A configuration error listing every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Variables whose values never appear in an error message. */
const SECRET_VARIABLES = new Set(['SECRETS_KEY', 'ADMIN_PASSWORD']);

/** Reads and validates the configuration from an environment map (defaults to `process.env`). */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? '?');
        const given = SECRET_VARIABLES.has(key) ? '"[redacted]"' : JSON.stringify(picked[key] ?? '');
        return `${key}=${given}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(cwd, e.DATA_DIR),
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL,
    strategyDir: path.resolve(cwd, e.STRATEGY_DIR),
    marketTimeScale: e.MARKET_TIME_SCALE,
    marketSeed: e.MARKET_SEED,
    marketBackfillBars: e.MARKET_BACKFILL_BARS,
    demoFleet: e.DEMO_FLEET,
    poolThreads: e.POOL_THREADS,
    strategyTimeoutMs: e.STRATEGY_TIMEOUT_MS,
    strategyHeapMb: e.STRATEGY_HEAP_MB,
    heapGrowthPercent: e.HEAP_GROWTH_PERCENT,
    memoryBudgetMb: e.MEMORY_BUDGET_MB,
    rebalanceThreshold: e.REBALANCE_THRESHOLD,
    nodeId: e.NODE_ID,
    secretsKey: e.SECRETS_KEY,
    require2faRoles: e.REQUIRE_2FA_ROLES,
    adminEmail: e.ADMIN_EMAIL,
    adminPassword: e.ADMIN_PASSWORD,
    sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: e.SESSION_MAX_HOURS * 3_600_000,
    cookieSecure: e.COOKIE_SECURE,
    trustProxy: e.TRUST_PROXY,
    marketFeed: e.MARKET_FEED,
    marketSymbols: e.MARKET_SYMBOLS,
    exchangeApiUrl: e.EXCHANGE_API_URL,
  };
}
