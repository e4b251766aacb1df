/**
 * The request deadline (GATEKEEPER_REQUEST_DEADLINE_SECONDS) in a host app: the Gatekeeper routes the
 * plugin adds are answered 503 + Retry-After when the database holds them past it, and the host's own
 * routes keep whatever limits the host chose (none here).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatekeeper, gatekeeper, type Gatekeeper } from '../../src/index.js';
import { CHEAP_HASH, STRONG_PASSWORD } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('the request deadline of the plugin routes', () => {
  let db: TestDatabase;
  let gk: Gatekeeper;
  let host: FastifyInstance;
  let blocker: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    gk = await createGatekeeper({
      env: {
        GATEKEEPER_SECRET_KEY: 'plugin-deadline-secret-key-0123456789abcd',
        GATEKEEPER_REQUEST_DEADLINE_SECONDS: '1',
        // Only the deadline may end the wait below.
        GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS: '0',
        GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS: '0',
        GATEKEEPER_USER_CACHE_SECONDS: '0',
      },
      database: db.url,
      logger: false,
      hashParams: CHEAP_HASH,
    });
    host = Fastify();
    await host.register(gatekeeper, { prefix: '/auth', gatekeeper: gk });
    // A host route slower than Gatekeeper's deadline: the host did not ask for one.
    host.get('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return { slow: true };
    });
    await host.ready();
    const registered = await host.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username: 'held', password: STRONG_PASSWORD },
    });
    expect(registered.statusCode, registered.body).toBe(201);
    blocker = new pg.Client({ connectionString: db.url });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  });
  afterAll(async () => {
    await blocker?.query('ROLLBACK').catch(() => undefined);
    await blocker?.end().catch(() => undefined);
    await host?.close();
    await gk?.close();
    await db?.drop();
  });

  it('a login held by a lock is answered 503 OVERLOADED with Retry-After at the deadline', async () => {
    const started = performance.now();
    const response = await host.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'held', password: STRONG_PASSWORD },
    });
    const tookMs = performance.now() - started;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'OVERLOADED' });
    expect(response.headers['retry-after']).toBeDefined();
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(8_000);
  });

  it("the host's own route is not cut at Gatekeeper's deadline", async () => {
    const response = await host.inject({ method: 'GET', url: '/slow' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ slow: true });
  });
});
