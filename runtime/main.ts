/**
 * The process entry point: `npm start`. Reads the configuration, starts a runtime node and
 * serves the console. A bad configuration exits with code 2 and a message per variable.
 */
import { serve } from '@hono/node-server';
import { createWebApp } from '../web/index.ts';
import { createScaledClock, systemClock } from './clock.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { startNode } from './node.ts';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const log = createLogger(config.logLevel);
const node = await startNode({
  config,
  log,
  // The market clock never goes back: after a faster-than-real run it continues from the
  // stored simulated time, so the stored candles and the new ones stay one series.
  // A venue's live candles only make sense on the wall clock.
  clock: (resumeFrom) =>
    config.marketFeed !== 'synthetic' || ((resumeFrom ?? 0) <= Date.now() && config.marketTimeScale === 1)
      ? systemClock
      : createScaledClock({ scale: config.marketTimeScale, startAt: Math.max(Date.now(), resumeFrom ?? 0) }),
}).catch((err: unknown) => {
  log.fatal({ err }, 'runtime failed to start');
  process.exit(1);
});

const app = createWebApp({
  api: node.api,
  accounts: node.accounts,
  admin: node.admin,
  log,
  // The console shows the process's uptime on the wall clock (the node's own start is market time,
  // which a faster-than-real market clock resumes ahead of the wall clock).
  startedAt: Math.round(performance.timeOrigin),
  cookieSecure: config.cookieSecure,
  trustProxy: config.trustProxy,
});
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  log.info({ url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${info.port}` }, 'console listening');
});
server.on('error', (err) => {
  log.fatal({ err }, `cannot listen on ${config.host}:${config.port}`);
  process.exit(1);
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  server.close();
  await node.stop().catch((err: unknown) => log.error({ err }, 'stop failed'));
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
