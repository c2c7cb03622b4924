/**
 * The migrations runner: numbered plain-SQL files applied in order, each in its own
 * transaction, recorded in `schema_migrations`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transaction, type DbLogger, type Sql } from './db.ts';

/** The repository's `sql/` folder. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

/** Advisory-lock namespace of the migrations runner (first key of the two-int form). */
const MIGRATION_LOCK = [0x6d696772, 1] as const;

const FILE = /^(\d+)_[A-Za-z0-9_.-]+\.sql$/;

/** One migration file found on disk. */
export interface MigrationFile {
  readonly version: number;
  readonly filename: string;
  readonly checksum: string;
  readonly text: string;
}

/** Lists the numbered `*.sql` files of a folder in version order; throws on a duplicate number. */
export function readMigrations(dir: string): MigrationFile[] {
  const files: MigrationFile[] = [];
  for (const filename of readdirSync(dir)) {
    const m = FILE.exec(filename);
    if (!m) continue;
    const text = readFileSync(join(dir, filename), 'utf8');
    files.push({
      version: Number(m[1]),
      filename,
      checksum: createHash('sha256').update(text).digest('hex'),
      text,
    });
  }
  files.sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.version === files[i - 1]!.version)
      throw new Error(`two migrations share version ${files[i]!.version}: ${files[i - 1]!.filename}, ${files[i]!.filename}`);
  }
  return files;
}

/**
 * Applies the migrations of `dir` not yet recorded, in order, each in one transaction; safe to
 * run concurrently on PostgreSQL (an advisory lock serializes runners). Returns the filenames
 * it applied.
 */
export async function migrate(sql: Sql, dir: string = DEFAULT_MIGRATIONS_DIR, opts: { log?: DbLogger } = {}): Promise<string[]> {
  const files = readMigrations(dir);
  await transaction(sql, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK[0]}::int, ${MIGRATION_LOCK[1]}::int)`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      filename    TEXT NOT NULL,
      checksum    TEXT NOT NULL,
      applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    )`;
  });
  const known = new Map<number, string>();
  for (const r of await sql<{ version: number; checksum: string }[]>`SELECT version, checksum FROM schema_migrations`)
    known.set(r.version, r.checksum);

  const applied: string[] = [];
  for (const f of files) {
    const prior = known.get(f.version);
    if (prior !== undefined) {
      if (prior !== f.checksum) opts.log?.warn({ migration: f.filename }, 'migration changed after it was applied');
      continue;
    }
    const didApply = await transaction(sql, async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK[0]}::int, ${MIGRATION_LOCK[1]}::int)`;
      // Another runner may have applied it while we waited for the lock.
      const [done] = await tx`SELECT 1 FROM schema_migrations WHERE version = ${f.version}`;
      if (done) return false;
      await tx.unsafe(f.text);
      await tx`INSERT INTO schema_migrations (version, filename, checksum)
               VALUES (${f.version}, ${f.filename}, ${f.checksum})`;
      return true;
    });
    if (didApply) {
      applied.push(f.filename);
      opts.log?.info({ migration: f.filename }, 'migration applied');
    }
  }
  return applied;
}
