/**
 * "Safe on the internet, round two", point 4: a refused login costs (almost) nothing. While
 * an account is locked, its refusals are answered from the in-process lock cache (no
 * database read) and aggregated in the audit trail: one row per account and minute, each
 * with `refusals`, the number of refused attempts it stands for, so the rows add up; a
 * count not yet written is written at close.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import type { AuditEventRecord } from '../../src/store/store.js';
import { createTestDatabase } from '../support/database.js';
import {
  BACKENDS,
  CHEAP_HASH,
  STRONG_PASSWORD,
  expectError,
  register,
  startGatekeeper,
  testConfig,
  type TestGatekeeper,
} from '../support/app.js';
import { testClock } from '../support/clock.js';

const WRONG = 'Wr0ng-Password!';

function throttledRows(events: AuditEventRecord[]): Array<{ refusals: number }> {
  return events
    .filter((e) => e.event === 'login.failure' && e.detail['reason'] === 'throttled')
    .map((e) => ({ refusals: e.detail['refusals'] as number }));
}

describe.each(BACKENDS)('refused logins (%s store)', (backend) => {
  const clock = testClock();
  let gk: TestGatekeeper;
  beforeAll(async () => {
    gk = await startGatekeeper(backend, {}, { now: clock.now });
  });
  afterAll(async () => {
    await gk?.close();
  });

  const attempt = (username: string, password: string, i = 0) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password },
      remoteAddress: `198.51.100.${(i % 200) + 1}`,
    });

  it('300 refusals of a locked account read nothing and add one audit row; the counts add up', async () => {
    await register(gk.app, 'hammered', { email: 'hammered@example.com' });
    for (let i = 0; i < 5; i += 1) expectError(await attempt('hammered', WRONG), 401, 'INVALID_CREDENTIALS');
    const counters = vi.spyOn(gk.store, 'getLoginFailures');
    const users = vi.spyOn(gk.store, 'getUserByLogin');
    const audits = vi.spyOn(gk.store, 'recordAuditEvent');
    let refused = 0;
    for (let batch = 0; batch < 6; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => attempt(i % 2 ? 'hammered' : 'HAMMERED', WRONG, batch * 50 + i)),
      );
      for (const a of answers) expectError(a, 429, 'TOO_MANY_ATTEMPTS');
      refused += answers.length;
    }
    expect(counters).not.toHaveBeenCalled();
    expect(users).not.toHaveBeenCalled();
    expect(audits).toHaveBeenCalledTimes(1);

    // A minute later the lock has ended: one more guess (counted, locks again), then a refusal
    // writes the next row, carrying the 299 refusals counted since the first.
    clock.advance(61);
    expectError(await attempt('hammered', WRONG), 401, 'INVALID_CREDENTIALS');
    expectError(await attempt('hammered@example.com', WRONG), 429, 'TOO_MANY_ATTEMPTS');
    refused += 1;
    vi.restoreAllMocks();
    const rows = throttledRows(await gk.store.listAuditEvents({ username: 'hammered', limit: 1000 }));
    expect(rows.length).toBeLessThanOrEqual(3);
    expect(rows.reduce((sum, r) => sum + r.refusals, 0)).toBe(refused);
  });
});

describe('refusals counted but not yet written (PostgreSQL)', () => {
  it('are written when the instance closes, not lost', async () => {
    const database = await createTestDatabase();
    try {
      const config = testConfig({ GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database.url });
      const clock = testClock();
      const first = await buildGatekeeper(config, { hashParams: CHEAP_HASH, now: clock.now });
      await register(first.app, 'closing');
      const login = (password: string) =>
        first.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'closing', password } });
      for (let i = 0; i < 5; i += 1) await login(WRONG);
      for (let i = 0; i < 40; i += 1) expectError(await login(STRONG_PASSWORD), 429, 'TOO_MANY_ATTEMPTS');
      await first.close();

      const second = await buildGatekeeper(config, { hashParams: CHEAP_HASH });
      try {
        const rows = throttledRows(await second.store.listAuditEvents({ username: 'closing', limit: 1000 }));
        expect(rows).toHaveLength(2);
        expect(rows.reduce((sum, r) => sum + r.refusals, 0)).toBe(40);
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  });
});
