/**
 * Static assets: htmx and its SSE extension from `node_modules/htmx.org/dist` (the machines
 * are offline: no CDN) and the console's own CSS, JS and icon. A fixed list read once at
 * start-up, so no request path ever reaches the file system.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Hono } from 'hono';

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly gzip: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly etag: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Where the htmx distribution lives on disk. */
export function htmxDistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('htmx.org/package.json')), 'dist');
}

/** URL path → file on disk and content type. */
export function assetFiles(): Record<string, { file: string; type: string }> {
  const htmx = htmxDistDir();
  const own = join(here, 'static');
  return {
    '/static/htmx.js': { file: join(htmx, 'htmx.js'), type: 'text/javascript; charset=utf-8' },
    '/static/ext/hx-sse.js': { file: join(htmx, 'ext', 'hx-sse.js'), type: 'text/javascript; charset=utf-8' },
    '/static/app.js': { file: join(own, 'app.js'), type: 'text/javascript; charset=utf-8' },
    '/static/app.css': { file: join(own, 'app.css'), type: 'text/css; charset=utf-8' },
    '/static/favicon.svg': { file: join(own, 'favicon.svg'), type: 'image/svg+xml' },
  };
}

function load(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [path, { file, type }] of Object.entries(assetFiles())) {
    const body = new Uint8Array(readFileSync(file));
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`;
    assets.set(path, { body, gzip: new Uint8Array(gzipSync(body)), type, etag });
  }
  return assets;
}

/** Routes serving the static assets (ETag revalidation, gzip when accepted). */
export function staticRoutes(): Hono {
  const assets = load();
  const app = new Hono();
  app.on(['GET', 'HEAD'], '/static/*', (c) => {
    const asset = assets.get(c.req.path);
    if (!asset) return c.notFound();
    c.header('Content-Type', asset.type);
    c.header('ETag', asset.etag);
    c.header('Cache-Control', 'no-cache');
    c.header('Vary', 'Accept-Encoding');
    if (c.req.header('If-None-Match') === asset.etag) return c.body(null, 304);
    if (/\bgzip\b/.test(c.req.header('Accept-Encoding') ?? '')) {
      c.header('Content-Encoding', 'gzip');
      return c.body(asset.gzip);
    }
    return c.body(asset.body);
  });
  return app;
}
