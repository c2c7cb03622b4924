/**
 * The harness every database test uses: which targets to run on, and a fresh, migrated,
 * isolated database per test file on each.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { clientTypes, createStore, migrate, openDatabase, type Sql, type Store } from '../../runtime/store/index.ts';

/** A database engine the DB tests run on. */
export type DbTargetName = 'pglite' | 'postgres';

/** One database target, as `describe.each(dbTargets())` receives it. */
export interface DbTarget {
  readonly name: DbTargetName;
}

/** A fresh database for one test file. */
export interface FreshDatabase {
  readonly sql: Sql;
  readonly store: Store;
  /** The PostgreSQL database's URL (postgres target only). */
  readonly databaseUrl?: string;
  /** The PGlite data dir (pglite target only). */
  readonly dataDir?: string;
  /** Closes the store and drops the database or removes the data dir. */
  cleanup(): Promise<void>;
}

/** The PostgreSQL server the postgres target uses (`TEST_DATABASE_URL`, default loopback 5432). */
export const ADMIN_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const inCi = (() => {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
})();

async function probePostgres(): Promise<string | null> {
  const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

// Probed once at import: describe.each needs the targets synchronously.
const postgresProblem = await probePostgres();
let skipNoticePrinted = false;

/**
 * The database targets to run DB tests on: always 'pglite'; 'postgres' when reachable (in CI:
 * required, and its absence fails loudly; outside CI: skipped with a printed reason).
 */
export function dbTargets(): Array<DbTarget> {
  if (postgresProblem === null) return [{ name: 'pglite' }, { name: 'postgres' }];
  if (inCi) throw new Error(`CI requires PostgreSQL at ${redact(ADMIN_URL)} for the DB tests: ${postgresProblem}`);
  if (!skipNoticePrinted) {
    skipNoticePrinted = true;
    console.warn(`skipping the postgres DB target: ${redact(ADMIN_URL)} is unreachable (${postgresProblem})`);
  }
  return [{ name: 'pglite' }];
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

let template: Promise<Blob> | null = null;

/** initdb + migrate once per process, in memory; every PGlite test database starts from this dump. */
function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      await migrate(db.sql);
      return await db.pglite!.dumpDataDir('none');
    } finally {
      await db.close();
    }
  })();
  return template;
}

/** A new temp dir for a PGlite data dir; the caller removes it. */
export function tempDataDir(prefix = 'fleet-pglite-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Opens a migrated PGlite database in `dataDir` (from the template when the dir is new). */
export async function openPglite(dataDir: string): Promise<{ sql: Sql; store: Store; close(): Promise<void> }> {
  const db = await openDatabase({ dataDir, template: await pgliteTemplate() });
  await migrate(db.sql);
  return { sql: db.sql, store: createStore(db.sql, db.close), close: db.close };
}

/**
 * A fresh database (see {@link freshDatabase}) reached through a client of one connection, so
 * every query of a test shares one pipeline (as on PGlite, whose own client already has a single
 * connection) and one session's prepared statements. `cleanup` ends the client and the database.
 */
export async function freshDatabaseOnOneConnection(target: DbTarget): Promise<{ readonly sql: Sql; cleanup(): Promise<void> }> {
  const db = await freshDatabase(target);
  if (db.databaseUrl === undefined) return { sql: db.sql, cleanup: db.cleanup };
  const sql = postgres(db.databaseUrl, { max: 1, types: clientTypes, onnotice: () => {} }) as unknown as Sql;
  return {
    sql,
    cleanup: async () => {
      try {
        await sql.end();
      } finally {
        await db.cleanup();
      }
    },
  };
}

/**
 * Creates a fresh, migrated, isolated database for one test file: PGlite in a temp dir (from a
 * per-process template), or a new PostgreSQL database `t_<random>` dropped on cleanup.
 */
export async function freshDatabase(target: DbTarget): Promise<FreshDatabase> {
  if (target.name === 'pglite') {
    const dataDir = tempDataDir();
    let opened: Awaited<ReturnType<typeof openPglite>>;
    try {
      opened = await openPglite(dataDir);
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
    return {
      sql: opened.sql,
      store: opened.store,
      dataDir,
      cleanup: async () => {
        try {
          await opened.store.close();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  }
  const { databaseUrl, drop } = await emptyPostgresDatabase();
  try {
    const db = await openDatabase({ databaseUrl, dataDir: '' });
    const store = createStore(db.sql, db.close);
    try {
      await migrate(db.sql);
    } catch (err) {
      await store.close();
      throw err;
    }
    return {
      sql: db.sql,
      store,
      databaseUrl,
      cleanup: async () => {
        try {
          await store.close();
        } finally {
          await drop();
        }
      },
    };
  } catch (err) {
    await drop();
    throw err;
  }
}

/** Creates an empty (unmigrated) PostgreSQL database; returns its URL and a dropper. */
export async function emptyPostgresDatabase(): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin`CREATE DATABASE ${admin(name)}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { databaseUrl: url.toString(), drop: () => dropDatabase(name) };
}

async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin`DROP DATABASE IF EXISTS ${admin(name)} WITH (FORCE)`);
}

async function withAdmin<T>(fn: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    return await fn(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
