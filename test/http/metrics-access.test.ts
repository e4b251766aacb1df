/**
 * GATEKEEPER_METRICS_TOKEN (issue point 16): /metrics and the database part of /health
 * need the token when it is set; without one they are served on a loopback HOST only.
 * The status part of /health (status, backend, version) stays public.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationsAccessWarning } from '../../src/http/operations-access.js';
import { BACKENDS, bearer, expectError, json, startGatekeeper, type TestGatekeeper } from '../support/app.js';

const TOKEN = 'scrape-token-0123456789abcdef';

describe.each(BACKENDS)('operations details with GATEKEEPER_METRICS_TOKEN (%s store)', (backend) => {
  let gk: TestGatekeeper;
  beforeAll(async () => {
    // Even on a non-loopback address the token opens them.
    gk = await startGatekeeper(backend, { GATEKEEPER_METRICS_TOKEN: TOKEN, HOST: '0.0.0.0' });
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('/metrics answers 401 without the token or with another one', async () => {
    expectError(await gk.app.inject({ method: 'GET', url: '/metrics' }), 401, 'NOT_AUTHENTICATED');
    expectError(
      await gk.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Basic ${TOKEN}` } }),
      401,
      'NOT_AUTHENTICATED',
    );
    for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), 'short']) {
      const res = await gk.app.inject({ method: 'GET', url: '/metrics', headers: bearer(wrong) });
      expectError(res, 401, 'INVALID_TOKEN');
      expect(res.body).not.toContain(TOKEN);
    }
  });

  it('/metrics answers with the token', async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/metrics', headers: bearer(TOKEN) });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('gatekeeper_http_requests_total');
  });

  it('/health keeps status, backend and version public and shows the database part with the token only', async () => {
    const open = await gk.app.inject({ method: 'GET', url: '/health' });
    expect(open.statusCode).toBe(200);
    expect(Object.keys(json(open)).sort()).toEqual(['backend', 'status', 'version']);
    const wrong = await gk.app.inject({ method: 'GET', url: '/health', headers: bearer('not-the-token') });
    expect(json(wrong).database).toBeUndefined();
    const detailed = json(await gk.app.inject({ method: 'GET', url: '/health', headers: bearer(TOKEN) }));
    expect(detailed).toMatchObject({ status: 'ok', database: { reachable: true } });
  });
});

describe.each(BACKENDS)('operations details without a token (%s store)', (backend) => {
  let exposed: TestGatekeeper;
  let local: TestGatekeeper;
  beforeAll(async () => {
    exposed = await startGatekeeper(backend, { HOST: '0.0.0.0' });
    local = await startGatekeeper(backend, { HOST: '127.0.0.1' });
  });
  afterAll(async () => {
    await Promise.all([exposed?.close(), local?.close()]);
  });

  it('are withheld when Gatekeeper listens on a non-loopback address', async () => {
    const metrics = await exposed.app.inject({ method: 'GET', url: '/metrics' });
    expectError(metrics, 403, 'FORBIDDEN');
    expect(json(metrics).detail).toContain('GATEKEEPER_METRICS_TOKEN');
    const health = await exposed.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(json(health)).toEqual({ status: 'ok', backend: expect.any(String), version: expect.any(String) });
  });

  it('are served as before on a loopback address', async () => {
    expect((await local.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect(json(await local.app.inject({ method: 'GET', url: '/health' })).database).toMatchObject({ reachable: true });
  });
});

describe('the start-up warning', () => {
  it('names the variable when details are withheld, and is silent otherwise', () => {
    expect(operationsAccessWarning(null, '0.0.0.0')).toContain('GATEKEEPER_METRICS_TOKEN');
    expect(operationsAccessWarning(null, '::')).toContain('GATEKEEPER_METRICS_TOKEN');
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(operationsAccessWarning(null, host)).toBeNull();
    expect(operationsAccessWarning(TOKEN, '0.0.0.0')).toBeNull();
  });
});
