import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatekeeper } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Commands run in-process (runGatekeeper) against a real server: CI machines are slow and shared.
describe('gatekeeper health', { timeout: 60_000 }, () => {
  it('prints the store health and exits 0 while the database answers, without changing it', async () => {
    const ok = await runGatekeeper(['health'], { env: { DATABASE_URL: db.url } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^backend: postgres \(PostgreSQL .+\)$/m);
    expect(ok.stdout).toContain('reachable: yes');
    expect(ok.stdout).toMatch(/^latency: [\d.]+ ms$/m);
    expect(ok.stdout).not.toContain(decodeURIComponent(new URL(db.url).password));

    const json = await runGatekeeper(['health', '--json'], { env: { DATABASE_URL: db.url } });
    // The names GET /health uses, so one parser reads both.
    const body = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ok',
      backend: 'postgres',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      database: {
        reachable: true,
        latency_ms: expect.any(Number),
        server_version: expect.stringMatching(/^\d+/),
        pool: { total: expect.any(Number), idle: expect.any(Number), waiting: 0, max: 4 },
      },
    });
    expect(json.stdout).not.toMatch(/latencyMs|serverVersion/);
    // health only looks: the fresh database still has no tables.
    const setup = await runGatekeeper(['setup-postgres', '--test'], { env: { DATABASE_URL: db.url } });
    expect(setup.stdout).toContain('users: no users table yet');
  });

  it('exits 1 with the cause and the fix when the database cannot be reached', async () => {
    const port = await closedPort();
    const down = await runGatekeeper(['health'], {
      env: { DATABASE_URL: `postgresql://reynard:Hidden-Pw1@127.0.0.1:${port}/reynard`, POSTGRES_POOL_TIMEOUT: '5' },
    });
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toBe(
      `gatekeeper: Cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused. Is PostgreSQL running? Check POSTGRES_HOST/POSTGRES_PORT or DATABASE_URL.`,
    );
    expect(down.stdout + down.stderr).not.toContain('Hidden-Pw1');
  });
});
