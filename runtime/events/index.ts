/** Events: the in-process bus and the batching writer. */
export * from './bus.ts';
export * from './batcher.ts';
