/**
 * A database that refuses writes (what a standby does while an address briefly points at it,
 * simulated with default_transaction_read_only): writes are 503 DATABASE_UNAVAILABLE with
 * Retry-After and a line naming the cause, never a 500; /health says so; a start says so at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper, type BuiltGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { GatekeeperError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { CHEAP_HASH, STRONG_PASSWORD, testConfig } from '../support/app.js';
import { asAdmin } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const READ_ONLY = /read-only .*point DATABASE_URL at the primary/;

describe('a read-only database', () => {
  let database: TestDatabase;
  let name: string;
  let service: BuiltGatekeeper;

  beforeAll(async () => {
    database = await createTestDatabase();
    name = new URL(database.url).pathname.slice(1);
    const config = testConfig({
      GATEKEEPER_BACKEND: 'postgres',
      DATABASE_URL: database.url,
      GATEKEEPER_USER_CACHE_SECONDS: '0',
    });
    // Started on the primary (migrations applied), then the database turns read-only under it.
    service = await buildGatekeeper(config, { hashParams: CHEAP_HASH });
    await asAdmin([`ALTER DATABASE "${name}" SET default_transaction_read_only = on`]);
    // Connections made before keep their setting: the pool's are replaced, as after a failover.
    await asAdmin([
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
    ]);
  });
  afterAll(async () => {
    await service?.close();
    await asAdmin([`ALTER DATABASE "${name}" RESET default_transaction_read_only`]).catch(() => undefined);
    await database?.drop();
  });

  it('answers writes with 503 and Retry-After, not 500, and /health names the cause', async () => {
    // The first request may meet a terminated connection (also a 503); what matters is that no
    // answer is a 500 and that, once connections are fresh, writes are refused as read-only.
    const statuses: number[] = [];
    let body: { code?: string } = {};
    let retryAfter: string | undefined;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await service.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: `reader_${attempt}`, password: STRONG_PASSWORD },
      });
      statuses.push(response.statusCode);
      body = response.json() as { code?: string };
      retryAfter = response.headers['retry-after'] as string | undefined;
    }
    expect(statuses).toEqual([503, 503, 503]);
    expect(body.code).toBe('DATABASE_UNAVAILABLE');
    expect(Number(retryAfter)).toBeGreaterThan(0);

    const health = await service.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(JSON.stringify(health.json())).not.toContain('password');
    const store = service.store;
    const report = await store.health();
    expect(report.reachable).toBe(false);
    expect(report.error).toMatch(READ_ONLY);
  });

  it('a start on it fails at once with one line pointing at the primary', async () => {
    const started = await openPostgresStore({ database: testConfig({ DATABASE_URL: database.url }).database }).catch(
      (err: unknown) => err,
    );
    expect(started).toBeInstanceOf(GatekeeperError);
    expect((started as GatekeeperError).code).toBe('DATABASE_UNAVAILABLE');
    expect((started as Error).message).toMatch(READ_ONLY);
  });

  it('writes work again once the database takes writes, without a restart', async () => {
    await asAdmin([`ALTER DATABASE "${name}" RESET default_transaction_read_only`]);
    await asAdmin([
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
    ]);
    let status = 0;
    for (let attempt = 0; attempt < 3 && status !== 201; attempt += 1) {
      status = (
        await service.app.inject({
          method: 'POST',
          url: '/auth/register',
          payload: { username: 'writer_again', password: STRONG_PASSWORD },
        })
      ).statusCode;
      expect([201, 503]).toContain(status);
    }
    expect(status).toBe(201);
  });
});
