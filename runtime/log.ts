/**
 * JSON logs with pino. Secrets are redacted wherever they appear under the usual names.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Field paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'apiKey',
  'secret',
  'password',
  'token',
  'passphrase',
  'adminPassword',
  'secretsKey',
  'authorization',
  '*.apiKey',
  '*.secret',
  '*.password',
  '*.token',
  '*.passphrase',
  '*.adminPassword',
  '*.secretsKey',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
];

/** Creates the process logger. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const opts: pino.LoggerOptions = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } };
  return destination ? pino(opts, destination) : pino(opts);
}
