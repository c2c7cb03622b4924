/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the most self time and
 * the most total (inclusive) time, by file and line.
 *
 * Usage: `npx tsx bench/profile.ts FILE.cpuprofile [TOP] [FILTER] [--long | --stalls STALLS.json]`
 * (FILTER keeps frames whose file contains it in the inclusive lists, e.g. `runtime/`; `--long`
 * lists the longest busy stretches of the thread; `--stalls` what ran during the event-loop
 * stalls a bench child recorded, i.e. what the event loop waited on).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { REPO } from './lib.ts';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One function's share of the profile. */
export interface FunctionTime {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

const shortUrl = (url: string): string => {
  const file = url.replace(/^file:\/\//, '');
  if (file.startsWith(REPO)) return path.relative(REPO, file);
  const nm = file.indexOf('node_modules/');
  return nm >= 0 ? file.slice(nm + 'node_modules/'.length) : file || '(native)';
};

interface CachedMap {
  readonly map: SourceMap;
  readonly lines: readonly string[];
  readonly mtime: number;
}

let maps: Map<string, CachedMap[]> | null = null;

/**
 * tsx compiles each .ts file to one minified line (as ESM on the main thread, as CommonJS in
 * worker threads) and caches `{ code, map }` in `$TMPDIR/tsx-<uid>/`; those maps turn a frame's
 * generated column back into a source line.
 */
function tsxSourceMaps(): Map<string, CachedMap[]> {
  if (maps) return maps;
  maps = new Map();
  const dir = path.join(tmpdir(), `tsx-${userInfo().uid}`);
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return maps;
  }
  for (const f of files) {
    try {
      const full = path.join(dir, f);
      const entry = JSON.parse(readFileSync(full, 'utf8')) as { code?: string; map?: SourceMapPayload };
      const source = entry.map?.sources?.[0];
      if (!entry.map || !source || typeof entry.code !== 'string') continue;
      const list = maps.get(source) ?? [];
      list.push({ map: new SourceMap(entry.map), lines: entry.code.split('\n'), mtime: statSync(full).mtimeMs });
      list.sort((a, b) => b.mtime - a.mtime);
      maps.set(source, list);
    } catch {
      // Not a cache entry: skip.
    }
  }
  return maps;
}

/**
 * The source line (1-based) of a frame, through tsx's source map when the file went through tsx;
 * of several compilations of one file, the one whose code names the function at that column.
 */
function sourceLine(frame: CallFrame): number {
  const file = frame.url.replace(/^file:\/\//, '');
  const candidates = file.endsWith('.ts') ? (tsxSourceMaps().get(file) ?? []) : [];
  const named = frame.functionName
    ? candidates.find((c) => (c.lines[frame.lineNumber] ?? '').slice(Math.max(0, frame.columnNumber - 40), frame.columnNumber + 80).includes(frame.functionName))
    : undefined;
  const pick = named ?? candidates[0];
  if (pick) {
    const e = pick.map.findEntry(frame.lineNumber, frame.columnNumber) as { originalLine?: number };
    if (typeof e.originalLine === 'number') return e.originalLine + 1;
  }
  return frame.lineNumber + 1;
}

/** Self and total time per function (keyed by name, file and line), biggest self time first. */
export function summarizeProfile(p: CpuProfile): { durationMs: number; functions: FunctionTime[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\u0000${shortUrl(n.callFrame.url)}:${sourceLine(n.callFrame)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    self.set(keyOf(n), (self.get(keyOf(n)) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (!node) break;
      const k = keyOf(node);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const functions = [...total.keys()].map((k) => {
    const [name, where] = k.split('\u0000') as [string, string];
    return { name, where, selfMs: (self.get(k) ?? 0) / 1000, totalMs: (total.get(k) ?? 0) / 1000 };
  });
  functions.sort((a, b) => b.selfMs - a.selfMs);
  return { durationMs: (p.endTime - p.startTime) / 1000, functions };
}

/** A stretch of the main thread busy without a break (what the event loop waited on). */
export interface LongTask {
  readonly startMs: number;
  readonly ms: number;
  /** Functions on the stack during the stretch, by inclusive time, biggest first. */
  readonly frames: readonly { readonly name: string; readonly where: string; readonly ms: number }[];
}

/** A time window in the profile's clock (µs, CLOCK_MONOTONIC: `process.hrtime` ÷ 1000). */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * What the thread ran inside each window (e.g. the stalls a lag probe saw: from when a timer was
 * due to when it ran), by inclusive time; windows with the same top frames are not merged.
 */
export function framesIn(p: CpuProfile, windows: readonly Window[], filter = ''): LongTask[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) times.push((t += d));
  return windows.map((w) => {
    const incl = new Map<string, number>();
    for (let i = 0; i < p.samples.length; i++) {
      const at = times[i]!;
      if (at < w.fromUs || at > w.toUs) continue;
      const us = (times[i + 1] ?? at) - at;
      const seen = new Set<string>();
      for (let cur: number | undefined = p.samples[i]; cur !== undefined; cur = parent.get(cur)) {
        const node = byId.get(cur);
        if (!node) break;
        const k = `${node.callFrame.functionName || '(anonymous)'}\u0000${shortUrl(node.callFrame.url)}:${sourceLine(node.callFrame)}`;
        if (seen.has(k)) continue;
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + us);
      }
    }
    const frames = [...incl]
      .map(([k, us]) => {
        const [name, where] = k.split('\u0000') as [string, string];
        return { name, where, ms: us / 1000 };
      })
      .filter((f) => f.name !== '(root)' && (!filter || f.where.includes(filter) || f.name === '(garbage collector)' || f.name === '(idle)'))
      .sort((a, b) => b.ms - a.ms);
    return { startMs: (w.fromUs - p.startTime) / 1000, ms: (w.toUs - w.fromUs) / 1000, frames };
  });
}

/**
 * The stretches of consecutive non-idle samples longer than `minMs` (garbage collection
 * included). A busy thread is not one long task (queued I/O callbacks keep it from idling), so
 * prefer {@link framesIn} with the stalls a lag probe recorded.
 */
export function longTasks(p: CpuProfile, minMs = 50, filter = ''): LongTask[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isIdle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)';
  const out: LongTask[] = [];
  let t = 0;
  let start = -1;
  let startAt = 0;
  const flush = (end: number, endAt: number) => {
    const ms = (endAt - startAt) / 1000;
    if (start < 0 || ms < minMs) return;
    const incl = new Map<string, number>();
    for (let i = start; i < end; i++) {
      const us = p.timeDeltas[i + 1] ?? 0;
      const seen = new Set<string>();
      for (let cur: number | undefined = p.samples[i]; cur !== undefined; cur = parent.get(cur)) {
        const node = byId.get(cur);
        if (!node) break;
        const k = `${node.callFrame.functionName || '(anonymous)'}\u0000${shortUrl(node.callFrame.url)}:${sourceLine(node.callFrame)}`;
        if (seen.has(k)) continue;
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + us);
      }
    }
    const frames = [...incl]
      .map(([k, us]) => {
        const [name, where] = k.split('\u0000') as [string, string];
        return { name, where, ms: us / 1000 };
      })
      .filter((f) => f.name !== '(root)' && (!filter || f.where.includes(filter) || f.name === '(garbage collector)'))
      .sort((a, b) => b.ms - a.ms);
    out.push({ startMs: startAt / 1000, ms, frames });
  };
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (isIdle(id)) {
      flush(i, t);
      start = -1;
    } else if (start < 0) {
      start = i;
      startAt = t;
    }
  });
  flush(p.samples.length, t);
  return out.sort((a, b) => b.ms - a.ms);
}

/** Renders the top `n` by self time and by total time (the latter filtered by `filter`). */
export function renderProfile(p: CpuProfile, n = 25, filter = ''): string {
  const { durationMs, functions } = summarizeProfile(p);
  const pct = (ms: number) => `${((ms / durationMs) * 100).toFixed(1).padStart(5)} %`;
  const line = (f: FunctionTime, ms: number) => `${ms.toFixed(0).padStart(8)} ms ${pct(ms)}  ${f.name}  ${f.where}`;
  const bySelf = functions.slice(0, n).map((f) => line(f, f.selfMs));
  const byTotal = [...functions]
    .filter((f) => !filter || f.where.includes(filter))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, n)
    .map((f) => line(f, f.totalMs));
  return [
    `profile: ${(durationMs / 1000).toFixed(1)} s`,
    `top ${n} by self time:`,
    ...bySelf,
    `top ${n} by total time${filter ? ` (files containing ${filter})` : ''}:`,
    ...byTotal,
  ].join('\n');
}

/** Renders the `n` longest tasks with their top `frames` frames (files containing `filter`). */
export function renderLongTasks(p: CpuProfile, n = 10, minMs = 50, filter = '', frames = 8): string {
  const tasks = longTasks(p, minMs, filter);
  const total = tasks.reduce((a, t) => a + t.ms, 0);
  return [
    `${tasks.length} busy stretches ≥ ${minMs} ms (${(total / 1000).toFixed(1)} s in all); the ${Math.min(n, tasks.length)} longest:`,
    ...tasks.slice(0, n).flatMap((t) => [
      `  ${t.ms.toFixed(0)} ms at ${(t.startMs / 1000).toFixed(2)} s:`,
      ...t.frames.slice(0, frames).map((f) => `    ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`),
    ]),
  ].join('\n');
}

/** Renders what ran during the stalls in `stallsFile` (JSON `Window[]`), longest first, and the frames summed over all. */
export function renderStalls(p: CpuProfile, stalls: readonly Window[], n = 10, filter = '', frames = 8): string {
  const tasks = framesIn(p, stalls, filter).sort((a, b) => b.ms - a.ms);
  const sum = new Map<string, { name: string; where: string; ms: number }>();
  for (const t of tasks) for (const f of t.frames) {
    const k = `${f.name} ${f.where}`;
    const cur = sum.get(k) ?? { name: f.name, where: f.where, ms: 0 };
    cur.ms += f.ms;
    sum.set(k, cur);
  }
  const total = tasks.reduce((a, t) => a + t.ms, 0);
  return [
    `${tasks.length} stalls (${(total / 1000).toFixed(1)} s in all); frames summed over every stall:`,
    ...[...sum.values()].sort((a, b) => b.ms - a.ms).slice(0, 2 * frames).map((f) => `    ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`),
    `the ${Math.min(n, tasks.length)} longest:`,
    ...tasks.slice(0, n).flatMap((t) => [
      `  ${t.ms.toFixed(0)} ms at ${(t.startMs / 1000).toFixed(2)} s:`,
      ...t.frames.slice(0, frames).map((f) => `    ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`),
    ]),
  ].join('\n');
}

const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invokedAs.endsWith(path.join('bench', 'profile.ts'))) {
  const args = process.argv.slice(2);
  const long = args.includes('--long');
  const stallsAt = args.indexOf('--stalls');
  const stallsFile = stallsAt >= 0 ? args[stallsAt + 1] : undefined;
  const [file, top, filter] = args.filter((a, i) => a !== '--long' && i !== stallsAt && (stallsAt < 0 || i !== stallsAt + 1));
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile.ts FILE.cpuprofile [TOP] [FILTER] [--long | --stalls STALLS.json]\n');
    process.exitCode = 2;
  } else {
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const text = stallsFile
      ? renderStalls(p, JSON.parse(readFileSync(stallsFile, 'utf8')) as Window[], Number(top ?? 10), filter ?? '')
      : long
        ? renderLongTasks(p, Number(top ?? 10), 50, filter ?? '')
        : renderProfile(p, Number(top ?? 25), filter ?? '');
    process.stdout.write(`${text}\n`);
  }
}
