/**
 * Test worker: reads windows through `attachCandleWindows` while the main thread appends, and
 * reports how many reads were inconsistent (values not matching their open times).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachCandleWindows } from '../../../../runtime/market/window.ts';
import type { CandleWindowsHandle } from '../../../../runtime/market/window.ts';

const { handle, reads, minute } = workerData as { handle: CandleWindowsHandle; reads: number; minute: number };
const r = attachCandleWindows(handle);
parentPort!.postMessage('ready');
let bad = 0;
let nonEmpty = 0;
for (let k = 0; k < reads; k++) {
  // Every candle has close = openTime / minute, so a consistent window is a run of consecutive
  // integers from `from` to `to`; a torn read would break the run.
  const latest = r.latestOpenTime('BTCUSDT') ?? 0;
  const until = k % 2 === 0 ? undefined : latest - 3 * minute;
  const span = r.readSpan('BTCUSDT', 'close', r.capacity, until);
  if (span.values.length === 0) continue;
  nonEmpty++;
  if (span.values[0] !== span.from! / minute || span.values[span.values.length - 1] !== span.to! / minute) bad++;
  for (let i = 1; i < span.values.length; i++) if (span.values[i] !== span.values[i - 1]! + 1) bad++;
  if (until !== undefined && span.to! > until) bad++;
}
parentPort!.postMessage({ bad, nonEmpty });
