/**
 * GATEKEEPER_TRUST_PROXY (issue point 2): behind proxies that append to X-Forwarded-For
 * the client address is the entry the last trusted proxy saw, never the leftmost one a
 * client writes itself, and never a string that is not an IP address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, adminTokens, bearer, json, startGatekeeper, type TestGatekeeper } from '../support/app.js';

interface Sent {
  remoteAddress: string;
  forwardedFor: string;
}

describe.each(BACKENDS)('client address behind a proxy (%s store)', (backend) => {
  const started: TestGatekeeper[] = [];
  let counter = 0;

  afterAll(async () => {
    await Promise.all(started.map((gk) => gk.close()));
  });

  /** Registers a user through `sent` and returns the address its audit event recorded. */
  async function recordedAddress(gk: TestGatekeeper, admin: string, sent: Sent): Promise<unknown> {
    counter += 1;
    const username = `proxied_${counter}`;
    const res = await gk.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { username, password: 'Sup3r-Secret!' },
      remoteAddress: sent.remoteAddress,
      headers: { 'x-forwarded-for': sent.forwardedFor },
    });
    expect(res.statusCode, res.body).toBe(201);
    const audit = await gk.app.inject({
      method: 'GET',
      url: `/auth/audit?user=${username}&event=register`,
      headers: bearer(admin),
    });
    expect(audit.statusCode, audit.body).toBe(200);
    const events = json(audit) as unknown as Array<{ ip: unknown }>;
    expect(events).toHaveLength(1);
    return events[0]!.ip;
  }

  async function start(trustProxy: string): Promise<{ gk: TestGatekeeper; admin: string }> {
    const gk = await startGatekeeper(backend, { GATEKEEPER_TRUST_PROXY: trustProxy });
    started.push(gk);
    return { gk, admin: (await adminTokens(gk)).access_token };
  }

  describe('GATEKEEPER_TRUST_PROXY=true (one hop)', () => {
    let gk: TestGatekeeper;
    let admin: string;
    beforeAll(async () => ({ gk, admin } = await start('true')));

    it('takes the rightmost entry, the one the proxy appended, not the one the client wrote', async () => {
      const sent = { remoteAddress: '127.0.0.1', forwardedFor: '6.6.6.6, 203.0.113.7' };
      expect(await recordedAddress(gk, admin, sent)).toBe('203.0.113.7');
    });

    it.each([['<script>alert(1)</script>'], ['9'.repeat(8000)], ['fe80::1%eth0'], ['1.2.3.4:80']])(
      'records the socket address instead of a forwarded entry that is no IP address (%#)',
      async (forwardedFor) => {
        expect(await recordedAddress(gk, admin, { remoteAddress: '127.0.0.1', forwardedFor })).toBe('127.0.0.1');
      },
    );

    it('keeps a valid IPv6 client address exactly', async () => {
      const sent = { remoteAddress: '127.0.0.1', forwardedFor: '2001:db8:1:2:aaaa::1' };
      expect(await recordedAddress(gk, admin, sent)).toBe('2001:db8:1:2:aaaa::1');
    });
  });

  describe('GATEKEEPER_TRUST_PROXY=2 (two hops, e.g. a CDN in front of nginx)', () => {
    let gk: TestGatekeeper;
    let admin: string;
    beforeAll(async () => ({ gk, admin } = await start('2')));

    it('takes the second entry from the right', async () => {
      const sent = { remoteAddress: '127.0.0.1', forwardedFor: 'spoofed, 198.51.100.2, 10.0.0.5' };
      expect(await recordedAddress(gk, admin, sent)).toBe('198.51.100.2');
    });
  });

  describe('GATEKEEPER_TRUST_PROXY=10.0.0.0/8,127.0.0.1 (trusted proxy addresses)', () => {
    let gk: TestGatekeeper;
    let admin: string;
    beforeAll(async () => ({ gk, admin } = await start('10.0.0.0/8,127.0.0.1')));

    it('skips every trusted proxy from the right and takes the first address that is not one', async () => {
      const sent = { remoteAddress: '127.0.0.1', forwardedFor: 'spoofed, 198.51.100.9, 10.1.2.3' };
      expect(await recordedAddress(gk, admin, sent)).toBe('198.51.100.9');
    });

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      const sent = { remoteAddress: '192.0.2.1', forwardedFor: '198.51.100.10' };
      expect(await recordedAddress(gk, admin, sent)).toBe('192.0.2.1');
    });
  });
});
