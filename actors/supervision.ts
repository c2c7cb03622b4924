/**
 * The supervision policy as pure functions: when a failed trader is restarted, how long its
 * manager waits first, and when it gives up and escalates to a human.
 */

/** Restart budget and backoff of one manager. */
export interface SupervisionPolicy {
  /** Restarts allowed inside the window; the next failure escalates. */
  readonly maxRestarts: number;
  /** Length of the sliding window, ms. */
  readonly windowMs: number;
  /** Delay before the first restart in a window, ms; doubles with each restart in the window. */
  readonly baseDelayMs: number;
  /** Ceiling of the backoff delay, ms. */
  readonly maxDelayMs: number;
}

/** Five restarts in ten minutes, backing off from one second up to a minute. */
export const DEFAULT_POLICY: SupervisionPolicy = Object.freeze({
  maxRestarts: 5,
  windowMs: 600_000,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
});

/**
 * What to do with a failed trader: restart it after `delayMs` (and keep `log` as the new restart
 * log), or escalate (the trader stays in `error`; `log` is the pruned log, unchanged otherwise).
 */
export type Decision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly log: readonly number[] }
  | { readonly action: 'escalate'; readonly log: readonly number[]; readonly reason: string };

/** The log entries still inside the window that ends at `now` (older ones drop out). */
export function pruneLog(log: readonly number[], now: number, policy: SupervisionPolicy): number[] {
  return log.filter((t) => now - t < policy.windowMs);
}

/** The backoff before the restart that follows `restartsInWindow` earlier ones: base · 2ⁿ, capped. */
export function backoffDelay(restartsInWindow: number, policy: SupervisionPolicy): number {
  // Capping the exponent first keeps 2ⁿ finite for any n.
  const exp = Math.min(Math.max(0, restartsInWindow), 52);
  return Math.min(policy.baseDelayMs * 2 ** exp, policy.maxDelayMs);
}

/**
 * Applies the policy to a failure at `now` given the restart times in `log`.
 *
 * @example decideRestart([], 0, DEFAULT_POLICY) // { action: 'restart', delayMs: 1000, log: [0] }
 */
export function decideRestart(log: readonly number[], now: number, policy: SupervisionPolicy): Decision {
  const recent = pruneLog(log, now, policy);
  if (recent.length >= policy.maxRestarts) {
    return {
      action: 'escalate',
      log: recent,
      reason: `restart limit reached: ${recent.length} restarts within ${policy.windowMs} ms`,
    };
  }
  return { action: 'restart', delayMs: backoffDelay(recent.length, policy), log: [...recent, now] };
}

/**
 * The remaining delay of a restart that was already decided (its time is the log's last entry)
 * when a new process finds the trader still in `error`: the restart keeps its original due time
 * and no entry is added. With no entry inside the window, the first-restart delay applies.
 */
export function pendingRestartDelay(log: readonly number[], now: number, policy: SupervisionPolicy): number {
  const recent = pruneLog(log, now, policy);
  const last = recent.length > 0 ? Math.max(...recent) : undefined;
  if (last === undefined) return policy.baseDelayMs;
  const due = last + backoffDelay(recent.length - 1, policy);
  return Math.max(0, due - now);
}
