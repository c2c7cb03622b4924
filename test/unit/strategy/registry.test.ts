import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStrategyPool } from '../../../runtime/strategy/pool.ts';
import type { StrategyPool } from '../../../runtime/strategy/pool.ts';
import { createRegistry } from '../../../runtime/strategy/registry.ts';
import type { Registry, RegistryChange } from '../../../runtime/strategy/registry.ts';
import { createFakeStrategiesRepo } from './helpers/fake-repo.ts';
import type { FakeStrategiesRepo } from './helpers/fake-repo.ts';
import { filledWindows, FIXTURES, SAMPLES, SYMBOLS } from './helpers/fixtures.ts';

const strategy = (name: string, weight: number, extra = '') => `
import { defineStrategy, z } from '@platform/strategy';
export default defineStrategy({
  name: '${name}',
  description: 'weight ${weight}',
  params: z.object({ w: z.number().min(0).max(1) }),
  defaults: { w: ${weight} },
  universe: ['BTCUSDT'],
  compute: (_ctx, p) => ({ BTCUSDT: { weight: p.w } }),
});
${extra}`;

describe('strategy registry', () => {
  let pool: StrategyPool;
  let dir: string;
  let repo: FakeStrategiesRepo;
  let registry: Registry;
  let changes: RegistryChange[];
  let now: number;

  beforeAll(() => {
    pool = createStrategyPool({ windows: filledWindows(2).handle(), knownSymbols: SYMBOLS, threads: 1, timeoutMs: 1000 });
  });
  afterAll(() => pool.close());

  const open = (r: FakeStrategiesRepo = repo): Registry => {
    const reg = createRegistry({ dir, repo: r, pool, clock: { now: () => now }, debounceMs: 20 });
    reg.onChange((c) => changes.push(c));
    return reg;
  };
  const write = (file: string, text: string) => writeFileSync(path.join(dir, file), text);
  const fixture = (file: string) => copyFileSync(path.join(FIXTURES, file), path.join(dir, file));
  const fileStatus = (reg: Registry, filename: string) => reg.files().find((f) => f.filename === filename);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'registry-'));
    repo = createFakeStrategiesRepo();
    changes = [];
    now = 1_000;
    registry = open();
  });
  afterEach(() => {
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers each strategy file as version 1 with its source, bundle and metadata', async () => {
    write('alpha.ts', strategy('alpha', 0.5));
    write('beta.js', strategy('beta', 0.25).replace('(_ctx, p)', '(_ctx, p)'));
    write('notes.md', '# not a strategy');
    await registry.scan();

    expect(registry.versions().map((v) => `${v.name}@${v.version}:${v.language}`)).toEqual(['alpha@1:ts', 'beta@1:js']);
    const alpha = registry.get('alpha', 1)!;
    expect(alpha.source).toBe(readFileSync(path.join(dir, 'alpha.ts'), 'utf8'));
    expect(alpha.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(alpha.compiled).not.toContain('@platform/strategy');
    expect(alpha.createdAt).toBe(1_000);
    expect(alpha.meta).toMatchObject({ description: 'weight 0.5', defaults: { w: 0.5 }, universe: ['BTCUSDT'], timeframe: '1m', lookback: 0 });
    expect(alpha.meta.paramsSchema).toMatchObject({ type: 'object', properties: { w: { type: 'number', minimum: 0, maximum: 1 } } });
    expect(registry.files().map((f) => [f.filename, f.status, f.name, f.version])).toEqual([
      ['alpha.ts', 'valid', 'alpha', 1],
      ['beta.js', 'valid', 'beta', 1],
    ]);
    expect(changes.map((c) => [c.filename, c.status, c.isNew])).toEqual([
      ['alpha.ts', 'valid', true],
      ['beta.js', 'valid', true],
    ]);
  });

  it('bundles a module that runs in a worker: the compiled code computes what the source says', async () => {
    write('alpha.ts', strategy('alpha', 0.5));
    await registry.scan();
    const v = registry.latest('alpha')!;
    const results = await pool.computeBatch({ ref: 'alpha@1', compiled: v.compiled }, [
      { traderId: 't', params: { w: 0.3 }, now: 0, equity: 1, positions: {} },
    ]);
    expect(results.get('t')).toMatchObject({ ok: true, targets: { BTCUSDT: { weight: 0.3 } } });
  });

  it('makes a changed file a new immutable version and keeps the old one as it was', async () => {
    write('alpha.ts', strategy('alpha', 0.5));
    await registry.scan();
    const v1 = registry.get('alpha', 1)!;
    write('alpha.ts', strategy('alpha', 0.7));
    now = 2_000;
    await registry.scan();

    const v2 = registry.get('alpha', 2)!;
    expect(v2.meta.defaults).toEqual({ w: 0.7 });
    expect(registry.latest('alpha')?.version).toBe(2);
    expect(registry.get('alpha', 1)).toEqual(v1);
    expect(v1.meta.defaults).toEqual({ w: 0.5 });
    expect(fileStatus(registry, 'alpha.ts')).toMatchObject({ status: 'valid', version: 2, updatedAt: 2_000 });
    expect(changes.at(-1)).toMatchObject({ filename: 'alpha.ts', status: 'valid', name: 'alpha', version: 2, isNew: true });
  });

  it('maps the same content to the existing version instead of a duplicate', async () => {
    write('alpha.ts', strategy('alpha', 0.5));
    await registry.scan();
    write('alpha.ts', strategy('alpha', 0.7));
    await registry.scan();
    write('alpha.ts', strategy('alpha', 0.5));
    await registry.scan();
    await registry.scan();

    expect(repo.inserts).toBe(2);
    expect(registry.versions().map((v) => v.version)).toEqual([1, 2]);
    expect(fileStatus(registry, 'alpha.ts')).toMatchObject({ status: 'valid', version: 1 });
    expect(changes.map((c) => [c.version, c.isNew])).toEqual([
      [1, true],
      [2, true],
      [1, false],
    ]);
  });

  it('loads versions from the repo at scan and does not re-register unchanged files after a restart', async () => {
    write('alpha.ts', strategy('alpha', 0.5));
    await registry.scan();
    changes = [];
    const restarted = open();
    expect(restarted.get('alpha', 1)).toBeUndefined();
    await restarted.scan();
    expect(restarted.get('alpha', 1)?.meta.defaults).toEqual({ w: 0.5 });
    expect(repo.inserts).toBe(1);
    expect(changes).toEqual([]);
  });

  it.each([
    ['syntax-error.ts', /^SyntaxError: Expected "}" but found ";" \(syntax-error\.ts:8:39\)$/],
    ['no-default.ts', /^no default export \(export default defineStrategy\(\{ … \}\)\)$/],
    ['bad-params.ts', /^defaults do not satisfy params: lookback: Too small: expected number to be >=2$/],
    ['params-not-zod.js', /^default export is not a strategy: params is not a zod schema$/],
    ['missing-compute.js', /^default export is not a strategy: missing compute$/],
    ['throws-at-import.js', /^import failed: Error: cannot load the model$/],
    ['never-imports.mjs', /^import did not finish: timed out after 1000 ms$/],
  ])('records %s as broken with a clear error and disturbs nothing else', async (file, error) => {
    write('alpha.ts', strategy('alpha', 0.5));
    fixture(file);
    await registry.scan();

    const rec = fileStatus(registry, file)!;
    expect(rec).toMatchObject({ status: 'broken', version: null });
    expect(rec.error).toMatch(error);
    expect(changes.find((c) => c.filename === file)).toMatchObject({ status: 'broken', isNew: false });
    expect(fileStatus(registry, 'alpha.ts')).toMatchObject({ status: 'valid', version: 1 });
    expect(registry.versions().map((v) => v.name)).toEqual(['alpha']);
    expect((await repo.listFiles()).find((f) => f.filename === file)?.status).toBe('broken');
  });

  it('reports a broken file again only when it changes, and registers it once fixed', async () => {
    write('alpha.ts', 'export default {');
    await registry.scan();
    expect(fileStatus(registry, 'alpha.ts')?.status).toBe('broken');
    await registry.scan();
    expect(changes).toHaveLength(1);
    write('alpha.ts', strategy('alpha', 0.5));
    await registry.scan();
    expect(fileStatus(registry, 'alpha.ts')).toMatchObject({ status: 'valid', name: 'alpha', version: 1, error: null });
  });

  it('keeps the last good version when its file breaks: a trader pinned to it keeps running it', async () => {
    write('alpha.ts', strategy('alpha', 0.5));
    await registry.scan();
    write('alpha.ts', strategy('alpha', 0.5, 'throw new Error("oops");'));
    await registry.scan();
    expect(fileStatus(registry, 'alpha.ts')).toMatchObject({ status: 'broken', error: 'import failed: Error: oops' });
    expect(registry.latest('alpha')?.version).toBe(1);
  });

  it('refuses a second file that declares a name another file already defines, until the name is free', async () => {
    write('a.ts', strategy('dup', 0.5));
    write('b.ts', strategy('dup', 0.6));
    await registry.scan();
    expect(fileStatus(registry, 'b.ts')).toMatchObject({ status: 'broken', error: "strategy name 'dup' is already defined by a.ts" });
    expect(registry.versions().map((v) => `${v.name}@${v.version}`)).toEqual(['dup@1']);

    unlinkSync(path.join(dir, 'a.ts'));
    await registry.scan();
    expect(fileStatus(registry, 'a.ts')).toBeUndefined();
    expect(fileStatus(registry, 'b.ts')).toMatchObject({ status: 'valid', name: 'dup', version: 2 });
    expect(changes.find((c) => c.status === 'removed')).toMatchObject({ filename: 'a.ts', name: 'dup', version: 1 });
  });

  it('watches the folder: picks up a new file, a change and a removal', async () => {
    await registry.scan();
    registry.watch();
    const next = (pred: (c: RegistryChange) => boolean) =>
      new Promise<RegistryChange>((resolve) => {
        const off = registry.onChange((c) => {
          if (pred(c)) {
            off();
            resolve(c);
          }
        });
      });

    const added = next((c) => c.filename === 'gamma.ts');
    write('gamma.ts', strategy('gamma', 0.1));
    expect(await added).toMatchObject({ status: 'valid', name: 'gamma', version: 1, isNew: true });

    const changed = next((c) => c.filename === 'gamma.ts');
    write('gamma.ts', strategy('gamma', 0.2));
    expect(await changed).toMatchObject({ status: 'valid', name: 'gamma', version: 2, isNew: true });

    const removed = next((c) => c.filename === 'gamma.ts');
    unlinkSync(path.join(dir, 'gamma.ts'));
    expect(await removed).toMatchObject({ status: 'removed', name: 'gamma', version: 2 });
    expect(registry.files()).toEqual([]);
    expect(registry.get('gamma', 1)).toBeDefined();
  });

  it('accepts the sample strategies as they ship', async () => {
    const samples = createRegistry({ dir: SAMPLES, repo: createFakeStrategiesRepo(), pool, clock: { now: () => 0 } });
    await samples.scan();
    expect(samples.files().map((f) => [f.filename, f.status, f.error])).toEqual([
      ['equal-weight.ts', 'valid', null],
      ['inverse-volatility.ts', 'valid', null],
      ['momentum.ts', 'valid', null],
    ]);
  });
});
