/**
 * Issue 18 point 8: after GATEKEEPER_PASSWORD_SECURITY_LEVEL changes (or migrate-users brings older
 * hashes), existing users still have hashes of the old level. An unknown user's login must cost what
 * theirs costs, or one request tells which usernames exist. Real PostgreSQL, two service lifetimes on
 * one database: users registered at an expensive level, then logins served at a cheap one.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import { register, testConfig } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** ~20× the work of the new level: without the fix unknown users answer an order of magnitude faster. */
const OLD_LEVEL = { memoryCost: 16 * 1024, timeCost: 3, parallelism: 1 };
const NEW_LEVEL = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const SAMPLES = 15;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('login timing after a change of security level (postgres store)', () => {
  let database: TestDatabase;
  let gk: Gatekeeper;

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = testConfig({
      GATEKEEPER_BACKEND: 'postgres',
      DATABASE_URL: database.url,
      // Many failures on purpose: keep the throttle out of this measurement.
      GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: '1000',
      GATEKEEPER_LOGIN_IP_MAX_FAILURES: '1000',
    });
    const before = await buildGatekeeper(config, { hashParams: OLD_LEVEL });
    for (const name of ['old_user_1', 'old_user_2', 'old_user_3']) await register(before.app, name);
    await before.close();
    gk = await buildGatekeeper(config, { hashParams: NEW_LEVEL });
  });
  afterAll(async () => {
    await gk?.close();
    await database?.drop();
  });

  it('unknown users take as long as existing users with old-level hashes (medians within 0.5×–2×)', async () => {
    const cases = {
      unknown: { username: 'nobody_here', password: 'Wr0ng-Password!' },
      existing: { username: 'old_user_1', password: 'Wr0ng-Password!' },
    };
    const timings: Record<string, number[]> = { unknown: [], existing: [] };
    // Interleaved, so that a slow moment of the machine hits both alike.
    for (let i = 0; i < SAMPLES; i += 1) {
      for (const [name, payload] of Object.entries(cases)) {
        const started = performance.now();
        const res = await gk.app.inject({ method: 'POST', url: '/auth/login', payload });
        timings[name]!.push(performance.now() - started);
        expect(res.statusCode).toBe(401);
      }
    }
    const ratio = median(timings.unknown!) / median(timings.existing!);
    const shown = JSON.stringify({ unknown: median(timings.unknown!), existing: median(timings.existing!) });
    expect(ratio, shown).toBeGreaterThan(0.5);
    expect(ratio, shown).toBeLessThan(2);
  });
});
