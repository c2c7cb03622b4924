import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BOOT_GROWTH_PERCENT, BUDGET_AIM, MAX_GROWTH_PERCENT, MIN_GROWTH_PERCENT, growthForBudget, manageHeapGrowth, setHeapGrowth } from '../../../runtime/memory.ts';
import type { HeapReading } from '../../../runtime/memory.ts';

const MiB = 1024 * 1024;

describe('heap growth for a memory budget', () => {
  it('lets the heap grow into what the budget leaves after the live heap and the memory outside it', () => {
    // 2 GiB budget, 600 MiB live, 250 MiB outside, 32 MiB young: room 859 MiB → 100 % (capped).
    expect(growthForBudget(2048 * MiB, { liveHeap: 600 * MiB, outsideHeap: 250 * MiB, youngGen: 32 * MiB })).toBe(MAX_GROWTH_PERCENT);
    // 2 GiB, 790 MiB live, 300 outside, 48 young: room 603 MiB → 76 %.
    const g = growthForBudget(2048 * MiB, { liveHeap: 790 * MiB, outsideHeap: 300 * MiB, youngGen: 48 * MiB });
    expect(g).toBe(Math.floor(((2048 * BUDGET_AIM - 300 - 48 - 790) / 790) * 100));
    expect(g).toBeGreaterThan(70);
    expect(g).toBeLessThan(80);
  });

  it('shrinks the growth as the live heap fills the budget, never under the floor', () => {
    const roomy = growthForBudget(512 * MiB, { liveHeap: 120 * MiB, outsideHeap: 150 * MiB, youngGen: 48 * MiB });
    const tight = growthForBudget(512 * MiB, { liveHeap: 186 * MiB, outsideHeap: 155 * MiB, youngGen: 48 * MiB });
    expect(tight).toBeLessThan(roomy);
    expect(tight).toBeGreaterThan(MIN_GROWTH_PERCENT);
    expect(growthForBudget(512 * MiB, { liveHeap: 400 * MiB, outsideHeap: 230 * MiB, youngGen: 48 * MiB })).toBe(MIN_GROWTH_PERCENT);
  });

  it('with no reading of the live heap yet, allows the most', () => {
    expect(growthForBudget(512 * MiB, { liveHeap: 0, outsideHeap: 100 * MiB, youngGen: 16 * MiB })).toBe(MAX_GROWTH_PERCENT);
  });

  it('without a budget, lets the boot grow the heap further, then keeps the fixed growth', () => {
    const h = manageHeapGrowth(0, 25);
    try {
      expect(h.growthPercent()).toBe(BOOT_GROWTH_PERCENT);
      h.booted();
      expect(h.growthPercent()).toBe(25);
      h.booted();
      expect(h.growthPercent()).toBe(25);
    } finally {
      h.stop();
      setHeapGrowth(0);
    }
    // A configured growth above the boot's is kept; 0 (V8's own factor) is left alone throughout.
    expect(manageHeapGrowth(0, 150).growthPercent()).toBe(150);
    const own = manageHeapGrowth(0, 0);
    expect(own.growthPercent()).toBe(0);
    own.booted();
    expect(own.growthPercent()).toBe(0);
    setHeapGrowth(0);
  });

  it('with a budget, re-computes the growth after a full GC and reports it', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heard: { percent: number; r: HeapReading }[] = [];
    // A budget smaller than this process already uses: the growth must drop to the floor.
    const h = manageHeapGrowth(8, 25, (percent, r) => heard.push({ percent, r }));
    try {
      gc();
      for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(heard.length).toBeGreaterThan(0);
      expect(heard[0]!.percent).toBe(MIN_GROWTH_PERCENT);
      expect(heard[0]!.r.liveHeap).toBeGreaterThan(0);
      expect(h.growthPercent()).toBe(MIN_GROWTH_PERCENT);
      // The budget's figure holds through the end of the boot.
      h.booted();
      expect(h.growthPercent()).toBe(MIN_GROWTH_PERCENT);
    } finally {
      h.stop();
      setHeapGrowth(0);
    }
  });
});
