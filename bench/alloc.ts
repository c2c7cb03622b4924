/**
 * Where a wave's allocations come from: samples every allocation of one timed wave (objects
 * collected since included) with the inspector's sampling heap profiler, and prints the bytes
 * per trader by allocating function (self) and by runtime function (inclusive).
 *
 * Usage: `DATABASE_URL=… npx tsx bench/alloc.ts [TRADERS] [TOP]` (default 10,000 traders, 40 rows).
 */
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { allLoaded, buildFleet, defaultDb, nodeEnv, REPO, startBenchNode, waitFor } from './lib.ts';
import { timedWave } from './wave.ts';

interface SampleNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly selfSize: number;
  readonly children: readonly SampleNode[];
}

const traders = Number(process.argv[2] ?? 10_000);
const top = Number(process.argv[3] ?? 40);
const fleet = await buildFleet(defaultDb(), { traders, managers: 100 });
const b = await startBenchNode(nodeEnv(fleet));
await b.node.step();
await waitFor(() => allLoaded(b.node), 600_000);
await b.node.settle(600_000);
await timedWave(b); // warm: positions open, JIT settled

const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const s = await timedWave(b);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampleNode } };
session.disconnect();

const label = (n: SampleNode) => {
  const f = n.callFrame;
  const file = f.url ? path.relative(REPO, f.url.replace(/^file:\/\//, '')) : '';
  return `${f.functionName || "(anon)"} ${file}:${f.lineNumber + 1}:${f.columnNumber}`;
};
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
const walk = (n: SampleNode, stack: string[]) => {
  const l = label(n);
  const here = [...stack, l];
  if (n.selfSize > 0) {
    total += n.selfSize;
    self.set(l, (self.get(l) ?? 0) + n.selfSize);
    for (const f of new Set(here.filter((x) => /runtime\/|actors\/|web\//.test(x)))) incl.set(f, (incl.get(f) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, here);
};
walk(profile.head, []);
const kib = (v: number) => `${(v / traders / 1024).toFixed(2).padStart(7)} KiB`;
console.log(`wave: ${s.orders} orders, ${s.recorded.toFixed(0)} ms; allocated ${(total / 1048576).toFixed(0)} MiB = ${kib(total)} per trader`);
console.log('--- by allocating function (per trader)');
for (const [k, v] of [...self].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(kib(v), k);
console.log('--- by runtime function, inclusive (per trader)');
for (const [k, v] of [...incl].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(kib(v), k);
await b.node.stop();
await fleet.cleanup();
process.exit(0);
