/**
 * The node process's heap growth: how much garbage V8 may keep past the live data before the next
 * full GC. That trades memory for GC time, and the right trade depends on the fleet: a
 * 10,000-trader node (≈190 MiB live) must stay under 512 MiB, so it collects after 25 % growth; a
 * 50,000-trader node (≈790 MiB live) at 25 % runs a full GC every ~200 MiB of allocation, and those
 * GCs are most of its event-loop stalls — with a 2 GiB budget it can afford 75 % or more.
 *
 * With `MEMORY_BUDGET_MB` set, the node re-computes the growth after every full GC so that the live
 * heap, its allowed growth and everything outside the heap (measured, not guessed) stay within the
 * budget. Without it, the growth stays at `HEAP_GROWTH_PERCENT`.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/** Bounds of the computed growth, percent. */
export const MIN_GROWTH_PERCENT = 10;
export const MAX_GROWTH_PERCENT = 100;
/** Share of the budget aimed at: the margin covers fragmentation and transient buffers. */
export const BUDGET_AIM = 0.85;

/** What the policy reads right after a full GC (bytes). */
export interface HeapReading {
  /** Heap in use just after the full GC: the live data. */
  readonly liveHeap: number;
  /** Resident memory outside V8's heap (RSS minus the heap's committed size). */
  readonly outsideHeap: number;
  /** The young generation's capacity: it fills between scavenges on top of the old generation. */
  readonly youngGen: number;
}

/**
 * The growth percent that keeps `live × (1 + g) + young + outside` within the aimed share of the budget,
 * clamped to [{@link MIN_GROWTH_PERCENT}, {@link MAX_GROWTH_PERCENT}].
 */
export function growthForBudget(budgetBytes: number, r: HeapReading): number {
  if (!(r.liveHeap > 0)) return MAX_GROWTH_PERCENT;
  const room = budgetBytes * BUDGET_AIM - r.outsideHeap - r.youngGen - r.liveHeap;
  const pct = Math.floor((room / r.liveHeap) * 100);
  return Math.min(MAX_GROWTH_PERCENT, Math.max(MIN_GROWTH_PERCENT, pct));
}

/** Sets V8's heap growing factor (process-wide; V8 applies it when a full GC sets the next limit). */
export function setHeapGrowth(percent: number): void {
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** A running budget: the current growth, and how to stop following GCs. */
export interface HeapBudget {
  readonly growthPercent: () => number;
  readonly stop: () => void;
}

/**
 * Applies `initialPercent` now and, when `budgetMb` > 0, re-computes the growth after every full
 * GC. `onChange` hears each new value (for the log).
 */
export function manageHeapGrowth(budgetMb: number, initialPercent: number, onChange?: (percent: number, r: HeapReading) => void): HeapBudget {
  let current = initialPercent;
  if (current > 0) setHeapGrowth(current);
  if (!(budgetMb > 0)) return { growthPercent: () => current, stop: () => {} };
  const budget = budgetMb * 1024 * 1024;
  const observer = new PerformanceObserver((list) => {
    const major = list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (!major) return;
    const stats = v8.getHeapStatistics();
    const young = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space');
    const reading: HeapReading = {
      liveHeap: stats.used_heap_size,
      outsideHeap: Math.max(0, process.memoryUsage.rss() - stats.total_heap_size),
      youngGen: young ? young.space_size : 0,
    };
    const next = growthForBudget(budget, reading);
    // Small moves are noise: keep V8's limit steady unless the answer really changed.
    if (Math.abs(next - current) < 5) return;
    current = next;
    setHeapGrowth(next);
    onChange?.(next, reading);
  });
  observer.observe({ entryTypes: ['gc'] });
  return { growthPercent: () => current, stop: () => observer.disconnect() };
}
