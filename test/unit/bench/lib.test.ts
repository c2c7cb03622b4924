import { describe, expect, it } from 'vitest';
import { percentile, row, summarize } from '../../../bench/lib.ts';
import { framesIn, summarizeProfile, type CpuProfile } from '../../../bench/profile.ts';
import { scaled } from '../../../bench/scale.ts';

/** A profile of root → main → (work | idle) with the given sample ids and 1 ms between samples. */
function profile(samples: number[]): CpuProfile {
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 });
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4] },
      { id: 2, callFrame: frame('main', 'file:///x/main.js'), children: [3] },
      { id: 3, callFrame: frame('work', 'file:///x/work.js') },
      { id: 4, callFrame: frame('(idle)') },
    ],
    startTime: 1_000_000,
    endTime: 1_000_000 + samples.length * 1000,
    samples,
    timeDeltas: samples.map(() => 1000),
  };
}

describe('bench statistics', () => {
  it('interpolates percentiles between ranks', () => {
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([10, 20], 50)).toBe(15);
    expect(percentile([1, 2, 3, 4, 5], 99)).toBeCloseTo(4.96, 10);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes a sample regardless of its order', () => {
    expect(summarize([5, 1, 3])).toEqual({ n: 3, median: 3, p99: 3 + 2 * 0.98, min: 1, max: 5 });
  });

  it('judges a latency target on p99 and a rate target on p1', () => {
    expect(row('lat', 'ms', [10, 20, 200], { limit: 100 }).pass).toBe(false);
    expect(row('lat', 'ms', [10, 20, 30], { limit: 100 }).pass).toBe(true);
    expect(row('rate', 'rows/s', [30_000, 25_000, 5_000], { worse: 'low', limit: 20_000 }).pass).toBe(false);
    expect(row('rate', 'rows/s', [30_000, 25_000, 21_000], { worse: 'low', limit: 20_000 }).pass).toBe(true);
    expect(row('info', 'ms', [1]).pass).toBeUndefined();
  });

  it('shrinks fleets by BENCH_SCALE but never to zero', () => {
    const before = process.env['BENCH_SCALE'];
    try {
      process.env['BENCH_SCALE'] = '0.0001';
      expect(scaled(10_000)).toBe(1);
      expect(scaled(0)).toBe(0);
      process.env['BENCH_SCALE'] = 'nope';
      expect(() => scaled(10)).toThrow(/BENCH_SCALE/);
    } finally {
      if (before === undefined) delete process.env['BENCH_SCALE'];
      else process.env['BENCH_SCALE'] = before;
    }
  });
});

describe('bench profile summaries', () => {
  it('counts self time on the sampled frame and total time on every frame above it', () => {
    const { functions } = summarizeProfile(profile([3, 3, 2, 4]));
    const work = functions.find((f) => f.name === 'work')!;
    const main = functions.find((f) => f.name === 'main')!;
    expect(work.selfMs).toBe(2);
    expect(main.selfMs).toBe(1);
    expect(main.totalMs).toBe(3);
  });

  it('attributes a stall window to what ran inside it', () => {
    const p = profile([4, 3, 3, 3, 4]);
    const [task] = framesIn(p, [{ fromUs: p.startTime + 1500, toUs: p.startTime + 4500 }]);
    expect(task!.ms).toBe(3);
    expect(task!.frames.find((f) => f.name === 'main')!.ms).toBe(3);
    expect(task!.frames.find((f) => f.name === 'work')!.ms).toBe(3);
    expect(task!.frames.some((f) => f.name === '(idle)')).toBe(false);
  });
});
