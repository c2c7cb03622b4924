/**
 * ccxt, loaded on first need. The library holds every venue's client and costs ~130 MiB of RSS
 * once imported, so a node that trades only on paper never loads it: whoever is about to build a
 * ccxt client awaits {@link loadCcxt} first (the live accounts, a live market feed); code that
 * only inspects errors asks {@link loadedCcxt}, since no ccxt error exists before ccxt does.
 */
import type * as CcxtModule from 'ccxt';

/** The ccxt module namespace. */
export type Ccxt = typeof CcxtModule;

let mod: Ccxt | null = null;
let loading: Promise<Ccxt> | null = null;

/** Imports ccxt once; later calls get the same module. */
export function loadCcxt(): Promise<Ccxt> {
  if (mod) return Promise.resolve(mod);
  loading ??= import('ccxt').then((m) => (mod = m));
  return loading;
}

/** ccxt if it has been loaded, else null. */
export function loadedCcxt(): Ccxt | null {
  return mod;
}

/** ccxt, which must have been loaded; throws a clear error otherwise. */
export function requireCcxt(): Ccxt {
  if (!mod) throw new Error('ccxt is not loaded: await loadCcxt() before creating a ccxt client');
  return mod;
}
