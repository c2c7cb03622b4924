/**
 * The operator console as a Hono app: security middleware, one route module per area, the
 * live stream and static assets. The runtime serves it with `@hono/node-server`.
 */
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { errorMessage } from '../runtime/domain.ts';
import { sendError } from './respond.tsx';
import { botsRoutes } from './routes/bots.tsx';
import { eventsRoutes } from './routes/events.tsx';
import { healthRoutes } from './routes/health.tsx';
import { managersRoutes } from './routes/managers.tsx';
import { platformRoutes } from './routes/platform.tsx';
import { strategiesRoutes } from './routes/strategies.tsx';
import { liveRoutes } from './sse.tsx';
import { staticRoutes } from './static.ts';
import type { ResolvedDeps, WebDeps, WebLogger } from './types.ts';

const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

const silentLogger: WebLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Fills in the defaults of optional dependencies. */
export function resolveDeps(deps: WebDeps): ResolvedDeps {
  return {
    api: deps.api,
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
export function createWebApp(webDeps: WebDeps): Hono {
  const deps = resolveDeps(webDeps);
  const app = new Hono();

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
  // Form posts (urlencoded, multipart, text) must come from this origin.
  app.use(csrf());
  // hono/csrf does not look at other bodies (JSON): the console accepts form posts only.
  app.use(async (c, next) => {
    if (c.req.method !== 'POST' || FORM_TYPES.test(c.req.header('content-type') ?? '')) return next();
    return sendError(c, deps, 415, 'The console accepts form posts only (urlencoded or multipart).');
  });

  app.route('/', staticRoutes());
  app.get('/', (c) => c.redirect('/bots', 302));
  app.route('/', botsRoutes(deps));
  app.route('/', managersRoutes(deps));
  app.route('/', platformRoutes(deps));
  app.route('/', strategiesRoutes(deps));
  app.route('/', eventsRoutes(deps));
  app.route('/', healthRoutes(deps));
  app.route('/', liveRoutes(deps));

  app.notFound((c) => sendError(c, deps, 404, `There is no page at ${c.req.path}.`));

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status === 403) {
        deps.log.warn({ path: c.req.path, origin: c.req.header('origin') ?? null }, 'cross-origin form post refused');
        return sendError(c, deps, 403, 'Cross-site form submissions are refused (CSRF protection). Reload the console and try again.');
      }
      return err.getResponse();
    }
    deps.log.error({ err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined, path: c.req.path }, 'console request failed');
    return sendError(c, deps, 500, 'The console hit an internal error; it has been logged.');
  });

  return app;
}
