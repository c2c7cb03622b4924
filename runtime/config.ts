/**
 * Configuration from the environment, validated with zod at start-up. A bad value stops the
 * process with a message naming the variable, what was given and what is expected.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

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
  REBALANCE_THRESHOLD: z.coerce.number({ message: 'expected a number' }).min(0).max(0.5).default(0.01),
  NODE_ID: z.string().min(1).max(64).default('node-1'),
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
  readonly rebalanceThreshold: number;
  readonly nodeId: string;
}

/** A configuration error listing every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

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
        return `${key}=${JSON.stringify(picked[key] ?? '')}: ${i.message}`;
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
    rebalanceThreshold: e.REBALANCE_THRESHOLD,
    nodeId: e.NODE_ID,
  };
}
