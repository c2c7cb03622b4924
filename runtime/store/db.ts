/**
 * Opens the system of record: PostgreSQL when a URL is configured, otherwise embedded PGlite
 * served on a loopback socket so that the same `postgres` client code talks to both.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
// Types only: PGlite (~40 MiB once loaded) is imported when a node actually embeds it.
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';

/** The SQL client every repository uses (porsager's `postgres`). */
export type Sql = postgres.Sql;

/** The connection a {@link transaction} runs on. */
export type TxSql = postgres.ReservedSql;

/**
 * Runs `fn` in one transaction on a connection of its own: committed when `fn` resolves, rolled
 * back when it throws (the error is rethrown).
 *
 * Not `sql.begin`: postgres.js (3.4.9) reserves a connection for a transaction only when its
 * BEGIN leaves room in that connection's pipeline. When BEGIN is the query that fills it (100
 * queries in flight on the connection, which a wave's pipelined writes reach), the transaction's
 * first query throws a TypeError out of the driver and takes the process down on a pool of one
 * (PGlite), or fails with UNSAFE_TRANSACTION and leaves the server's transaction open on a pooled
 * connection (porsager/postgres#1189). `sql.reserve()` hands over an idle connection whole.
 *
 * `fn` must let its statements' errors through: a connection lost under the transaction is
 * known from them (the driver would otherwise be asked to roll back on a closed socket).
 */
export async function transaction<T>(sql: Sql, fn: (tx: TxSql) => Promise<T>): Promise<T> {
  const tx = await sql.reserve();
  // A connection that closed under the transaction is already back in the pool's closed list
  // (it reconnects on its next use); releasing it would put its dead socket in the open list.
  let lost = false;
  const note = (err: unknown): unknown => {
    if (isConnectionError(err)) lost = true;
    return err;
  };
  try {
    await tx`BEGIN`;
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      note(err);
      if (!lost) await tx`ROLLBACK`.catch(note);
      throw err;
    }
    await tx`COMMIT`;
    return result;
  } catch (err) {
    throw note(err);
  } finally {
    if (!lost) tx.release();
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('CONNECTION_');
}

/** The subset of a pino logger the database layer writes to. */
export interface DbLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when unset, an embedded PGlite database in `dataDir` is used. */
  readonly databaseUrl?: string;
  /** The PGlite data folder (created when missing); `memory://` keeps it in memory, unlocked. */
  readonly dataDir: string;
  readonly log?: DbLogger;
  /** A PGlite `dumpDataDir()` tarball to start from when `dataDir` holds no database yet. */
  readonly template?: Blob;
}

/** An open database: the client, what is behind it, and how to close it. */
export interface Database {
  readonly sql: Sql;
  readonly kind: 'pglite' | 'postgres';
  /** The database's URL; for PGlite the loopback socket, which admits only this client's one connection. */
  readonly url: string;
  /** The embedded instance, or null on PostgreSQL. */
  readonly pglite: PGlite | null;
  /** Ends the client, stops the socket server, closes PGlite and releases the lock file. */
  close(): Promise<void>;
}

/**
 * Connections the PGlite socket server accepts. One: the server multiplexes connections per
 * protocol message, so another connection's query landing between a Bind and its Execute
 * replaces or drops the unnamed portal (measured: `portal "" does not exist` with a pool of 4
 * running transactions beside reads), and could hand one query another's rows.
 */
export const PGLITE_SERVER_CONNECTIONS = 1;
/** The main client's pool size on PGlite (≤ the server's connections, or queries fail or hang). */
export const PGLITE_CLIENT_POOL = 1;

/** Name of the pid lock file inside a PGlite data dir. */
export const LOCK_FILE = 'fleet.pid';

/** Client type settings: BIGINT (int8) as JS numbers, since every BIGINT here is an epoch ms or an id. */
export const clientTypes = {
  bigint: {
    to: 20,
    from: [20],
    serialize: (x: number | bigint | string) => String(x),
    parse: (x: string): number => {
      const n = Number(x);
      if (!Number.isSafeInteger(n)) throw new Error(`BIGINT ${x} is outside JavaScript's safe integer range`);
      return n;
    },
  },
};

const silent = (): void => {};

/** Opens PostgreSQL (when `databaseUrl` is set) or embedded PGlite behind a loopback socket. */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const sql = postgres(opts.databaseUrl, { max: 10, onnotice: silent, types: clientTypes }) as unknown as Sql;
    opts.log?.info({ kind: 'postgres' }, 'database: PostgreSQL');
    return {
      sql,
      kind: 'postgres',
      url: opts.databaseUrl,
      pglite: null,
      close: async () => {
        await sql.end({ timeout: 5 });
      },
    };
  }
  return openEmbedded(opts);
}

async function openEmbedded(opts: OpenDatabaseOptions): Promise<Database> {
  const inMemory = opts.dataDir.startsWith('memory://');
  let release: () => void = silent;
  if (!inMemory) {
    mkdirSync(opts.dataDir, { recursive: true });
    release = acquireLock(opts.dataDir);
  }
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    const fresh = inMemory || !hasDatabase(opts.dataDir);
    const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]);
    db = await PGlite.create({
      dataDir: opts.dataDir,
      ...(fresh && opts.template ? { loadDataDir: opts.template } : {}),
    });
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: PGLITE_SERVER_CONNECTIONS });
    await server.start();
    const port = Number(server.getServerConn().split(':').pop());
    if (!Number.isInteger(port) || port <= 0) throw new Error(`pglite socket server reported no port: ${server.getServerConn()}`);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const sql = postgres(url, { max: PGLITE_CLIENT_POOL, onnotice: silent, types: clientTypes }) as unknown as Sql;
    opts.log?.info({ kind: 'pglite', dataDir: opts.dataDir, port }, 'database: embedded PGlite');
    const pg = db;
    const srv = server;
    let closed: Promise<void> | null = null;
    return {
      sql,
      kind: 'pglite',
      url,
      pglite: pg,
      close: () => {
        closed ??= (async () => {
          try {
            await sql.end({ timeout: 5 });
            await srv.stop();
            await pg.close();
          } finally {
            release();
          }
        })();
        return closed;
      },
    };
  } catch (err) {
    await server?.stop().catch(silent);
    await db?.close().catch(silent);
    release();
    throw err;
  }
}

function hasDatabase(dataDir: string): boolean {
  try {
    readFileSync(join(dataDir, 'PG_VERSION'));
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (two opens of one dir in one process would corrupt it too). */
const heldHere = new Set<string>();

/**
 * Takes the data dir's pid lock (a stale lock left by a dead process is taken over) and
 * returns its release; throws when a live process holds it, since two PGlite instances on one
 * dir corrupt it.
 */
export function acquireLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  if (heldHere.has(path)) throw new Error(`data dir ${dataDir} is already open in this process (lock file ${path})`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      let released = false;
      heldHere.add(path);
      return () => {
        if (released) return;
        released = true;
        heldHere.delete(path);
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    } catch {
      continue; // removed between our open and read: try again
    }
    // Our own pid in a lock this process does not hold is a stale lock from an earlier life
    // (containers restart with the same pid, often 1).
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new Error(`data dir ${dataDir} is in use by pid ${holder} (lock file ${path})`);
    }
    try {
      unlinkSync(path);
    } catch {
      // Someone else took the stale lock over first; the next attempt sees theirs.
    }
  }
  throw new Error(`could not take the lock file ${path}`);
}
