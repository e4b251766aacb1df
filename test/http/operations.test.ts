import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import {
  BACKENDS,
  CHEAP_HASH,
  STRONG_PASSWORD,
  bearer,
  expectError,
  json,
  login,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
} from '../support/app.js';
import { REDACT_PATHS } from '../../src/redaction.js';

describe.each(BACKENDS)('operations routes (%s store)', (backend) => {
  let gk: TestGatekeeper;

  beforeAll(async () => {
    gk = await startGatekeeper(backend);
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('GET /health reports the backend, version and database figures', async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body).toMatchObject({ status: 'ok', backend: backend === 'memory' ? 'memory' : 'postgres' });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    const database = body.database as Record<string, unknown>;
    expect(database.reachable).toBe(true);
    if (backend === 'postgres') {
      expect(database.server_version).toMatch(/^\d+/);
      expect(typeof database.latency_ms).toBe('number');
      expect(database.pool).toMatchObject({ max: 30 });
    }
  });

  it('GET /health/live answers 200', async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ status: 'ok' });
  });

  it('GET /metrics serves Prometheus text with request counters', async () => {
    await gk.app.inject({ method: 'GET', url: '/health/live' });
    const res = await gk.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/gatekeeper_http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/);
    expect(res.body).toContain('# TYPE gatekeeper_http_requests_total counter');
    expect(res.body).toContain('gatekeeper_password_hash_jobs');
  });

  it('GET /metrics counts each route and status apart and keeps a cumulative duration histogram', async () => {
    const count = async (pattern: RegExp) =>
      Number(pattern.exec((await gk.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? 0);
    const unauthorized = /gatekeeper_http_requests_total\{method="GET",route="\/auth\/me",status="401"\} (\d+)/;
    const before = await count(unauthorized);
    await gk.app.inject({ method: 'GET', url: '/auth/me' });
    await gk.app.inject({ method: 'GET', url: '/auth/me' });
    expect(await count(unauthorized)).toBe(before + 2);

    const body = (await gk.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('# TYPE gatekeeper_http_request_duration_seconds histogram');
    const series = (suffix: string) => [
      ...body.matchAll(
        new RegExp(
          `gatekeeper_http_request_duration_seconds_${suffix}\\{method="GET",route="/auth/me"(?:,le="([^"]+)")?\\} ([\\d.e+-]+)`,
          'g',
        ),
      ),
    ];
    const buckets = series('bucket').map((m) => ({ le: m[1], value: Number(m[2]) }));
    expect(buckets.map((b) => b.le)).toEqual([
      '0.001',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '+Inf',
    ]);
    for (let i = 1; i < buckets.length; i += 1) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    const total = Number(series('count')[0]![2]);
    expect(buckets.at(-1)!.value).toBe(total);
    expect(total).toBeGreaterThanOrEqual(2);
    expect(Number(series('sum')[0]![2])).toBeGreaterThan(0);
  });

  it('GET /openapi.json documents every route of docs/API.md', async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = json(res) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const expected: Array<[string, string]> = [
      ['post', '/auth/register'],
      ['post', '/auth/login'],
      ['post', '/auth/refresh'],
      ['post', '/auth/logout'],
      ['get', '/auth/me'],
      ['put', '/auth/me'],
      ['post', '/auth/change-password'],
      ['get', '/auth/users'],
      ['post', '/auth/users'],
      ['get', '/auth/users/{username}'],
      ['put', '/auth/users/{username}'],
      ['delete', '/auth/users/{username}'],
      ['post', '/auth/users/{username}/revoke-tokens'],
      ['post', '/auth/users/{username}/yapcoins'],
      ['get', '/auth/stats'],
      ['post', '/auth/cleanup'],
      ['get', '/health'],
      ['get', '/health/live'],
      ['get', '/metrics'],
      ['get', '/.well-known/jwks.json'],
    ];
    for (const [method, path] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const login = doc.paths['/auth/login']!.post as { requestBody: { content: Record<string, unknown> } };
    expect(Object.keys(login.requestBody.content)).toEqual(
      expect.arrayContaining(['application/json', 'application/x-www-form-urlencoded']),
    );
  });

  it('GET /docs serves the interactive documentation', async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body.toLowerCase()).toContain('swagger');
  });

  it('GET /.well-known/jwks.json is 404 with HS256', async () => {
    expectError(await gk.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }), 404, 'NOT_FOUND');
  });

  it('unknown routes answer a JSON 404; responses carry security headers', async () => {
    const res = await gk.app.inject({ method: 'GET', url: '/nope?token=secret' });
    expectError(res, 404, 'NOT_FOUND');
    expect(res.body).not.toContain('secret');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });
});

describe('logging', () => {
  it('never writes a password, token or hash to the log', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    const gk = await buildGatekeeper(testConfig({ GATEKEEPER_ACCESS_LOG: 'true' }), {
      logger,
      hashParams: CHEAP_HASH,
    });
    try {
      const user = await register(gk.app, 'logged_user');
      const tokens = await login(gk.app, 'logged_user');
      await gk.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) });
      await gk.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } });
      await gk.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } });
      await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'logged_user', password: 'Wr0ng-Password!' },
      });
      const stored = await gk.store.getUserById(user.id as string);
      const log = lines.join('');
      expect(lines.length).toBeGreaterThan(5);
      expect(log).toContain('/auth/me');
      for (const secret of [
        STRONG_PASSWORD,
        'Wr0ng-Password!',
        tokens.access_token,
        tokens.refresh_token,
        stored!.passwordHash,
      ]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await gk.close();
    }
  });
});
