import { defineConfig } from 'vitest/config';

/**
 * The resilience suite (`npm run test:resilience`): real PostgreSQL servers, PgBouncers and service
 * processes of each scenario's own, restarted, crashed, locked and black-holed under load. Files run
 * one after another (fileParallelism false) so one scenario's load and crashes do not skew another's
 * timings on a small CI machine; each scenario starts and stops what it needs, so no database global
 * setup, only the build (the scenarios run the compiled dist/ as `npm start` does).
 */
export default defineConfig({
  test: {
    include: ['test/resilience/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    globalSetup: ['test/support/build.ts'],
  },
});
