/**
 * Turning whatever an injected effect threw into the plain `ErrorInfo` that crosses the actor
 * boundary, the store and the console.
 */
import type { ErrorInfo, ErrorKind } from '../runtime/domain.ts';

const KINDS: ReadonlySet<string> = new Set<ErrorKind>(['strategy', 'transient', 'operational', 'internal']);

/** Whether a failure of this kind is worth retrying when the thrower does not say. */
const RETRYABLE_BY_DEFAULT: Readonly<Record<ErrorKind, boolean>> = {
  strategy: true,
  transient: true,
  operational: false,
  internal: true,
};

/** Turns a thrown value into a message without losing the useful part. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/**
 * Classifies a thrown value: an error carrying a valid `kind` (and optionally `retryable`) keeps
 * them, so adapters can say "operational" or "transient"; anything else gets `fallback`.
 */
export function toErrorInfo(err: unknown, fallback: ErrorKind, at: number): ErrorInfo {
  const tagged = typeof err === 'object' && err !== null ? (err as { kind?: unknown; retryable?: unknown }) : {};
  const kind = typeof tagged.kind === 'string' && KINDS.has(tagged.kind) ? (tagged.kind as ErrorKind) : fallback;
  const retryable = typeof tagged.retryable === 'boolean' ? tagged.retryable : RETRYABLE_BY_DEFAULT[kind];
  return { kind, message: messageOf(err), at, retryable };
}
