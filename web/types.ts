/**
 * What the console needs from its host: the platform's command and query layer, a logger,
 * a clock and the live-stream tuning.
 */
import type { Accounts, AccountRecord, Principal, SessionRecord } from '../runtime/accounts/index.ts';
import type { AdminApi } from '../runtime/admin.ts';
import type { PlatformApi } from '../runtime/api.ts';
import type { Access, RouteRule } from './access.ts';

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
  /** Sign-in, sessions, 2FA and the audit log. */
  readonly accounts: Accounts;
  /**
   * Users, security and risk administration (`createAdminApi`). The runtime always passes it;
   * without it the Users, Security and Risk pages and their API answer 503.
   */
  readonly admin?: AdminApi;
  /** Mark the session cookie `Secure` (HTTPS deployments). */
  readonly cookieSecure?: boolean;
  /** Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy). */
  readonly trustProxy?: boolean;
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
  readonly accounts: Accounts;
  readonly admin: AdminApi | null;
  readonly cookieSecure: boolean;
  readonly trustProxy: boolean;
  readonly log: WebLogger;
  readonly startedAt: number;
  readonly now: () => number;
  readonly live: Required<LiveOptions>;
}

/** Who a request comes from, as the auth middleware found it. */
export interface RequestAuth {
  /** A session cookie or an API bearer token. */
  readonly via: 'session' | 'token';
  /** The session (cookie requests only). */
  readonly session: SessionRecord | null;
  readonly user: AccountRecord;
  readonly principal: Principal;
  /** Password checked, second factor not yet. */
  readonly pending: boolean;
  /** The role requires 2FA and the account has none yet. */
  readonly mustEnrol2fa: boolean;
}

/** The Hono environment of the console: what middleware leaves for handlers. */
export interface AppEnv {
  Variables: {
    /** The request's authentication, or null when anonymous. */
    auth: RequestAuth | null;
    /** The signed-in principal (set on every route that requires one). */
    principal: Principal | null;
    /** What the views may offer. */
    access: Access;
    /** The client's address. */
    clientIp: string;
    /** The route-table rule that matched. */
    route: RouteRule | null;
  };
}
