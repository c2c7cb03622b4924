/**
 * The in-process event bus. Domain events (facts, past tense) and live changes for the console
 * go through it. A Redis-backed bus with the same interface links several nodes later.
 */
import type { EventRecord } from '../store/types.ts';
import type { LiveChange } from '../api.ts';

/** What travels on the bus. */
export type BusMessage = { readonly kind: 'event'; readonly event: EventRecord } | { readonly kind: 'live'; readonly change: LiveChange };

/** A publish/subscribe bus. */
export interface EventBus {
  publish(msg: BusMessage): void;
  subscribe(listener: (msg: BusMessage) => void): () => void;
  listeners(): number;
}

/** Creates the in-process bus; a throwing listener is reported and never disturbs the others. */
export function createLocalBus(onListenerError?: (err: unknown) => void): EventBus {
  const subs = new Set<(msg: BusMessage) => void>();
  return {
    publish(msg) {
      for (const l of subs) {
        try {
          l(msg);
        } catch (err) {
          onListenerError?.(err);
        }
      }
    },
    subscribe(listener) {
      subs.add(listener);
      return () => subs.delete(listener);
    },
    listeners: () => subs.size,
  };
}
