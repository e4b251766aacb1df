import { defineConfig } from 'vitest/config';

/** The tiers that need a database: they share one throwaway PostgreSQL for the run. */
const DATABASE_TIERS = ['store', 'http', 'cli', 'ops', 'property', 'library'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      // Pure logic, no database: `npm run test:unit` runs it alone in seconds.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      // Mail against a real SMTP server on loopback: sockets, but no database.
      { extends: true, test: { name: 'mail', include: ['test/mail/**/*.test.ts'] } },
      // The pages in Debian's chromium (test/support/browser.ts): a real listener and SMTP server, memory store.
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'database',
          include: DATABASE_TIERS.map((tier) => `test/${tier}/**/*.test.ts`),
          // The compiled dist/ (processes run it), and one throwaway PostgreSQL for the whole run (or
          // TEST_DATABASE_URL); each test file makes its own database.
          globalSetup: ['test/support/build.ts', 'test/support/global-setup.ts'],
        },
      },
    ],
  },
});
