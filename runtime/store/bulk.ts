/**
 * Bulk writes: many rows in one statement whose text never depends on the row count.
 *
 * The rows travel as one JSON array of arrays, a single bind parameter, expanded on the server
 * (`jsonb_array_elements`) and cast column by column. A `VALUES` list would make every row count
 * a statement text of its own: each new one costs a describe round trip, and the driver and the
 * server keep every one they have seen as a prepared statement for the connection's lifetime
 * (measured: 250 row counts of one 8-column insert held 46 MiB in a PostgreSQL backend). One
 * statement per table stays prepared, and the rows are serialized by one native
 * `JSON.stringify` instead of one driver call per value.
 */
import { processTurns } from '../turns.ts';
import { transaction, type Sql, type TxSql } from './db.ts';

/** A column's SQL type; `jsonb?` stores a JSON `null` as SQL NULL. */
export type ColumnType = 'text' | 'bigint' | 'integer' | 'numeric' | 'double precision' | 'boolean' | 'jsonb' | 'jsonb?';

/** A prepared bulk statement: its SQL, and the columns each row array fills, in order. */
export interface BulkStatement {
  readonly table: string;
  readonly sql: string;
  readonly columns: readonly string[];
  readonly types: readonly ColumnType[];
}

/**
 * Cells (rows × columns) per statement. The driver sends a statement in one synchronous stretch
 * of the event loop, so a statement is kept to a few milliseconds of serialization; a write of
 * more rows is several statements, pipelined in one transaction.
 */
export const MAX_CELLS = 2_000;

/** `INSERT INTO table (columns) SELECT … FROM the JSON rows` followed by `tail` (ON CONFLICT, RETURNING). */
export function bulkInsert(table: string, columns: readonly (readonly [string, ColumnType])[], tail = ''): BulkStatement {
  const cells = columns.map(([, type], i) => {
    if (type === 'text') return `r->>${i}`;
    if (type === 'jsonb') return `r->${i}`;
    if (type === 'jsonb?') return `NULLIF(r->${i}, 'null'::jsonb)`;
    return `(r->>${i})::${type}`;
  });
  const names = columns.map(([name]) => name);
  return {
    table,
    sql: `INSERT INTO ${table} (${names.join(', ')}) SELECT ${cells.join(', ')} FROM jsonb_array_elements($1::text::jsonb) AS r ${tail}`.trim(),
    columns: names,
    types: columns.map(([, type]) => type),
  };
}

const NUMBER_TYPES: ReadonlySet<ColumnType> = new Set(['bigint', 'integer', 'numeric', 'double precision']);

/**
 * The rows as the statement's one parameter. Checked as the driver would check bind values: an
 * `undefined` cell throws; a number that JSON cannot carry (NaN, ±Infinity) goes as its text, so
 * a float column stores it and an integer column refuses it, instead of it turning into NULL
 * (the cell is replaced in the caller's row).
 * Text the database cannot store (a NUL character, half of a surrogate pair) is replaced by
 * U+FFFD wherever it occurs, nested JSON included, rather than failing every row of the write.
 */
export function encodeRows(st: BulkStatement, rows: readonly (readonly unknown[])[]): string {
  const { types } = st;
  for (const row of rows) {
    if (row.length !== types.length) throw new TypeError(`${st.table}: a row has ${row.length} cells, the statement ${types.length}`);
    for (let k = 0; k < types.length; k++) {
      const v = row[k];
      if (v === undefined) throw new TypeError(`${st.table}.${st.columns[k]}: undefined is not a value (use null)`);
      if (typeof v === 'number' && !Number.isFinite(v) && NUMBER_TYPES.has(types[k]!)) (row as unknown[])[k] = String(v);
    }
  }
  const text = JSON.stringify(rows);
  // JSON.stringify writes a NUL and half a surrogate pair as \u escapes (a valid pair as itself);
  // PostgreSQL's JSON parser refuses both. Rare: only then is every string visited.
  if (!text.includes('\\u') || !UNSTORABLE_ESCAPE.test(text)) return text;
  return JSON.stringify(rows, (_key, v: unknown) => (typeof v === 'string' ? storable(v) : v));
}

const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/** ES2024 string methods (Node 20 has them; the ES2023 lib does not declare them). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

function storable(s: string): string {
  const w = s as unknown as WellFormed;
  const whole = w.isWellFormed() ? s : w.toWellFormed();
  return whole.includes('\u0000') ? whole.replaceAll('\u0000', '\uFFFD') : whole;
}

/**
 * Sends the chunks of a bulk write on one connection without waiting for each reply (pipelined),
 * a turn of the event loop apart: the server executes one while the driver builds the next, and
 * no turn builds more than one. The first failure is thrown once every chunk has answered.
 */
async function pipelined<T>(rows: readonly T[], size: number, send: (chunk: T[]) => Promise<unknown>): Promise<void> {
  const sent: Promise<unknown>[] = [];
  for (let i = 0; i < rows.length; i += size) {
    if (i > 0) await processTurns.next();
    // `Promise.resolve` calls the query's `then`, which is what sends it.
    sent.push(Promise.resolve(send(rows.slice(i, i + size))));
  }
  const failed = (await Promise.allSettled(sent)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function rowsPerStatement(st: BulkStatement): number {
  return Math.max(1, Math.floor(MAX_CELLS / st.types.length));
}

function run<R>(q: Sql | TxSql, st: BulkStatement, chunk: readonly (readonly unknown[])[]): Promise<R[]> {
  return q.unsafe(st.sql, [encodeRows(st, chunk)], { prepare: true }) as unknown as Promise<R[]>;
}

/**
 * Writes `rows` with `st`: one statement, or, past {@link MAX_CELLS}, several statements
 * pipelined in one transaction, so the write is stored whole or not at all. Returns the rows the
 * statement's RETURNING clause gave, in statement order.
 */
export async function writeRows<R = Record<string, unknown>>(sql: Sql, st: BulkStatement, rows: readonly (readonly unknown[])[]): Promise<R[]> {
  if (rows.length === 0) return [];
  const size = rowsPerStatement(st);
  if (rows.length <= size) return run<R>(sql, st, rows);
  const out: R[][] = [];
  await transaction(sql, (tx) => pipelined(rows, size, async (chunk) => out.push(await run<R>(tx, st, chunk))));
  return out.flat();
}

/** {@link writeRows} inside a transaction the caller holds. */
export async function writeRowsIn(tx: TxSql, st: BulkStatement, rows: readonly (readonly unknown[])[]): Promise<void> {
  await pipelined(rows, rowsPerStatement(st), (chunk) => run(tx, st, chunk));
}
