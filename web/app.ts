/**
 * The operator console as a Hono app: security middleware, one route module per area, the
 * live stream and static assets. The runtime serves it with `@hono/node-server`.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { errorMessage } from '../runtime/domain.ts';
import { createRouteMatcher, isApiPath, ROUTES } from './access.ts';
import { apiFail, apiRoutes } from './api/index.ts';
import { authenticate, guard } from './auth.ts';
import { sendError, type Status } from './respond.tsx';
import { accountRoutes } from './routes/account.tsx';
import { authRoutes } from './routes/auth.tsx';
import { botsRoutes } from './routes/bots.tsx';
import { eventsRoutes } from './routes/events.tsx';
import { exchangeKeysRoutes } from './routes/exchange-keys.tsx';
import { healthRoutes } from './routes/health.tsx';
import { managersRoutes } from './routes/managers.tsx';
import { meRoutes } from './routes/me.tsx';
import { newBotRoutes } from './routes/new-bot.tsx';
import { platformRoutes } from './routes/platform.tsx';
import { riskRoutes } from './routes/risk.tsx';
import { securityRoutes } from './routes/security.tsx';
import { sessionsRoutes } from './routes/sessions.tsx';
import { strategiesRoutes } from './routes/strategies.tsx';
import { usersRoutes } from './routes/users.tsx';
import { liveRoutes } from './sse.tsx';
import { staticRoutes } from './static.ts';
import type { AppEnv, ResolvedDeps, WebDeps, WebLogger } from './types.ts';
import type { Context } from 'hono';

const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;
const JSON_TYPE = /^application\/json\b/i;

/** Largest request body accepted (the strategy params textarea allows 100,000 characters). */
export const MAX_BODY_BYTES = 256 * 1024;

const silentLogger: WebLogger = { debug() {}, info() {}, warn() {}, error() {} };

const API_CODES: Partial<Record<Status, string>> = {
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  500: 'internal',
};

/** An error as a console page, or as the API's JSON error on `/api` paths. */
function fail(c: Context, deps: ResolvedDeps, status: 403 | 404 | 413 | 415 | 500, message: string): Response | Promise<Response> {
  return isApiPath(c.req.path) ? apiFail(c, status, API_CODES[status] ?? 'error', message) : sendError(c, deps, status, message);
}

/** Fills in the defaults of optional dependencies. */
export function resolveDeps(deps: WebDeps): ResolvedDeps {
  return {
    api: deps.api,
    accounts: deps.accounts,
    admin: deps.admin ?? null,
    cookieSecure: deps.cookieSecure ?? false,
    trustProxy: deps.trustProxy ?? false,
    log: deps.log ?? silentLogger,
    startedAt: deps.startedAt,
    now: deps.now ?? Date.now,
    live: {
      coalesceMs: deps.live?.coalesceMs ?? 250,
      heartbeatMs: deps.live?.heartbeatMs ?? 15_000,
      maxRowsPerMessage: deps.live?.maxRowsPerMessage ?? 50,
    },
  };
}

/**
 * Builds the console app.
 * @example serve({ fetch: createWebApp({ api, log, startedAt: Date.now() }).fetch, port: 8080 })
 */
export function createWebApp(webDeps: WebDeps): Hono<AppEnv> {
  const deps = resolveDeps(webDeps);
  const app = new Hono<AppEnv>();

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      // `no-referrer` (the default) would make browsers send `Origin: null` on same-origin posts.
      referrerPolicy: 'same-origin',
      // Plain-HTTP deployments are common on an internal network; HSTS belongs to the TLS proxy.
      strictTransportSecurity: false,
    }),
  );
  // Public assets come before sign-in (no session lookup for them).
  app.route('/', staticRoutes());
  // Form posts (urlencoded, multipart, text) must come from this origin. An API request with a
  // bearer token is exempt: a browser cannot attach that header to a cross-site request, and
  // such a request never uses the session cookie (web/auth.ts).
  const sameOrigin = csrf();
  app.use((c, next) => (isApiPath(c.req.path) && /^Bearer\s/i.test(c.req.header('authorization') ?? '') ? next() : sameOrigin(c, next)));
  // hono/csrf does not look at other bodies: the console takes form posts only, the API JSON too
  // (its state-changing requests need the session's X-CSRF-Token header or a bearer token).
  app.use(async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const type = c.req.header('content-type') ?? '';
    const api = isApiPath(c.req.path);
    if (FORM_TYPES.test(type) || (api && JSON_TYPE.test(type))) return next();
    // An API command without a body (no reason given) needs no content type.
    if (api && !type && (c.req.header('content-length') ?? '0') === '0' && !c.req.header('transfer-encoding')) return next();
    return fail(c, deps, 415, api ? 'The API accepts JSON bodies (Content-Type: application/json).' : 'The console accepts form posts only (urlencoded or multipart).');
  });
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => fail(c, deps, 413, `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`),
    }),
  );
  // Who is asking (session cookie, or a bearer token on /api), then what they may do.
  app.use(authenticate(deps));
  app.use(guard(deps, createRouteMatcher(ROUTES)));

  app.route('/', authRoutes(deps));
  app.route('/', accountRoutes(deps));
  app.route('/', exchangeKeysRoutes(deps));
  app.route('/', sessionsRoutes(deps));
  app.route('/', meRoutes(deps));
  app.get('/', (c) => c.redirect('/bots', 302));
  // Before the bots routes: `/bots/:id` would take `/bots/new`.
  app.route('/', newBotRoutes(deps));
  app.route('/', botsRoutes(deps));
  app.route('/', managersRoutes(deps));
  app.route('/', platformRoutes(deps));
  app.route('/', strategiesRoutes(deps));
  app.route('/', eventsRoutes(deps));
  app.route('/', healthRoutes(deps));
  app.route('/', usersRoutes(deps));
  app.route('/', securityRoutes(deps));
  app.route('/', riskRoutes(deps));
  app.route('/', liveRoutes(deps));
  app.route('/api/v1', apiRoutes(deps));

  app.notFound((c) => fail(c, deps, 404, isApiPath(c.req.path) ? `There is no API route ${c.req.method} ${c.req.path}.` : `There is no page at ${c.req.path}.`));

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status === 403) {
        deps.log.warn({ path: c.req.path, origin: c.req.header('origin') ?? null }, 'cross-origin form post refused');
        return fail(c, deps, 403, 'Cross-site form submissions are refused (CSRF protection). Reload the console and try again.');
      }
      return err.getResponse();
    }
    deps.log.error({ err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined, path: c.req.path }, 'console request failed');
    return fail(c, deps, 500, 'The console hit an internal error; it has been logged.');
  });

  return app;
}
