/**
 * Issue 12 point 2: a request is answered within its deadline whatever the database does. With the
 * database's own timeouts off (so only the deadline can end the wait) and a lock held on users,
 * a login is answered 503 + Retry-After at GATEKEEPER_REQUEST_DEADLINE_SECONDS, and /health says
 * the database is unreachable at GATEKEEPER_HEALTH_TIMEOUT_SECONDS (the pool's only connection is
 * still stuck behind the lock), not when the lock goes.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD, register, startGatekeeper, type TestGatekeeper } from '../support/app.js';

describe('deadlines while the database holds a request', () => {
  let gatekeeper: TestGatekeeper;
  let blocker: pg.Client;

  beforeAll(async () => {
    gatekeeper = await startGatekeeper('postgres', {
      GATEKEEPER_REQUEST_DEADLINE_SECONDS: '1',
      GATEKEEPER_HEALTH_TIMEOUT_SECONDS: '0.5',
      GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS: '0',
      GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS: '0',
      GATEKEEPER_USER_CACHE_SECONDS: '0',
      // One connection: the login stuck on the lock keeps it, so /health has to wait for the pool.
      POSTGRES_POOL_SIZE: '1',
      POSTGRES_MAX_OVERFLOW: '0',
    });
    await register(gatekeeper.app, 'held_user');
    blocker = new pg.Client({ connectionString: gatekeeper.databaseUrl! });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  });
  afterAll(async () => {
    await blocker?.query('ROLLBACK').catch(() => undefined);
    await blocker?.end().catch(() => undefined);
    await gatekeeper?.close();
  });

  it('a login waiting on the lock is answered 503 with Retry-After at the request deadline', async () => {
    const started = performance.now();
    const response = await gatekeeper.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'held_user', password: STRONG_PASSWORD },
    });
    const tookMs = performance.now() - started;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'OVERLOADED' });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    // Only the 1 s deadline can have ended it: the lock is held until afterAll.
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(8_000);
  });

  it('over a real socket too: a POST whose body was read keeps its deadline', async () => {
    // Node ends the request stream once the body is read; a deadline tied to it (Fastify's
    // handlerTimeout) would be lost here, and inject() does not show that.
    const address = await gatekeeper.app.listen({ host: '127.0.0.1', port: 0 });
    const started = performance.now();
    const response = await fetch(`${address}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'held_user', password: STRONG_PASSWORD }),
      signal: AbortSignal.timeout(8_000),
    });
    const tookMs = performance.now() - started;
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'OVERLOADED' });
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(8_000);
  });

  it('/health, with the only connection still stuck behind the lock, reports unreachable at its own deadline', async () => {
    const started = performance.now();
    const response = await gatekeeper.app.inject({ method: 'GET', url: '/health' });
    const tookMs = performance.now() - started;
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    const body = response.json() as { status: string; database: { reachable: boolean; error?: string } };
    expect(body.status).toBe('unavailable');
    expect(body.database.reachable).toBe(false);
    expect(body.database.error).toMatch(/GATEKEEPER_HEALTH_TIMEOUT_SECONDS/);
    expect(tookMs).toBeGreaterThanOrEqual(400);
    expect(tookMs).toBeLessThan(5_000);
  });

  it('once the lock is gone the same instance answers normally', async () => {
    await blocker.query('ROLLBACK');
    const login = await gatekeeper.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'held_user', password: STRONG_PASSWORD },
    });
    expect(login.statusCode, login.body).toBe(200);
    expect((await gatekeeper.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
