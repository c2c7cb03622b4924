/**
 * Subscribing to actors without risking the process. XState rethrows on a timer (and Node exits)
 * when an actor fails and one of its observers has no error callback, or when an observer throws.
 */
import type { Subscription } from 'xstate';

/** The minimal shape of an actor reference that can be observed. */
export interface Observable<TSnapshot> {
  subscribe(observer: { next?: (snapshot: TSnapshot) => void; error?: (err: unknown) => void }): Subscription;
}

/**
 * Subscribes with an error callback always present and with `onSnapshot` failures caught and
 * passed to `onError`, so neither an actor failure nor a faulty observer can crash the process.
 */
export function observeSafely<TSnapshot>(
  actor: Observable<TSnapshot>,
  onSnapshot: (snapshot: TSnapshot) => void,
  onError: (err: unknown) => void,
): Subscription {
  const report = (err: unknown) => {
    try {
      onError(err);
    } catch {
      // The error reporter itself failed; swallowing is the only choice that keeps the process up.
    }
  };
  return actor.subscribe({
    next: (snapshot) => {
      try {
        onSnapshot(snapshot);
      } catch (err) {
        report(err);
      }
    },
    error: report,
  });
}
