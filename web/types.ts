/**
 * What the console needs from its host: the platform's command and query layer, a logger,
 * a clock and the live-stream tuning.
 */
import type { PlatformApi } from '../runtime/api.ts';

/** The subset of a pino logger the console uses (a pino `Logger` satisfies it). */
export interface WebLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Tuning of the `/events` stream; the defaults suit production. */
export interface LiveOptions {
  /** Changes arriving within this window go out as one message (default 250 ms). */
  readonly coalesceMs?: number;
  /** Interval of the keep-alive comment (default 15 s). */
  readonly heartbeatMs?: number;
  /** Above this many changed rows in one message, the whole visible table is re-sent instead (default 50). */
  readonly maxRowsPerMessage?: number;
}

/** Dependencies of `createWebApp`. */
export interface WebDeps {
  readonly api: PlatformApi;
  readonly log?: WebLogger;
  /** When the process started (epoch ms), shown as the console's uptime. */
  readonly startedAt: number;
  /** The clock for rendering relative times; defaults to `Date.now`. */
  readonly now?: () => number;
  readonly live?: LiveOptions;
}

/** Dependencies after defaults are filled in, as route modules receive them. */
export interface ResolvedDeps {
  readonly api: PlatformApi;
  readonly log: WebLogger;
  readonly startedAt: number;
  readonly now: () => number;
  readonly live: Required<LiveOptions>;
}
