import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MIGRATIONS_DIR,
  LOCK_FILE,
  acquireLock,
  migrate,
  openDatabase,
  openStore,
  readMigrations,
  transaction,
  type Sql,
} from '../../../runtime/store/index.ts';
import { dbTargets, freshDatabase, freshDatabaseOnOneConnection, openPglite, tempDataDir, type FreshDatabase } from '../../support/db.ts';
import { aCandle } from './builders.ts';

const HOLDER = fileURLToPath(new URL('./fixtures/hold-pglite.ts', import.meta.url));

/** A pid that belonged to a process which has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  if (r.pid === undefined) throw new Error('could not spawn a process');
  return r.pid;
}

describe('the data dir lock', () => {
  const dirs: string[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'fleet-lock-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes this process id and removes the file on release', () => {
    const d = dir();
    const release = acquireLock(d);
    expect(readFileSync(join(d, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('takes over a stale lock left by a dead process', () => {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), `${deadPid()}\n`);
    const release = acquireLock(d);
    expect(readFileSync(join(d, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('takes over an unreadable lock file', () => {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), 'garbage');
    acquireLock(d)();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('refuses a second open of a dir this process already holds', () => {
    const d = dir();
    const release = acquireLock(d);
    expect(() => acquireLock(d)).toThrow(`data dir ${d} is already open in this process`);
    release();
  });

  it('refuses a dir locked by another live process, naming the pid', () => {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), `${process.ppid}\n`);
    expect(() => acquireLock(d)).toThrow(`data dir ${d} is in use by pid ${process.ppid}`);
  });

  it('takes over a lock carrying its own pid that it does not hold (a restarted container)', () => {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), `${process.pid}\n`);
    const release = acquireLock(d);
    expect(readFileSync(join(d, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('does not remove a lock that another process took over', () => {
    const d = dir();
    const release = acquireLock(d);
    writeFileSync(join(d, LOCK_FILE), `${process.ppid}\n`);
    release();
    expect(readFileSync(join(d, LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
  });
});

describe('embedded PGlite', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('keeps committed rows when the data dir is reopened', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const first = await openPglite(dataDir);
    await first.store.candles.insertMany([aCandle({ close: '0.000000012345678901234' })]);
    await first.store.settings.set('k', { v: 1 });
    await first.close();
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

    const again = await openDatabase({ dataDir });
    try {
      const [row] = await again.sql`SELECT close::text AS close FROM candles`;
      expect(row).toEqual({ close: '0.000000012345678901234' });
      expect(await again.sql`SELECT value FROM settings WHERE key = 'k'`).toEqual([{ value: { v: 1 } }]);
    } finally {
      await again.close();
    }
  });

  it('refuses a data dir held by a live process, then takes it over after kill -9 with the committed rows', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    await (await openPglite(dataDir)).close();

    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          if (b.toString().includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`holder exited with ${code}: ${stderr}`)));
      });
      await expect(openDatabase({ dataDir })).rejects.toThrow(`data dir ${dataDir} is in use by pid ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    const db = await openDatabase({ dataDir });
    try {
      expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
      expect(await db.sql`SELECT value FROM settings WHERE key = 'held-by'`).toEqual([{ value: child.pid }]);
    } finally {
      await db.close();
    }
  });

  it('opens, migrates and closes through openStore', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const { store, kind, url } = await openStore({ dataDir: join(dataDir, 'nested', 'db') });
    try {
      expect(kind).toBe('pglite');
      expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(await store.candles.latestOpenTime('BTCUSDT', '1m')).toBeNull();
    } finally {
      await store.close();
    }
    expect(existsSync(join(dataDir, 'nested', 'db', LOCK_FILE))).toBe(false);
  });
});

describe.each(dbTargets())('migrations on $name', (target) => {
  let db: FreshDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await freshDatabase(target);
    dir = mkdtempSync(join(tmpdir(), 'fleet-migrations-'));
  });
  afterAll(async () => {
    await db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records every repository migration and applies nothing twice', async () => {
    const rows = await db.sql`SELECT version, filename FROM schema_migrations ORDER BY version`;
    expect(rows.map((r) => r['filename'])).toEqual(readMigrations(DEFAULT_MIGRATIONS_DIR).map((f) => f.filename));
    expect(rows[0]?.['filename']).toBe('001_init.sql');
    expect(await migrate(db.sql)).toEqual([]);
  });

  it('applies new files in numeric order exactly once, even when two runners race', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '9010_second.sql'), "INSERT INTO m_test (note) VALUES ('second');");
    writeFileSync(join(dir, '9002_first.sql'), "CREATE TABLE m_test (note TEXT NOT NULL);\nINSERT INTO m_test (note) VALUES ('first');");
    writeFileSync(join(dir, 'README.md'), 'not a migration');

    const other = db.databaseUrl ? await openDatabase({ databaseUrl: db.databaseUrl, dataDir: '' }) : null;
    try {
      const [a, b] = await Promise.all([migrate(db.sql, dir), migrate(other?.sql ?? db.sql, dir)]);
      expect([...a, ...b].sort()).toEqual(['9002_first.sql', '9010_second.sql']);
    } finally {
      await other?.close();
    }
    expect(await db.sql`SELECT note FROM m_test ORDER BY note`).toEqual([{ note: 'first' }, { note: 'second' }]);
    expect(await migrate(db.sql, dir)).toEqual([]);
  });

  it('rolls back a failing migration and does not record it', async () => {
    writeFileSync(join(dir, '9020_broken.sql'), 'CREATE TABLE m_half (x INT);\nSELECT no_such_function();');
    await expect(migrate(db.sql, dir)).rejects.toThrow(/no_such_function/);
    expect(await db.sql`SELECT to_regclass('m_half') AS t`).toEqual([{ t: null }]);
    expect(await db.sql`SELECT 1 FROM schema_migrations WHERE version = 9020`).toEqual([]);
    rmSync(join(dir, '9020_broken.sql'));
  });

  it('refuses two files with the same number', async () => {
    writeFileSync(join(dir, '9030_a.sql'), 'SELECT 1;');
    writeFileSync(join(dir, '9030_b.sql'), 'SELECT 1;');
    await expect(migrate(db.sql, dir)).rejects.toThrow('two migrations share version 9030: 9030_a.sql, 9030_b.sql');
  });
});

describe.each(dbTargets())('transactions on $name', (target) => {
  let db: Awaited<ReturnType<typeof freshDatabaseOnOneConnection>>;
  let client: Sql;
  beforeAll(async () => {
    // One connection, as on PGlite: every query of the test shares its pipeline.
    db = await freshDatabaseOnOneConnection(target);
    client = db.sql;
    await client`CREATE TABLE tx_probe (id INT NOT NULL)`;
  });
  afterAll(() => db?.cleanup());

  it('starts behind a full pipeline on its connection and commits (the driver’s own begin crashes there)', async () => {
    // postgres.js pipelines up to 100 queries on a connection; the transaction is queued behind
    // 95–105 of them, so one of these rounds puts its BEGIN exactly at the limit.
    for (let ahead = 95; ahead <= 105; ahead++) {
      const before = Array.from({ length: ahead }, (_, i) => client`SELECT ${i}::int AS i`.execute());
      const done = transaction(client, async (tx) => {
        await tx`INSERT INTO tx_probe (id) VALUES (${ahead})`;
        return ahead;
      });
      const after = Array.from({ length: 20 }, (_, i) => client`SELECT ${i}::int AS i`.execute());
      expect(await done).toBe(ahead);
      expect((await Promise.all([...before, ...after])).map((r) => r[0]?.['i'])).toEqual([
        ...Array.from({ length: ahead }, (_, i) => i),
        ...Array.from({ length: 20 }, (_, i) => i),
      ]);
    }
    const rows = await client<{ id: number }[]>`SELECT id FROM tx_probe ORDER BY id`;
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 11 }, (_, i) => 95 + i));
  });

  it('rolls back what a failing transaction wrote and leaves the connection outside any transaction', async () => {
    await expect(
      transaction(client, async (tx) => {
        await tx`INSERT INTO tx_probe (id) VALUES (-1)`;
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    // A statement that fails inside: the database's reason comes out, nothing stays.
    await expect(
      transaction(client, async (tx) => {
        await tx`INSERT INTO tx_probe (id) VALUES (-2)`;
        await tx`INSERT INTO tx_probe (id) VALUES (NULL)`;
      }),
    ).rejects.toThrow(/null value/);
    expect(await client`SELECT id FROM tx_probe WHERE id < 0`).toEqual([]);
    // Outside a transaction, now() moves from one statement to the next; inside one it would not.
    const [a] = await client<{ t: string }[]>`SELECT now()::text AS t`;
    await new Promise((r) => setTimeout(r, 5));
    const [b] = await client<{ t: string }[]>`SELECT now()::text AS t`;
    expect(b?.t).not.toBe(a?.t);
  });
});
