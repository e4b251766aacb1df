/**
 * SIGTERM on the running service (issue 12 point 7): requests in flight are answered, keep-alive
 * connections do not hold the stop up, and a request stuck in the database is cut at
 * GATEKEEPER_SHUTDOWN_TIMEOUT_SECONDS with one line saying so.
 */
import http from 'node:http';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startService, type ServiceProcess } from '../support/process.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function service(env: Record<string, string>): Promise<{ db: TestDatabase; gk: ServiceProcess }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  const gk = await startService({
    DATABASE_URL: db.url,
    GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
    LOG_LEVEL: 'info',
    ...env,
  });
  cleanups.push(async () => {
    if (gk.child.exitCode === null && gk.child.signalCode === null) gk.child.kill('SIGKILL');
  });
  return { db, gk };
}

interface Answer {
  status?: number;
  connection?: string | undefined;
  error?: string;
}

/** POST /auth/login for a user that does not exist: one database lookup, answered 401. */
function login(baseUrl: string, agent: http.Agent): Promise<Answer> {
  const body = JSON.stringify({ username: 'nobody', password: 'not-the-password' });
  return new Promise((resolve) => {
    const request = http.request(
      `${baseUrl}/auth/login`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection }));
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    request.end(body);
  });
}

async function exitWithin(gk: ServiceProcess, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([gk.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('shutdown on SIGTERM', () => {
  it('answers every request sent before SIGTERM under keep-alive load and exits 0 in time', async () => {
    const { gk } = await service({ GATEKEEPER_SHUTDOWN_TIMEOUT_SECONDS: '5' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    cleanups.push(async () => agent.destroy());
    const answers: Answer[] = [];
    let signalled = false;
    let warmed!: () => void;
    const warm = new Promise<void>((resolve) => (warmed = resolve));
    const loop = async () => {
      while (!signalled) {
        answers.push(await login(gk.baseUrl, agent));
        if (answers.length >= 80) warmed();
      }
    };
    const loops = Array.from({ length: 8 }, () => loop());
    await warm;
    const sentAt = Date.now();
    signalled = true;
    gk.child.kill('SIGTERM');
    await Promise.all(loops);
    const code = await exitWithin(gk, 5_000 + 3_000);
    expect(code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(8_000);
    expect(answers.filter((a) => a.error !== undefined)).toEqual([]);
    // 401 (or 429, the login throttle): handled; 503 + Connection: close: arrived on a kept-alive connection once the service was closing.
    for (const a of answers) {
      expect([401, 429, 503]).toContain(a.status);
      if (a.status === 503) expect(a.connection).toBe('close');
    }
    expect(gk.output()).toMatch(/SIGTERM received: shutting down/);
    expect(gk.output()).not.toMatch(/shutdown deadline reached|did not finish/);
  });

  it('a request stuck on a database lock is cut at the shutdown deadline, which the log line names', async () => {
    const { db, gk } = await service({
      GATEKEEPER_SHUTDOWN_TIMEOUT_SECONDS: '2',
      // Only the shutdown deadline may end the stuck request.
      GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS: '0',
      GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS: '0',
      GATEKEEPER_REQUEST_DEADLINE_SECONDS: '120',
    });
    const agent = new http.Agent({ keepAlive: true });
    cleanups.push(async () => agent.destroy());
    expect((await login(gk.baseUrl, agent)).status).toBe(401);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const stuck = login(gk.baseUrl, agent);
    // Wait until the service's statement really waits on the lock.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { rows } = await locker.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      );
      if (rows[0]!.n > 0) break;
      if (Date.now() > deadline) throw new Error(`the login never waited on the lock:\n${gk.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sentAt = Date.now();
    gk.child.kill('SIGTERM');
    const code = await exitWithin(gk, 2_000 + 2_000);
    const tookMs = Date.now() - sentAt;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(4_000);
    expect(gk.output()).toMatch(/shutdown deadline reached: 1 request\(s\) still running after 1\.0 s/);
    // The cut request's connection was closed: no answer, and nothing hangs on the client side.
    expect((await stuck).error).toBeDefined();
  });
});
