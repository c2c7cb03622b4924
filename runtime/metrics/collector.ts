/**
 * The per-minute metrics collector: reads every trader's equity, folds it into the trader's,
 * its manager's, its user's (when known) and the platform's accumulators, and writes one row per
 * scope in one insert.
 */
import { errorMessage, type DecimalString } from '../domain.ts';
import { dec, Dec } from '../exchange/precision.ts';
import type { MetricRecord, MetricsRepo } from '../store/types.ts';
import { processTurns } from '../turns.ts';
import { emptyAccumulator, snapshotMetrics, updateAccumulator, type MetricsAccumulator } from './stats.ts';

/** The scope id of the platform-wide row. */
export const PLATFORM_SCOPE_ID = 'platform';

/** What a trader reports when read. */
export interface TraderReading {
  readonly equity: DecimalString;
  readonly unrealizedPnl: DecimalString;
}

/** One trader to measure: its manager, its owner, its initial capital and how to read its equity. */
export interface MeasuredTrader {
  readonly traderId: string;
  readonly managerId: string;
  /** The owning user: when given, the trader also counts in that user's `user` row. */
  readonly userId?: string;
  readonly initialCapital: DecimalString;
  read(): Promise<TraderReading> | TraderReading;
}

/** What the collector needs (all injected). */
export interface MetricsCollectorDeps {
  readonly clock: { now(): number };
  readonly repo: MetricsRepo;
  /** The traders to measure now. */
  traders(): readonly MeasuredTrader[];
  /** Told about each trader whose read failed (it is skipped for this sample). */
  readonly onReadError?: (traderId: string, error: unknown) => void;
  /** Traders handled between two yields to the event loop; default {@link COLLECT_SLICE}. */
  readonly sliceSize?: number;
  /** Waits for a turn of the event loop with budget left; default the process's turns, background lane. */
  readonly yieldToLoop?: () => Promise<void>;
}

/** Traders a `collect()` reads or folds between two waits for budget (~1 ms of work on a 2-core VM). */
export const COLLECT_SLICE = 50;

const nextTurn = (): Promise<void> => processTurns.next('background');

/** The outcome of the last `collect()`. */
export interface CollectReport {
  readonly at: number;
  readonly written: number;
  readonly failed: readonly { readonly traderId: string; readonly error: string }[];
}

/** The per-minute collector. */
export interface MetricsCollector {
  /**
   * Computes and stores one sample for every trader, each manager and each user (sums of their
   * traders) and the platform; returns the rows written.
   */
  collect(): Promise<readonly MetricRecord[]>;
  /** The latest row computed in this process for a scope and id, or null. */
  latest(scope: MetricRecord['scope'], id: string): MetricRecord | null;
  /** Every accumulator keyed `scope:id` (plain JSON, for persistence or inspection). */
  accumulators(): Record<string, MetricsAccumulator>;
  /** What the last collect read, wrote and failed to read, or null before the first. */
  lastReport(): CollectReport | null;
}

interface Holding {
  readonly pv: Dec;
  readonly upnl: Dec;
  readonly initial: Dec;
}

type Reading = { readonly t: MeasuredTrader; readonly holding: Holding } | { readonly t: MeasuredTrader; readonly error: unknown };

/**
 * Creates the collector. A trader whose read fails is skipped (and counted); its last known
 * value stands in for it in its manager's and the platform's sums so a failed read is not a
 * drawdown. A trader joining or leaving a group is a capital flow, not a return. A failed
 * insert rejects `collect()`; the in-memory figures keep the sample.
 */
export function createMetricsCollector(deps: MetricsCollectorDeps): MetricsCollector {
  const slice = Math.max(1, Math.floor(deps.sliceSize ?? COLLECT_SLICE));
  const yieldToLoop = deps.yieldToLoop ?? nextTurn;
  const accs = new Map<string, MetricsAccumulator>();
  const latestRows = new Map<string, MetricRecord>();
  /** Last successful reading per trader currently listed. */
  const known = new Map<string, Holding>();
  /** Members' PV per aggregate scope at its last update (for flows). */
  const members = new Map<string, ReadonlyMap<string, Dec>>();
  let lastAt: number | null = null;
  let report: CollectReport | null = null;
  let running: Promise<readonly MetricRecord[]> | null = null;

  const keyOf = (scope: MetricRecord['scope'], id: string) => `${scope}:${id}`;

  function record(scope: MetricRecord['scope'], id: string, initial: Dec, pv: Dec, upnl: Dec, at: number, flow: Dec): MetricRecord {
    const key = keyOf(scope, id);
    const initialCapital = initial.toFixed();
    const prev = accs.get(key);
    const start = prev === undefined ? emptyAccumulator(initialCapital) : prev.initialCapital === initialCapital ? prev : { ...prev, initialCapital };
    const acc = updateAccumulator(start, pv.toFixed(), at, flow.isZero() ? '0' : flow.toFixed());
    accs.set(key, acc);
    const row: MetricRecord = { scope, scopeId: id, at, ...snapshotMetrics(acc, upnl.toFixed()) };
    latestRows.set(key, row);
    return row;
  }

  /** Sums a group's holdings, waiting for budget every `slice` members (the platform's group is every trader). */
  async function aggregate(scope: 'manager' | 'user' | 'platform', id: string, group: ReadonlyMap<string, Holding>, at: number): Promise<MetricRecord> {
    const key = keyOf(scope, id);
    const before = members.get(key) ?? new Map<string, Dec>();
    let pv = new Dec(0);
    let upnl = new Dec(0);
    let initial = new Dec(0);
    let flow = new Dec(0);
    const now = new Map<string, Dec>();
    let n = 0;
    for (const [traderId, h] of group) {
      if (++n % slice === 0) await yieldToLoop();
      pv = pv.plus(h.pv);
      upnl = upnl.plus(h.upnl);
      initial = initial.plus(h.initial);
      now.set(traderId, h.pv);
      if (!before.has(traderId)) flow = flow.plus(h.pv);
    }
    for (const [traderId, prev] of before) if (!now.has(traderId)) flow = flow.minus(prev);
    members.set(key, now);
    return record(scope, id, initial, pv, upnl, at, flow);
  }

  async function run(): Promise<readonly MetricRecord[]> {
    const at = deps.clock.now();
    // A second sample at the same time would collide on (scope, id, at).
    if (lastAt !== null && at <= lastAt) return [];
    lastAt = at;

    const listed = new Map<string, MeasuredTrader>();
    for (const t of deps.traders()) if (!listed.has(t.traderId)) listed.set(t.traderId, t);
    for (const id of [...known.keys()]) if (!listed.has(id)) known.delete(id);

    const read = async (t: MeasuredTrader): Promise<Reading> => {
      try {
        const r = await t.read();
        return { t, holding: { pv: dec(r.equity), upnl: dec(r.unrealizedPnl), initial: dec(t.initialCapital) } };
      } catch (err) {
        return { t, error: err };
      }
    };
    // Reads start a slice at a time with a turn of the event loop between slices (a paper read
    // computes synchronously); they all stay in flight together, as a remote venue needs.
    const traders = [...listed.values()];
    const pending: Promise<Reading>[] = [];
    for (let i = 0; i < traders.length; i += slice) {
      if (i > 0) await yieldToLoop();
      for (const t of traders.slice(i, i + slice)) pending.push(read(t));
    }
    const readings = await Promise.all(pending);

    const rows: MetricRecord[] = [];
    const failed: { traderId: string; error: string }[] = [];
    for (const [i, r] of readings.entries()) {
      if (i > 0 && i % slice === 0) await yieldToLoop();
      if ('error' in r) {
        failed.push({ traderId: r.t.traderId, error: errorMessage(r.error) });
        deps.onReadError?.(r.t.traderId, r.error);
        continue;
      }
      const { t, holding } = r;
      known.set(t.traderId, holding);
      rows.push(record('trader', t.traderId, holding.initial, holding.pv, holding.upnl, at, new Dec(0)));
    }

    // Groups in the order traders are listed; a trader never read successfully is in none.
    const byManager = new Map<string, Map<string, Holding>>();
    const byUser = new Map<string, Map<string, Holding>>();
    const platform = new Map<string, Holding>();
    const add = (groups: Map<string, Map<string, Holding>>, key: string, traderId: string, h: Holding) => {
      const group = groups.get(key) ?? new Map<string, Holding>();
      group.set(traderId, h);
      groups.set(key, group);
    };
    for (const t of listed.values()) {
      const h = known.get(t.traderId);
      if (!h) continue;
      add(byManager, t.managerId, t.traderId, h);
      if (t.userId !== undefined) add(byUser, t.userId, t.traderId, h);
      platform.set(t.traderId, h);
    }
    // Aggregates in the listing's order; each waits for budget between slices of its members.
    await yieldToLoop();
    for (const [managerId, group] of byManager) rows.push(await aggregate('manager', managerId, group, at));
    for (const [userId, group] of byUser) rows.push(await aggregate('user', userId, group, at));
    if (platform.size > 0) rows.push(await aggregate('platform', PLATFORM_SCOPE_ID, platform, at));

    report = { at, written: rows.length, failed };
    if (rows.length > 0) await deps.repo.insertMany(rows);
    return rows;
  }

  return {
    collect() {
      // An overlapping call joins the sample in flight instead of starting a second one.
      if (running) return running;
      const p = run().finally(() => {
        running = null;
      });
      running = p;
      return p;
    },
    latest(scope, id) {
      return latestRows.get(keyOf(scope, id)) ?? null;
    },
    accumulators() {
      return Object.fromEntries(accs);
    },
    lastReport() {
      return report;
    },
  };
}
