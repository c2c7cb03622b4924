import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkInsert, MAX_CELLS, writeRows } from '../../../runtime/store/bulk.ts';
import type { Sql } from '../../../runtime/store/index.ts';
import { dbTargets, freshDatabaseOnOneConnection } from '../../support/db.ts';

const PROBE = bulkInsert(
  'bulk_probe',
  [
    ['id', 'bigint'],
    ['label', 'text'],
    ['amount', 'numeric'],
    ['ratio', 'double precision'],
    ['flag', 'boolean'],
    ['doc', 'jsonb'],
    ['extra', 'jsonb?'],
  ],
  'ON CONFLICT (id) DO UPDATE SET label = EXCLUDED.label RETURNING id',
);

describe.each(dbTargets())('bulk writes on $name', (target) => {
  let db: Awaited<ReturnType<typeof freshDatabaseOnOneConnection>>;
  let client: Sql;
  beforeAll(async () => {
    // One connection, so its prepared statements can be counted.
    db = await freshDatabaseOnOneConnection(target);
    client = db.sql;
    await client`CREATE TABLE bulk_probe (
      id BIGINT PRIMARY KEY, label TEXT NOT NULL, amount NUMERIC, ratio DOUBLE PRECISION, flag BOOLEAN NOT NULL,
      doc JSONB NOT NULL, extra JSONB)`;
  });
  afterAll(() => db?.cleanup());

  type Over = Partial<Record<'label' | 'amount' | 'ratio' | 'doc' | 'extra', unknown>>;
  const pick = (over: Over, key: keyof Over, fallback: unknown): unknown => (key in over ? over[key] : fallback);
  const row = (id: number, over: Over = {}): unknown[] => [
    id,
    pick(over, 'label', `row ${id}`),
    pick(over, 'amount', '0.1'),
    pick(over, 'ratio', 0.5),
    id % 2 === 0,
    pick(over, 'doc', { n: id }),
    pick(over, 'extra', null),
  ];

  it('stores every type as the columns declare and returns what RETURNING gives', async () => {
    const returned = await writeRows<{ id: number }>(client, PROBE, [
      row(1, { amount: '12345678901234567890.123456789', doc: { nested: [1, 'two', { three: null }] }, extra: { k: 'v' } }),
      row(2, { amount: null, ratio: null, doc: null }),
    ]);
    expect(returned.map((r) => r.id)).toEqual([1, 2]);
    const rows = await client`SELECT id, label, amount, ratio, flag, doc, extra, extra IS NULL AS extra_null FROM bulk_probe ORDER BY id`;
    expect(rows).toEqual([
      { id: 1, label: 'row 1', amount: '12345678901234567890.123456789', ratio: 0.5, flag: false, doc: { nested: [1, 'two', { three: null }] }, extra: { k: 'v' }, extra_null: false },
      // `jsonb?` stores JSON null as SQL NULL, `jsonb` keeps it as a JSON null.
      { id: 2, label: 'row 2', amount: null, ratio: null, flag: true, doc: null, extra: null, extra_null: true },
    ]);
    expect(await client`SELECT doc IS NULL AS sql_null FROM bulk_probe WHERE id = 2`).toEqual([{ sql_null: false }]);
  });

  it('keeps one prepared statement whatever the number of rows', async () => {
    const before = await client<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%bulk_probe%'`;
    for (let n = 1; n <= 30; n++) await writeRows(client, PROBE, Array.from({ length: n }, (_, i) => row(1000 + i)));
    const after = await client<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%bulk_probe%'`;
    expect(after[0]!.n).toBe(Math.max(1, before[0]!.n));
  });

  it('writes more rows than one statement takes in one transaction: all of them, or none when one is refused', async () => {
    const perStatement = Math.floor(MAX_CELLS / PROBE.types.length);
    const many = Array.from({ length: perStatement * 3 + 7 }, (_, i) => row(10_000 + i));
    expect((await writeRows(client, PROBE, many)).length).toBe(many.length);
    expect(await client`SELECT count(*)::int AS n FROM bulk_probe WHERE id >= 10000`).toEqual([{ n: many.length }]);

    const doomed = Array.from({ length: perStatement * 2 + 1 }, (_, i) => row(50_000 + i));
    doomed[doomed.length - 1]![1] = null; // label is NOT NULL: the last statement fails
    await expect(writeRows(client, PROBE, doomed)).rejects.toThrow(/null value in column "label"/);
    expect(await client`SELECT count(*)::int AS n FROM bulk_probe WHERE id >= 50000`).toEqual([{ n: 0 }]);
  });

  it('stores text the database cannot hold with U+FFFD in its place, at the top and nested', async () => {
    const odd = `nul\u0000 and half a pair \ud83d here`;
    await writeRows(client, PROBE, [row(3, { label: odd, doc: { message: odd, list: [odd] } }), row(4, { label: 'a "quoted" \\ text' })]);
    const rows = await client<{ label: string; doc: { message: string; list: string[] } }[]>`SELECT label, doc FROM bulk_probe WHERE id IN (3, 4) ORDER BY id`;
    const fixed = 'nul\uFFFD and half a pair \uFFFD here';
    expect(rows[0]).toEqual({ label: fixed, doc: { message: fixed, list: [fixed] } });
    expect(rows[1]!.label).toBe('a "quoted" \\ text');
  });

  it('refuses what a bind parameter could not carry, with the column named', async () => {
    const undefinedCell = row(6);
    undefinedCell[3] = undefined;
    await expect(writeRows(client, PROBE, [undefinedCell])).rejects.toThrow('bulk_probe.ratio: undefined is not a value (use null)');
    // NaN stays NaN in a float column and is refused by an integer one, as a bind value would be.
    await writeRows(client, PROBE, [row(7, { ratio: Number.NaN })]);
    expect(await client`SELECT ratio::text AS r FROM bulk_probe WHERE id = 7`).toEqual([{ r: 'NaN' }]);
    await expect(writeRows(client, PROBE, [row(Number.NaN)])).rejects.toThrow(/invalid input syntax for type bigint: "NaN"/);
    await expect(writeRows(client, PROBE, [[8, 'short row']])).rejects.toThrow('bulk_probe: a row has 2 cells, the statement 7');
  });
});
