/**
 * Strict-Transport-Security only on HTTPS: over plain HTTP (http://localhost) it means
 * nothing to a browser and only misleads; behind a trusted proxy X-Forwarded-Proto says
 * whether the client used HTTPS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startGatekeeper, type TestGatekeeper } from '../support/app.js';

const HSTS = 'max-age=31536000; includeSubDomains';

describe.each(BACKENDS)('Strict-Transport-Security (%s store)', (backend) => {
  let direct: TestGatekeeper;
  let proxied: TestGatekeeper;
  beforeAll(async () => {
    direct = await startGatekeeper(backend);
    proxied = await startGatekeeper(backend, { GATEKEEPER_TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(async () => {
    await Promise.all([direct?.close(), proxied?.close()]);
  });

  const hsts = async (gk: TestGatekeeper, url: string, remoteAddress: string, proto?: string) => {
    const res = await gk.app.inject({
      method: 'GET',
      url,
      remoteAddress,
      headers: proto ? { 'x-forwarded-proto': proto } : {},
    });
    return res.headers['strict-transport-security'];
  };

  it('is not sent over plain HTTP, whatever the client claims without a trusted proxy', async () => {
    expect(await hsts(direct, '/health/live', '127.0.0.1')).toBeUndefined();
    expect(await hsts(direct, '/health/live', '127.0.0.1', 'https')).toBeUndefined();
    expect(await hsts(proxied, '/health/live', '192.0.2.1', 'https')).toBeUndefined();
  });

  it('is sent when a trusted proxy says the client used HTTPS, on every kind of path', async () => {
    for (const url of ['/health/live', '/auth/me', '/docs/', '/nope'])
      expect(await hsts(proxied, url, '127.0.0.1', 'https'), url).toBe(HSTS);
    expect(await hsts(proxied, '/health/live', '127.0.0.1', 'http')).toBeUndefined();
  });
});
