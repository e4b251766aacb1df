/**
 * Issue 5, point 6: HTTP hygiene — security headers, CORS allow-list (off by
 * default), no caching of token responses, and log redaction of the new fields.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { createTestDatabase } from '../support/database.js';
import {
  CHEAP_HASH,
  STRONG_PASSWORD,
  expectError,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
} from '../support/app.js';
import { REDACT_PATHS } from '../../src/redaction.js';

const ALLOWED = 'https://app.example.com';

describe('CORS', () => {
  let off: TestGatekeeper;
  let on: TestGatekeeper;
  beforeAll(async () => {
    off = await startGatekeeper('memory');
    on = await startGatekeeper('memory', { GATEKEEPER_CORS_ORIGINS: `${ALLOWED}, http://localhost:3000` });
    await register(on.app, 'cors_user');
  });
  afterAll(async () => {
    await Promise.all([off?.close(), on?.close()]);
  });

  it('is off by default: no CORS header for any origin, and preflights are not answered', async () => {
    const res = await off.app.inject({ method: 'GET', url: '/health/live', headers: { origin: ALLOWED } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await off.app.inject({
      method: 'OPTIONS',
      url: '/auth/login',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('echoes an allowed origin, with Vary: Origin and no credentials', async () => {
    const res = await on.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'cors_user', password: STRONG_PASSWORD },
      headers: { origin: ALLOWED },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.headers.vary).toMatch(/Origin/);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(res.headers['access-control-expose-headers']).toContain('Retry-After');
  });

  it('answers a preflight from an allowed origin with the methods and headers the API uses', async () => {
    const res = await on.app.inject({
      method: 'OPTIONS',
      url: '/auth/me',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(res.headers['access-control-allow-methods']).toContain('PUT');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('gives other origins nothing', async () => {
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.net', 'null']) {
      const res = await on.app.inject({ method: 'GET', url: '/health/live', headers: { origin } });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await on.app.inject({
        method: 'OPTIONS',
        url: '/auth/login',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.statusCode).not.toBe(204);
    }
  });

  it('with * allows any origin, still without credentials', async () => {
    const any = await startGatekeeper('memory', { GATEKEEPER_CORS_ORIGINS: '*' });
    try {
      const res = await any.app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://x.test' } });
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    } finally {
      await any.close();
    }
  });
});

describe('headers', () => {
  let gk: TestGatekeeper;
  beforeAll(async () => {
    gk = await startGatekeeper('memory');
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('JSON responses carry the security headers and a locked-down CSP; /auth/* is never cached', async () => {
    await register(gk.app, 'header_user');
    const login = await gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'header_user', password: STRONG_PASSWORD },
    });
    expect(login.headers['cache-control']).toBe('no-store');
    expect(login.headers['x-content-type-options']).toBe('nosniff');
    expect(login.headers['x-frame-options']).toBe('SAMEORIGIN');
    // Plain HTTP (inject, or http://localhost): no HSTS, which only means something over HTTPS.
    expect(login.headers['strict-transport-security']).toBeUndefined();
    expect(login.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(login.headers['x-powered-by']).toBeUndefined();
    const failed = await gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'header_user', password: 'nope' },
    });
    expectError(failed, 401, 'INVALID_CREDENTIALS');
    expect(failed.headers['cache-control']).toBe('no-store');
  });

  it('every response carries the same base set; the docs page has no JSON CSP, health is cacheable', async () => {
    const base = {
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
    };
    const docs = await gk.app.inject({ method: 'GET', url: '/docs/' });
    const live = await gk.app.inject({ method: 'GET', url: '/health/live' });
    const missing = await gk.app.inject({ method: 'GET', url: '/no/such/route' });
    for (const res of [docs, live, missing]) {
      expect(res.headers).toMatchObject(base);
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toBeUndefined();
    expect(live.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(live.headers['cache-control']).toBeUndefined();
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});

describe('log redaction', () => {
  /** A gatekeeper logging to memory, and the lines and per-request child loggers it made. */
  async function logged(env: Record<string, string>) {
    const lines: Record<string, unknown>[] = [];
    let children = 0;
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const onChild = () => {
      children += 1;
    };
    const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' }, onChild }, sink);
    const gk = await buildGatekeeper(testConfig(env), { logger, hashParams: CHEAP_HASH });
    await register(gk.app, 'logged_user');
    const login = await gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'logged_user', password: STRONG_PASSWORD },
    });
    const token = (JSON.parse(login.body) as { access_token: string }).access_token;
    const before = children;
    const me = await gk.app.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(200);
    await gk.close();
    return { lines, token, childrenForMe: children - before };
  }

  it('GATEKEEPER_ACCESS_LOG=true writes one line per request (id, method, path, status, time), never the token', async () => {
    const { lines, token, childrenForMe } = await logged({ GATEKEEPER_ACCESS_LOG: 'true' });
    // A request that logs nothing of its own makes no per-request child logger.
    expect(childrenForMe).toBe(0);
    const access = lines.filter((l) => l['msg'] === 'request');
    expect(access.map((l) => [l['method'], l['url'], l['status']])).toEqual([
      ['POST', '/auth/register', 201],
      ['POST', '/auth/login', 200],
      ['GET', '/auth/me', 200],
    ]);
    for (const line of access) {
      expect(line['reqId']).toEqual(expect.any(String));
      expect(line['ms']).toEqual(expect.any(Number));
    }
    const all = JSON.stringify(lines);
    expect(all).not.toContain(token);
    expect(all).not.toContain(STRONG_PASSWORD);
  });

  it('writes no access line by default', async () => {
    const { lines } = await logged({});
    expect(lines.filter((l) => l['msg'] === 'request')).toEqual([]);
  });

  it('redacts every secret-bearing field name, including the ones added for signing keys and the login form', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info(
      {
        body: { client_secret: 'cs-1', password: 'pw-1', refresh_token: 'rt-1' },
        key: { privateJwk: { d: 'jwk-d-1' }, private_jwk: 'jwk-2', privateKey: 'pk-3' },
        session: { refreshTokenHash: 'rth-1', token_hash: 'th-1' },
      },
      'test',
    );
    const out = lines.join('');
    for (const secret of ['cs-1', 'pw-1', 'rt-1', 'jwk-d-1', 'jwk-2', 'pk-3', 'rth-1', 'th-1']) {
      expect(out).not.toContain(secret);
    }
  });

  it('POSTGRES_ECHO never writes the private signing key or the form client_secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    const database = await createTestDatabase();
    const config = testConfig({
      GATEKEEPER_BACKEND: 'postgres',
      DATABASE_URL: database.url,
      GATEKEEPER_JWT_ALGORITHM: 'ES256',
      POSTGRES_ECHO: 'true',
    });
    const gk = await buildGatekeeper(config, { logger, hashParams: CHEAP_HASH });
    try {
      await register(gk.app, 'echoed');
      await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: `username=echoed&password=${encodeURIComponent(STRONG_PASSWORD)}&client_secret=form-secret-42`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const [key] = await gk.store.listSigningKeys('ES256');
      const log = lines.join('');
      expect(log).toContain('signing_keys'); // the statements were echoed…
      expect(log).not.toContain(String(key!.privateJwk.d)); // …without the private key
      expect(log).not.toContain('form-secret-42');
      expect(log).not.toContain(STRONG_PASSWORD);
    } finally {
      await gk.close();
      await database.drop();
    }
  });
});
