import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { attachCandleWindows, createCandleWindows } from '../../../runtime/market/window.ts';
import type { WindowCandle } from '../../../runtime/market/window.ts';

const MIN = 60_000;
const candle = (i: number, close = 100 + i): WindowCandle => ({
  openTime: i * MIN,
  open: close - 1,
  high: close + 1,
  low: close - 2,
  close,
  volume: 10 + i,
});

describe('candle windows', () => {
  it('returns the last values of a field, oldest first, and fewer when history is short', () => {
    const w = createCandleWindows({ symbols: ['BTCUSDT', 'ETHUSDT'], capacity: 10 });
    for (let i = 0; i < 4; i++) w.append('BTCUSDT', candle(i));
    expect([...w.read('BTCUSDT', 'close', 3)]).toEqual([101, 102, 103]);
    expect([...w.read('BTCUSDT', 'volume', 10)]).toEqual([10, 11, 12, 13]);
    expect([...w.read('BTCUSDT', 'high', 2)]).toEqual([103, 104]);
    expect(w.read('ETHUSDT', 'close', 5)).toHaveLength(0);
    expect(w.latestOpenTime('ETHUSDT')).toBeNull();
    expect(w.latestOpenTime('BTCUSDT')).toBe(3 * MIN);
  });

  it('keeps only the newest `capacity` candles once the ring wraps', () => {
    const w = createCandleWindows({ symbols: ['BTCUSDT'], capacity: 5 });
    for (let i = 0; i < 23; i++) w.append('BTCUSDT', candle(i));
    expect([...w.read('BTCUSDT', 'close', 100)]).toEqual([118, 119, 120, 121, 122]);
    const span = w.readSpan('BTCUSDT', 'close', 3);
    expect([...span.values]).toEqual([120, 121, 122]);
    expect(span.from).toBe(20 * MIN);
    expect(span.to).toBe(22 * MIN);
  });

  it('ignores a candle whose open time is not newer than the last one', () => {
    const w = createCandleWindows({ symbols: ['BTCUSDT'], capacity: 5 });
    expect(w.append('BTCUSDT', candle(1))).toBe(true);
    expect(w.append('BTCUSDT', candle(1, 999))).toBe(false);
    expect(w.append('BTCUSDT', candle(0, 999))).toBe(false);
    expect(w.append('BTCUSDT', candle(3))).toBe(true);
    expect([...w.read('BTCUSDT', 'close', 5)]).toEqual([101, 103]);
  });

  it('reads only candles at or before `until`', () => {
    const w = createCandleWindows({ symbols: ['BTCUSDT'], capacity: 8 });
    for (let i = 0; i < 20; i++) w.append('BTCUSDT', candle(i));
    expect([...w.read('BTCUSDT', 'close', 3, 15 * MIN)]).toEqual([113, 114, 115]);
    // Between two open times: the candle before counts.
    expect([...w.read('BTCUSDT', 'close', 2, 15 * MIN + 30_000)]).toEqual([114, 115]);
    // Older than anything kept: nothing.
    expect(w.read('BTCUSDT', 'close', 3, 5 * MIN)).toHaveLength(0);
    // Only part of the window is old enough.
    const span = w.readSpan('BTCUSDT', 'close', 5, 13 * MIN);
    expect([...span.values]).toEqual([112, 113]);
    expect([span.from, span.to]).toEqual([12 * MIN, 13 * MIN]);
  });

  it('rejects unknown symbols', () => {
    const w = createCandleWindows({ symbols: ['BTCUSDT'], capacity: 4 });
    expect(() => w.append('XYZ', candle(0))).toThrow('unknown symbol XYZ');
    expect(() => w.read('XYZ', 'close', 1)).toThrow('unknown symbol XYZ');
  });

  it('shares the same memory with a reader attached from the handle', () => {
    const w = createCandleWindows({ symbols: ['BTCUSDT'], capacity: 4 });
    const r = attachCandleWindows(structuredClone(w.handle()));
    w.append('BTCUSDT', candle(7));
    expect([...r.read('BTCUSDT', 'close', 1)]).toEqual([107]);
    expect(r.latestOpenTime('BTCUSDT')).toBe(7 * MIN);
  });

  it('gives a worker a consistent window while the main thread keeps appending', async () => {
    const capacity = 16;
    const w = createCandleWindows({ symbols: ['BTCUSDT'], capacity });
    w.append('BTCUSDT', candle(0, 0));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const worker = new Worker(new URL('./helpers/require-ts.mjs', import.meta.url), {
      execArgv: ['--import', tsx],
      workerData: {
        file: fileURLToPath(new URL('./helpers/window-reader.worker.ts', import.meta.url)),
        handle: w.handle(),
        reads: 100_000,
        minute: MIN,
      },
    });
    const failed = new Promise<never>((_, reject) => worker.once('error', reject));
    await Promise.race([new Promise((resolve) => worker.once('message', resolve)), failed]);
    const result = Promise.race([new Promise<{ bad: number; nonEmpty: number }>((resolve) => worker.once('message', resolve)), failed]);
    let done = false;
    void result.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 1; !done; ) {
      for (let k = 0; k < 500; k++, i++) w.append('BTCUSDT', candle(i, i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { bad, nonEmpty } = await result;
    await worker.terminate();
    expect(bad).toBe(0);
    expect(nonEmpty).toBeGreaterThan(0);
    const values = [...w.read('BTCUSDT', 'close', capacity)];
    expect(values).toHaveLength(capacity);
    expect(values.every((v, k) => k === 0 || v === values[k - 1]! + 1)).toBe(true);
  });
});
