/**
 * The node process's heap growth: how much garbage V8 may keep past the live data before the next
 * full GC. That trades memory for GC time. The default, 100 %, lets a 10,000-trader node (≈140 MiB
 * live after GC) peak near 480 MiB RSS on PostgreSQL; 25 % kept it near 400 MiB but made V8 mark
 * the same live heap several times a wave: a quarter more CPU for the node (its GC helper threads
 * nearly doubled theirs) and waves ~25 % slower on two cores. V8's own factor (up to 4×) costs no
 * less CPU than 100 % and lets that node reach ~800 MiB.
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

/**
 * The growth while the node boots, unless a budget has said otherwise: a boot only adds live data
 * (every trader, account and state read back), so a small growth only makes V8 mark the same
 * live heap again at every step (a 10,000-trader restart at 25 %: 6 full GCs and ~255 ms of
 * marking before every trader is back, against 4 and ~110 ms at 100 %).
 */
export const BOOT_GROWTH_PERCENT = 100;

/** A running budget: the current growth, the end of the boot, and how to stop following GCs. */
export interface HeapBudget {
  readonly growthPercent: () => number;
  /** The boot is over: the configured (or budgeted) growth applies from the next full GC. */
  readonly booted: () => void;
  readonly stop: () => void;
}

/**
 * Applies the boot's growth now ({@link BOOT_GROWTH_PERCENT}, or `initialPercent` when that is
 * 0, i.e. V8's own factor) and `initialPercent` once `booted()` is called; when `budgetMb` > 0,
 * re-computes the growth after every full GC, boot included. `onChange` hears each new value
 * (for the log).
 */
export function manageHeapGrowth(budgetMb: number, initialPercent: number, onChange?: (percent: number, r: HeapReading) => void): HeapBudget {
  let current = initialPercent;
  let booting = true;
  let budgeted = false;
  const effective = () => (booting && !budgeted && current > 0 ? Math.max(current, BOOT_GROWTH_PERCENT) : current);
  const apply = () => {
    const percent = effective();
    if (percent > 0) setHeapGrowth(percent);
  };
  const booted = () => {
    if (!booting) return;
    booting = false;
    apply();
  };
  apply();
  if (!(budgetMb > 0)) return { growthPercent: effective, booted, stop: () => {} };
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
    if (budgeted && Math.abs(next - current) < 5) return;
    budgeted = true;
    current = next;
    setHeapGrowth(next);
    onChange?.(next, reading);
  });
  observer.observe({ entryTypes: ['gc'] });
  return { growthPercent: effective, booted, stop: () => observer.disconnect() };
}
