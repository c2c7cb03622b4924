/**
 * Pauses as a set (pure). Several pauses can hold at once, at most one per scope (a bot paused by
 * its operator, then by its desk, then by Pause All); the bot runs again only when none is left.
 * A resume at scope `trader` (an operator's per-bot resume, also used by a risk release) lifts
 * every pause; a resume at any other scope lifts only the pause of that scope.
 */
import type { PauseInfo, PauseScope } from '../runtime/domain.ts';

/** The pauses in force, one per scope. */
export type PauseSet = Readonly<Partial<Record<PauseScope, PauseInfo>>>;

/** The empty pause set. */
export const NO_PAUSES: PauseSet = Object.freeze({});

// Which pause to show (and persist as `pause`) when several hold: the one hardest to release.
const BY_RANK: readonly PauseScope[] = ['trader', 'risk', 'manager', 'all'];

/** The set with `info` in force (replacing an earlier pause of the same scope). */
export function addPause(set: PauseSet, info: PauseInfo): PauseSet {
  return { ...set, [info.scope]: info };
}

/** The set after a resume at `scope`. */
export function releasePauses(set: PauseSet, scope: PauseScope): PauseSet {
  if (scope === 'trader') return NO_PAUSES;
  if (set[scope] === undefined) return set;
  // Rebuilt rather than `delete`d: this runs for every trader on a group resume.
  const next: Partial<Record<PauseScope, PauseInfo>> = {};
  for (const s of BY_RANK) {
    const info = set[s];
    if (s !== scope && info !== undefined) next[s] = info;
  }
  return next;
}

/** The pause to show for a set: the one hardest to release, or null when none holds. */
export function effectivePause(set: PauseSet): PauseInfo | null {
  return set.trader ?? set.risk ?? set.manager ?? set.all ?? null;
}

/** Builds a set from stored data: the `pauses` if given, else the single `pause`. */
export function pauseSetOf(pause: PauseInfo | null | undefined, pauses?: PauseSet | null): PauseSet {
  if (pauses !== undefined && pauses !== null) return pauses;
  return pause ? { [pause.scope]: pause } : NO_PAUSES;
}

/** The union of two sets; on a shared scope, `b` wins. */
export function unionPauses(a: PauseSet, b: PauseSet): PauseSet {
  return { ...a, ...b };
}
