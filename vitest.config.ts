import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: keep the wasm-heavy parity suites from fighting over them.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
