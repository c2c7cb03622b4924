/**
 * The store's public surface: open the database, migrate it, build the repositories.
 */
import { openDatabase, type OpenDatabaseOptions } from './db.ts';
import { migrate } from './migrate.ts';
import { createStore } from './store.ts';
import type { Store } from './types.ts';

export {
  LOCK_FILE,
  PGLITE_CLIENT_POOL,
  PGLITE_SERVER_CONNECTIONS,
  acquireLock,
  clientTypes,
  openDatabase,
  transaction,
  type Database,
  type DbLogger,
  type OpenDatabaseOptions,
  type Sql,
  type TxSql,
} from './db.ts';
export { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations, type MigrationFile } from './migrate.ts';
export { createStore } from './store.ts';
export type * from './types.ts';

/** Opens the database, applies pending migrations and returns a store that closes the database with it. */
export async function openStore(
  opts: OpenDatabaseOptions & { migrationsDir?: string },
): Promise<{ store: Store; kind: 'pglite' | 'postgres'; url: string }> {
  const db = await openDatabase(opts);
  try {
    await migrate(db.sql, opts.migrationsDir, opts.log ? { log: opts.log } : {});
  } catch (err) {
    await db.close();
    throw err;
  }
  return { store: createStore(db.sql, db.close), kind: db.kind, url: db.url };
}
