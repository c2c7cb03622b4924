import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    setupFiles: ['test/setup.ts'],
  },
  resolve: {
    alias: { '@platform/strategy': new URL('./runtime/strategy/sdk.ts', import.meta.url).pathname },
  },
});
