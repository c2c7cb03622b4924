/** Live venues through ccxt: the adapter, error classification, shared rate limits and reconciliation. */
export * from './adapter.ts';
export * from './errors.ts';
export { loadCcxt, loadedCcxt, requireCcxt, type Ccxt } from './lib.ts';
export * from './limiter.ts';
export * from './reconcile.ts';
