/**
 * Issue 5, point 3: unknown user, wrong password and inactive account take the same
 * path (a dummy hash is verified for unknown users) and give the same 401. Medians
 * over interleaved samples with real Argon2id (level LOW): a missing dummy
 * verification would make unknown users answer tens of times faster.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_LEVELS } from '../../src/security/password-hasher.js';
import { BACKENDS, STRONG_PASSWORD, json, register, startGatekeeper, type TestGatekeeper } from '../support/app.js';

const SAMPLES = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe.each(BACKENDS)('equal treatment of failed logins (%s store)', (backend) => {
  let gk: TestGatekeeper;

  beforeAll(async () => {
    gk = await startGatekeeper(
      backend,
      {
        GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
        // Many failures on purpose: keep the throttle out of this measurement.
        GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: '1000',
        GATEKEEPER_LOGIN_IP_MAX_FAILURES: '1000',
      },
      { hashParams: SECURITY_LEVELS.LOW },
    );
    await register(gk.app, 'known_user');
    await register(gk.app, 'sleeping_user');
    await gk.service.updateUser('sleeping_user', { isActive: false });
  });
  afterAll(async () => {
    await gk?.close();
  });

  const cases = {
    'unknown user': { username: 'no_such_user', password: 'Wr0ng-Password!' },
    'wrong password': { username: 'known_user', password: 'Wr0ng-Password!' },
    // The right password: only the inactive flag makes it fail.
    'inactive account': { username: 'sleeping_user', password: STRONG_PASSWORD },
  };

  it('answer with the same status, headers and body', async () => {
    const responses = await Promise.all(
      Object.values(cases).map((payload) => gk.app.inject({ method: 'POST', url: '/auth/login', payload })),
    );
    const shapes = responses.map((res) => ({
      status: res.statusCode,
      body: json(res),
      authenticate: res.headers['www-authenticate'],
      type: res.headers['content-type'],
    }));
    expect(shapes[0]).toEqual({
      status: 401,
      body: { detail: 'Incorrect username or password.', code: 'INVALID_CREDENTIALS' },
      authenticate: 'Bearer',
      type: 'application/json; charset=utf-8',
    });
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
  });

  it('take similar time: medians within 0.5×–2× of each other', { timeout: 60_000 }, async () => {
    const timings: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
    // Interleaved, so that a slow moment of the machine hits every case alike.
    for (let i = 0; i < SAMPLES; i += 1) {
      for (const [name, payload] of Object.entries(cases)) {
        const started = performance.now();
        const res = await gk.app.inject({ method: 'POST', url: '/auth/login', payload });
        timings[name]!.push(performance.now() - started);
        expect(res.statusCode).toBe(401);
      }
    }
    const medians = Object.fromEntries(Object.entries(timings).map(([name, t]) => [name, median(t)]));
    const reference = medians['wrong password']!;
    for (const [name, value] of Object.entries(medians)) {
      expect(value / reference, `${name}: ${JSON.stringify(medians)}`).toBeGreaterThan(0.5);
      expect(value / reference, `${name}: ${JSON.stringify(medians)}`).toBeLessThan(2);
    }
  });
});
