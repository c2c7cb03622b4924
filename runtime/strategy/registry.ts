/**
 * The strategy registry: scans (and watches) a folder of strategy files, compiles each with
 * esbuild, has a worker import and validate it, and records immutable versions by content hash.
 * User code never runs on the main thread. Work is serialized: one file is processed at a time.
 */
import { watch as fsWatch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../domain.ts';
import type { StrategiesRepo, StrategyFileRecord, StrategyVersionRecord } from '../store/types.ts';
import { compileStrategy, hashSource, STRATEGY_EXTENSIONS } from './compile.ts';
import type { StrategyPool } from './pool.ts';

/** What happened to one file. `removed` is sent when a file disappears. */
export interface RegistryChange {
  readonly filename: string;
  readonly status: 'valid' | 'broken' | 'removed';
  readonly name?: string;
  readonly version?: number;
  readonly error?: string;
  /** True when this change registered a new version. */
  readonly isNew: boolean;
}

/** A pino-like logger. */
export interface RegistryLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of `createRegistry`. */
export interface RegistryOptions {
  /** The folder of strategy files (`.ts`, `.js`, `.mjs`). */
  readonly dir: string;
  readonly repo: StrategiesRepo;
  readonly pool: Pick<StrategyPool, 'inspect'>;
  readonly clock: { now(): number };
  readonly log?: RegistryLog;
  /** Quiet time after a file event before the file is read; default 150. */
  readonly debounceMs?: number;
}

/** The registry's API. */
export interface Registry {
  /** Loads versions and files from the repo, then (re)processes every file in the folder. */
  scan(): Promise<void>;
  /** Watches the folder; new, changed and removed files are processed after `debounceMs`. */
  watch(): void;
  /** Stops watching. */
  close(): void;
  /** Resolves once every queued file has been processed. */
  settled(): Promise<void>;
  versions(): readonly StrategyVersionRecord[];
  files(): readonly StrategyFileRecord[];
  get(name: string, version: number): StrategyVersionRecord | undefined;
  /** The highest version of `name`. */
  latest(name: string): StrategyVersionRecord | undefined;
  /** Subscribes to file changes; returns the unsubscribe function. */
  onChange(listener: (change: RegistryChange) => void): () => void;
}

/** True for a file the registry loads: `.ts`, `.js`, `.mjs`, not hidden, not a `.d.ts`. */
export function isStrategyFile(filename: string): boolean {
  return (
    !filename.startsWith('.') &&
    !filename.endsWith('.d.ts') &&
    Object.hasOwn(STRATEGY_EXTENSIONS, path.extname(filename)) &&
    path.basename(filename) === filename
  );
}

const keyOf = (name: string, version: number): string => `${name}@${version}`;

/** Creates a registry over `opts.dir`; call `scan()` before use. */
export function createRegistry(opts: RegistryOptions): Registry {
  const { dir, repo, pool, clock, log } = opts;
  const debounceMs = opts.debounceMs ?? 150;

  const byKey = new Map<string, StrategyVersionRecord>();
  const byHash = new Map<string, StrategyVersionRecord>();
  const latestByName = new Map<string, StrategyVersionRecord>();
  const files = new Map<string, StrategyFileRecord>();
  /** Broken files waiting for a name: filename → the file that owns it. */
  const conflicts = new Map<string, string>();
  const listeners = new Set<(change: RegistryChange) => void>();

  let queue: Promise<void> = Promise.resolve();
  const enqueue = (job: () => Promise<void>): Promise<void> => {
    const run = queue.then(job);
    queue = run.catch(() => undefined);
    return run;
  };

  const emit = (change: RegistryChange): void => {
    for (const l of listeners) {
      try {
        l(change);
      } catch (err) {
        log?.error({ err: errorMessage(err) }, 'registry listener failed');
      }
    }
  };

  const remember = (v: StrategyVersionRecord): void => {
    byKey.set(keyOf(v.name, v.version), v);
    byHash.set(v.hash, v);
    const latest = latestByName.get(v.name);
    if (!latest || latest.version < v.version) latestByName.set(v.name, v);
  };

  const ownerOf = (name: string, filename: string): string | undefined => {
    for (const f of files.values()) {
      if (f.status === 'valid' && f.name === name && f.filename !== filename) return f.filename;
    }
    return undefined;
  };

  async function record(next: StrategyFileRecord, isNew: boolean): Promise<void> {
    const prev = files.get(next.filename);
    const same =
      prev !== undefined &&
      prev.hash === next.hash &&
      prev.status === next.status &&
      prev.name === next.name &&
      prev.version === next.version &&
      prev.error === next.error;
    if (same && !isNew) return;
    await repo.upsertFile(next);
    files.set(next.filename, next);
    if (next.status === 'valid') {
      log?.info({ filename: next.filename, strategy: `${next.name}@${next.version}`, isNew }, 'strategy file loaded');
    } else {
      log?.warn({ filename: next.filename, error: next.error }, 'strategy file is broken');
    }
    emit({
      filename: next.filename,
      status: next.status,
      ...(next.name !== null ? { name: next.name } : {}),
      ...(next.version !== null ? { version: next.version } : {}),
      ...(next.error !== null ? { error: next.error } : {}),
      isNew,
    });
    if (prev?.status === 'valid' && (next.status !== 'valid' || next.name !== prev.name)) await releasedBy(next.filename);
  }

  const broken = (filename: string, hash: string, error: string, name: string | null = null): StrategyFileRecord => ({
    filename,
    hash,
    status: 'broken',
    name,
    version: null,
    error,
    updatedAt: clock.now(),
  });

  /** Re-processes the files that were broken because `filename` owned their name. */
  async function releasedBy(filename: string): Promise<void> {
    const waiting = [...conflicts].filter(([, owner]) => owner === filename).map(([f]) => f);
    for (const f of waiting.sort()) await processFile(f, true);
  }

  async function processFile(filename: string, force: boolean): Promise<void> {
    let source: string;
    try {
      source = await readFile(path.join(dir, filename), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removeFile(filename);
      throw err;
    }
    const hash = hashSource(source);
    const prev = files.get(filename);
    if (!force && prev?.hash === hash && !conflicts.has(filename)) {
      if (prev.status === 'broken') return;
      if (prev.name !== null && prev.version !== null && byKey.has(keyOf(prev.name, prev.version))) return;
    }
    conflicts.delete(filename);

    let version = byHash.get(hash);
    let compiled: string | null = null;
    let meta: StrategyVersionRecord['meta'] | null = null;
    let name: string;
    if (version) {
      name = version.name;
    } else {
      const built = await compileStrategy(source, filename, dir);
      if (!built.ok) return record(broken(filename, hash, built.error), false);
      const inspected = await pool.inspect(built.code);
      if (!inspected.ok) return record(broken(filename, hash, inspected.error), false);
      const { name: declared, ...rest } = inspected.meta;
      name = declared;
      compiled = built.code;
      meta = rest;
    }
    const owner = ownerOf(name, filename);
    if (owner !== undefined) {
      conflicts.set(filename, owner);
      return record(broken(filename, hash, `strategy name '${name}' is already defined by ${owner}`, name), false);
    }
    let isNew = false;
    if (!version) {
      version = await repo.insertVersion({
        name,
        hash,
        filename,
        language: STRATEGY_EXTENSIONS[path.extname(filename)] ?? 'js',
        source,
        compiled: compiled!,
        meta: meta!,
        createdAt: clock.now(),
      });
      isNew = !byKey.has(keyOf(version.name, version.version));
      remember(version);
    }
    await record(
      { filename, hash, status: 'valid', name, version: version.version, error: null, updatedAt: clock.now() },
      isNew,
    );
  }

  async function removeFile(filename: string): Promise<void> {
    conflicts.delete(filename);
    const prev = files.get(filename);
    if (!prev) return;
    await repo.deleteFile(filename);
    files.delete(filename);
    log?.info({ filename }, 'strategy file removed');
    emit({
      filename,
      status: 'removed',
      ...(prev.name !== null ? { name: prev.name } : {}),
      ...(prev.version !== null ? { version: prev.version } : {}),
      isNew: false,
    });
    if (prev.status === 'valid') await releasedBy(filename);
  }

  async function listFolder(): Promise<string[]> {
    try {
      return (await readdir(dir)).filter(isStrategyFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      log?.warn({ dir }, 'strategy folder does not exist');
      return [];
    }
  }

  let watcher: FSWatcher | null = null;
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const later = (key: string, job: () => Promise<void>): void => {
    const pending = timers.get(key);
    if (pending) clearTimeout(pending);
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        enqueue(job).catch((err: unknown) => log?.error({ err: errorMessage(err), file: key }, 'strategy file processing failed'));
      }, debounceMs),
    );
  };

  const scanJob = async (): Promise<void> => {
    const [versions, stored] = await Promise.all([repo.listVersions(), repo.listFiles()]);
    for (const v of versions) remember(v);
    for (const f of stored) files.set(f.filename, f);
    const present = await listFolder();
    const here = new Set(present);
    for (const f of [...files.keys()]) if (!here.has(f)) await removeFile(f);
    // Files that owned a name keep it: process them before the others.
    const owned = (f: string): number => (files.get(f)?.status === 'valid' ? 0 : 1);
    const order = present.sort((a, b) => owned(a) - owned(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const f of order) await processFile(f, files.get(f)?.status === 'broken');
  };

  return {
    scan: () => enqueue(scanJob),
    watch() {
      if (watcher) return;
      try {
        watcher = fsWatch(dir, (_event, filename) => {
          if (filename === null) later('*', scanJob);
          else if (isStrategyFile(filename)) later(filename, () => processFile(filename, false));
        });
        watcher.on('error', (err) => log?.error({ err: errorMessage(err), dir }, 'strategy folder watch failed'));
      } catch (err) {
        log?.error({ err: errorMessage(err), dir }, 'cannot watch the strategy folder');
      }
    },
    close() {
      watcher?.close();
      watcher = null;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
    settled: () => queue,
    versions: () => [...byKey.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version)),
    files: () => [...files.values()].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0)),
    get: (name, version) => byKey.get(keyOf(name, version)),
    latest: (name) => latestByName.get(name),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
