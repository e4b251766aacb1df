/**
 * One PostgreSQL for the whole test run (issue 3 point 7): TEST_DATABASE_URL when set (any server where
 * that user may CREATE DATABASE, e.g. Debian's PostgreSQL 15 in .ci/run), else a throwaway embedded
 * PostgreSQL in a fresh temp dir on a random port. Test files get their own database from it through
 * test/support/database.ts, so files run in parallel safely.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/postgres/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser (or CREATEDB) URL on the run's PostgreSQL, database `postgres` or the one given. */
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const version = await checkExternal(external);
    const { hostname, port } = new URL(external);
    console.log(`[tests] PostgreSQL ${version} from TEST_DATABASE_URL at ${hostname}:${port || 5432}`);
    project.provide('adminDatabaseUrl', external);
    return async () => undefined;
  }

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'gatekeeper-test-'));
  // Last resort if the run dies before teardown (Ctrl-C): no postgres left behind, no temp dir either.
  const onExit = () => emergencyCleanup(dataDir);
  process.once('exit', onExit);
  let server: EmbeddedPostgres;
  try {
    server = await startEmbeddedPostgres({ dataDir, port: 0 });
  } catch (err) {
    emergencyCleanup(dataDir);
    throw err;
  }
  console.log(`[tests] PostgreSQL ${server.version} (embedded, throwaway) at 127.0.0.1:${server.port}`);
  project.provide('adminDatabaseUrl', server.adminUrl);

  return async () => {
    process.off('exit', onExit);
    try {
      await server.stop();
    } finally {
      emergencyCleanup(dataDir);
    }
  };
}

/** Fails early, with one line, when TEST_DATABASE_URL cannot serve the suites. */
async function checkExternal(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string; can_create: boolean }>(
      `SELECT current_setting('server_version') AS version,
              (SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user) AS can_create`,
    );
    if (!rows[0]?.can_create) throw new Error('its user may not CREATE DATABASE');
    return rows[0].version;
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL is not usable for the tests: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Synchronous so it also works from an 'exit' handler: SIGQUIT (immediate shutdown) and remove the files. */
function emergencyCleanup(dataDir: string): void {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    try {
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}
