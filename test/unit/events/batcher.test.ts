import { describe, expect, it } from 'vitest';
import { createBatcher, createGroupCommit } from '../../../runtime/events/batcher.ts';
import type { Turns } from '../../../runtime/turns.ts';

describe('group commit', () => {
  it('merges the calls of one turn into one run and answers each caller with its own result', async () => {
    const runs: number[][] = [];
    const commit = createGroupCommit(async (xs: number[]) => {
      runs.push(xs);
      return xs.map((x) => x * 10);
    });
    const out = await Promise.all([commit(1), commit(2), commit(3)]);
    expect(out).toEqual([10, 20, 30]);
    expect(runs).toEqual([[1, 2, 3]]);
    expect(await commit(4)).toBe(40);
    expect(runs).toHaveLength(2);
  });

  it('chunks a large turn and rejects every caller of a failed chunk', async () => {
    const commit = createGroupCommit(async (xs: number[]) => {
      if (xs.includes(3)) throw new Error('disk full');
      return xs;
    }, 2);
    const results = await Promise.allSettled([commit(1), commit(2), commit(3), commit(4)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
  });

  it('wakes its callers through the turns queue, one callback each', async () => {
    const queued: (() => void)[] = [];
    const turns: Turns = {
      run: (fn) => void queued.push(fn),
      next: () => new Promise<void>((resolve) => queued.push(resolve)),
      pending: () => queued.length,
    };
    const commit = createGroupCommit(async (xs: number[]) => xs.map((x) => x + 1), 1000, turns);
    const woken: number[] = [];
    const callers = [1, 2, 3].map((x) => commit(x).then((y) => woken.push(y)));
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Stored, but nobody woken until the queue runs them.
    expect(queued).toHaveLength(3);
    expect(woken).toEqual([]);
    queued.shift()!();
    await Promise.resolve();
    await Promise.resolve();
    expect(woken).toEqual([2]);
    for (const fn of queued.splice(0)) fn();
    await Promise.all(callers);
    expect(woken).toEqual([2, 3, 4]);
  });

  it('rejects when the run answers a different number of results', async () => {
    const commit = createGroupCommit(async () => [1]);
    await expect(Promise.all([commit(1), commit(2)])).rejects.toThrow('group commit returned 1 results for 2 items');
  });
});

describe('batcher', () => {
  it('keeps the newest row per key and writes once on flush', async () => {
    const writes: { id: string; v: number }[][] = [];
    const b = createBatcher<{ id: string; v: number }>({ write: async (rows) => void writes.push(rows), key: (r) => r.id, intervalMs: 10_000 });
    b.push({ id: 'a', v: 1 });
    b.push({ id: 'b', v: 1 });
    b.push({ id: 'a', v: 2 });
    await b.flush();
    expect(writes).toEqual([[{ id: 'b', v: 1 }, { id: 'a', v: 2 }]]);
    await b.close();
  });

  it('keeps rows whose write failed and writes them on the next flush', async () => {
    let fail = true;
    const written: number[] = [];
    const b = createBatcher<number>({
      write: async (rows) => {
        if (fail) throw new Error('down');
        written.push(...rows);
      },
      intervalMs: 10_000,
    });
    b.push(1);
    await expect(b.flush()).rejects.toThrow('down');
    fail = false;
    await b.flush();
    expect(written).toEqual([1]);
    await b.close();
  });
});
