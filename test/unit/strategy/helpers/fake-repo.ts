/**
 * An in-memory StrategiesRepo with the store's semantics: versions numbered per name, one
 * version per (name, hash), insert returns the stored version either way.
 */
import type { StrategiesRepo, StrategyFileRecord, StrategyVersionRecord } from '../../../../runtime/store/types.ts';

/** The fake repo plus what tests inspect. */
export interface FakeStrategiesRepo extends StrategiesRepo {
  readonly inserts: number;
}

/** Creates an empty fake repo (optionally seeded). */
export function createFakeStrategiesRepo(seed: { versions?: StrategyVersionRecord[]; files?: StrategyFileRecord[] } = {}): FakeStrategiesRepo {
  const versions: StrategyVersionRecord[] = [...(seed.versions ?? [])];
  const files = new Map<string, StrategyFileRecord>((seed.files ?? []).map((f) => [f.filename, f]));
  let inserts = 0;
  return {
    get inserts() {
      return inserts;
    },
    async insertVersion(v) {
      const existing = versions.find((x) => x.name === v.name && x.hash === v.hash);
      if (existing) return existing;
      inserts++;
      const version = 1 + Math.max(0, ...versions.filter((x) => x.name === v.name).map((x) => x.version));
      const rec: StrategyVersionRecord = Object.freeze({ ...v, version });
      versions.push(rec);
      return rec;
    },
    async getVersion(name, version) {
      return versions.find((x) => x.name === name && x.version === version) ?? null;
    },
    async listVersions() {
      return [...versions];
    },
    async upsertFile(f) {
      files.set(f.filename, f);
    },
    async deleteFile(filename) {
      files.delete(filename);
    },
    async listFiles() {
      return [...files.values()];
    },
  };
}
