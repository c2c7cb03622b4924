/**
 * Compares two V8 heap snapshots (an empty node and one with N traders, both after GC) by
 * constructor: objects and bytes added per trader, biggest first. That says what a trader costs
 * and where to cut.
 *
 * Usage: `npx tsx bench/heap.ts BASE.heapsnapshot FLEET.heapsnapshot N [TOP]`
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: readonly string[];
      readonly node_types: readonly (readonly string[] | string)[];
      readonly edge_fields: readonly string[];
      readonly edge_types: readonly (readonly string[] | string)[];
    };
  };
  readonly nodes: readonly number[];
  readonly edges: readonly number[];
  readonly strings: readonly string[];
}

/** Count and self size per `type:name` of a snapshot. */
export function byConstructor(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0] as readonly string[];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const iEdges = fields.indexOf('edge_count');
  const eFields = s.snapshot.meta.edge_fields;
  const eTypes = s.snapshot.meta.edge_types[0] as readonly string[];
  const eWidth = eFields.length;
  const eType = eFields.indexOf('type');
  const eName = eFields.indexOf('name_or_index');
  const out = new Map<string, { count: number; bytes: number }>();
  let edge = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    let name = s.strings[s.nodes[i + iName]!] ?? '?';
    const edges = s.nodes[i + iEdges]!;
    // A plain object is named by its first property names, so an order, a view or a context reads as what it is.
    if (type === 'object' && name === 'Object') {
      const props: string[] = [];
      for (let e = edge; e < edge + edges * eWidth && props.length < 5; e += eWidth) {
        if (eTypes[s.edges[e + eType]!] === 'property') props.push(s.strings[s.edges[e + eName]!] ?? '?');
      }
      name = `{${props.join(',')}}`;
    }
    edge += edges * eWidth;
    // Strings and numbers are named by their content: group them by type only.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' || type === 'hidden') name = '';
    if (type === 'code') name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}…`;
    const key = `${type}:${name}`;
    const cur = out.get(key) ?? { count: 0, bytes: 0 };
    cur.count++;
    cur.bytes += s.nodes[i + iSize]!;
    out.set(key, cur);
  }
  return out;
}

/** The per-trader difference, biggest byte growth first. */
export function perTrader(base: string, fleet: string, n: number): { key: string; count: number; bytes: number }[] {
  const a = byConstructor(base);
  const b = byConstructor(fleet);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys]
    .map((key) => ({
      key,
      count: ((b.get(key)?.count ?? 0) - (a.get(key)?.count ?? 0)) / n,
      bytes: ((b.get(key)?.bytes ?? 0) - (a.get(key)?.bytes ?? 0)) / n,
    }))
    .sort((x, y) => y.bytes - x.bytes);
}

const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invokedAs.endsWith(path.join('bench', 'heap.ts'))) {
  const [base, fleet, n, top] = process.argv.slice(2);
  if (!base || !fleet || !n) {
    process.stderr.write('usage: npx tsx bench/heap.ts BASE.heapsnapshot FLEET.heapsnapshot N [TOP]\n');
    process.exitCode = 2;
  } else {
    const rows = perTrader(base, fleet, Number(n));
    const total = rows.reduce((s, r) => s + r.bytes, 0);
    process.stdout.write(`per trader: ${(total / 1024).toFixed(1)} KiB of self size in all\n`);
    for (const r of rows.slice(0, Number(top ?? 30))) {
      process.stdout.write(`${r.bytes.toFixed(0).padStart(8)} B  ${r.count.toFixed(2).padStart(7)} objects  ${r.key}\n`);
    }
  }
}
