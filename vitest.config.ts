import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // The AWS SDK's credential provider resolved as the functions are bundled (environment only).
    setupFiles: ['local/credentials.ts'],
    pool: 'forks',
    // Two cores: two test files at a time; each end-to-end file runs its own local Cirrus.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
