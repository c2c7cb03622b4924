/**
 * The domain vocabulary shared by every folder: branded ids, states, money strings and
 * the plain-data error shape that crosses boundaries.
 */

/** Nominal typing for ids that are strings at run time. */
export type Brand<T, B extends string> = T & { readonly __brand: B };

/** A trader (one bot): `t-…`. */
export type TraderId = Brand<string, 'TraderId'>;
/** A manager (one trader group): `m-…`. */
export type ManagerId = Brand<string, 'ManagerId'>;
/** A platform user who owns traders. */
export type UserId = Brand<string, 'UserId'>;
/** A strategy version: `name@version`, e.g. `momentum@3`. */
export type StrategyRef = Brand<string, 'StrategyRef'>;
/** One rebalance cycle of one trader: `${traderId}:${candleOpenTimeMs}`. */
export type CycleId = Brand<string, 'CycleId'>;
/** An exchange account key, e.g. `paper:t-0001`. */
export type AccountId = Brand<string, 'AccountId'>;

/** A market symbol as the platform names it: `BTCUSDT`. */
export type MarketSymbol = string;

/**
 * A decimal number carried as a string (quantities, prices, balances). Never parsed into
 * a float for settling arithmetic; see `runtime/exchange/precision.ts`.
 */
export type DecimalString = string;

/** Cast helpers for branded ids (the only place a plain string becomes an id). */
export const Ids = {
  trader: (s: string) => s as TraderId,
  manager: (s: string) => s as ManagerId,
  user: (s: string) => s as UserId,
  strategy: (name: string, version: number) => `${name}@${version}` as StrategyRef,
  cycle: (trader: TraderId, candleTime: number) => `${trader}:${candleTime}` as CycleId,
  account: (s: string) => s as AccountId,
} as const;

/** Splits a strategy ref into name and version; returns null for a malformed ref. */
export function parseStrategyRef(ref: string): { name: string; version: number } | null {
  const m = /^([A-Za-z0-9_.-]+)@(\d+)$/.exec(ref);
  if (!m) return null;
  return { name: m[1]!, version: Number(m[2]) };
}

/** The lifecycle a console shows for a trader. */
export const TraderStatus = {
  starting: 'starting',
  running: 'running',
  paused: 'paused',
  error: 'error',
  stopped: 'stopped',
} as const;
export type TraderStatus = (typeof TraderStatus)[keyof typeof TraderStatus];

/** Who put a pause in force: the bot itself, its group, the whole platform or a risk policy. */
export const PauseScope = { trader: 'trader', manager: 'manager', all: 'all', risk: 'risk' } as const;
export type PauseScope = (typeof PauseScope)[keyof typeof PauseScope];

/** A pause: who, why, at what scope, when. */
export interface PauseInfo {
  readonly by: string;
  readonly reason: string;
  readonly scope: PauseScope;
  readonly at: number;
}

/** An error as plain data (crosses workers, the store and the console). */
export interface ErrorInfo {
  readonly kind: ErrorKind;
  readonly message: string;
  readonly at: number;
  readonly retryable: boolean;
}

/** The error taxonomy, by what the caller must do. */
export const ErrorKind = {
  /** User code at fault: strategy threw, timed out, returned bad output. */
  strategy: 'strategy',
  /** Retry with backoff: timeouts, 5xx, 429. */
  transient: 'transient',
  /** Stop and alert a human: invalid key, insufficient margin, restricted account. */
  operational: 'operational',
  /** A broken invariant inside the platform. */
  internal: 'internal',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** One target weight for one symbol, as a strategy returns it. */
export interface TargetWeight {
  /** In [-1, 1]; negative is short. */
  readonly weight: number;
  readonly stopLoss?: number;
  readonly takeProfit?: number;
}

/** Target weights keyed by symbol. Σ|weight| ≤ 1. */
export type TargetWeights = Readonly<Record<MarketSymbol, TargetWeight>>;

/** Exhaustiveness guard for `switch` statements over unions. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}

/** Turns anything thrown into a message string without losing the useful part. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
