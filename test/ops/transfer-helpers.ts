/**
 * Shared by the migrate-users tests: scratch databases dropped after the file,
 * the command itself, and the checks every run gets (last line, no secrets, logins).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { CHEAP_HASH } from '../support/app.js';
import { runGatekeeper, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Databases and temp dirs for one test file, removed after it.
 * @example const scratch = useScratch(); const url = await scratch.emptyDatabase();
 */
export function useScratch() {
  const databases: TestDatabase[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const db of databases) await db.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const emptyDatabase = async (): Promise<string> => {
    const db = await createTestDatabase();
    databases.push(db);
    return db.url;
  };
  return {
    emptyDatabase,
    /** A database with Gatekeeper's schema (applied by the store, as at a service start). */
    async gatekeeperDatabase(): Promise<string> {
      const url = await emptyDatabase();
      const database = {
        url,
        sslMode: null,
        sslRootCert: null,
        poolSize: 1,
        maxOverflow: 1,
        poolTimeoutSeconds: 10,
        echo: false,
      };
      await (await openPostgresStore({ database })).close();
      return url;
    },
    async tempDir(): Promise<string> {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'gk-migrate-'));
      dirs.push(dir);
      return dir;
    },
  };
}

export const migrate = (from: string, to: string, ...extra: string[]) =>
  runGatekeeper(['migrate-users', '--from', from, '--to', to, ...extra], { timeoutMs: 120_000 });

export const lastLine = (result: CliResult) => result.stdout.trim().split('\n').at(-1);

/** Nothing secret in any line: no password hash, and none of the given secrets (database URLs' passwords). */
export function expectNoSecrets(result: CliResult, ...secrets: string[]): void {
  const all = result.stdout + result.stderr;
  expect(all).not.toContain('$argon2');
  for (const secret of secrets) {
    const text = /^postgres(ql)?:\/\//.test(secret) ? decodeURIComponent(new URL(secret).password) : secret;
    if (text) expect(all).not.toContain(text);
  }
}

/** Logs in through the service's API on that database. */
export async function logsIn(url: string, username: string, password: string): Promise<boolean> {
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', GATEKEEPER_SECRET_KEY: 'x'.repeat(40) });
  const app = await buildGatekeeper(config, { hashParams: CHEAP_HASH });
  try {
    const response = await app.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
    return response.statusCode === 200;
  } finally {
    await app.close();
  }
}
