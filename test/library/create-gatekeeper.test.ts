/**
 * createGatekeeper(options), the package's programmatic entry: every kind of
 * `database` option against real storage, settings from `env`, and the typed errors.
 */
import type { TokenPair } from '../../src/auth/auth-service.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createGatekeeper, GatekeeperError, type Gatekeeper } from '../../src/index.js';
import { CHEAP_HASH, STRONG_PASSWORD } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const QUIET = { logger: false as const, hashParams: CHEAP_HASH };
const ENV = { GATEKEEPER_SECRET_KEY: 'library-test-secret-key-0123456789abcdef' };

/** A user registered and signed in through the service, and the same user read over HTTP. */
async function roundTrip(gatekeeper: Gatekeeper, username: string): Promise<void> {
  const user = await gatekeeper.service.register({ username, password: STRONG_PASSWORD });
  expect(user.username).toBe(username);
  // No MFA on this account: tokens, not a challenge.
  const tokens = (await gatekeeper.service.login(username, STRONG_PASSWORD)) as TokenPair;
  const me = await gatekeeper.app.inject({
    method: 'GET',
    url: '/auth/me',
    headers: { authorization: `Bearer ${tokens.accessToken}` },
  });
  expect(me.statusCode).toBe(200);
  expect(me.json()).toMatchObject({ username, id: user.id });
}

describe('createGatekeeper', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('{ memory: true } keeps users in the process, and close() ends it', async () => {
    const gatekeeper = await createGatekeeper({ ...QUIET, env: ENV, database: { memory: true } });
    expect(gatekeeper.config.backend).toBe('memory');
    await roundTrip(gatekeeper, 'memory_user');
    await gatekeeper.close();
  });

  it('a connection string is used as DATABASE_URL would be', async () => {
    const gatekeeper = await createGatekeeper({ ...QUIET, env: ENV, database: database.url });
    try {
      expect(gatekeeper.config.backend).toBe('postgres');
      await roundTrip(gatekeeper, 'url_user');
      const health = await gatekeeper.app.inject({ method: 'GET', url: '/health' });
      expect(health.json()).toMatchObject({ status: 'ok', backend: 'postgres' });
    } finally {
      await gatekeeper.close();
    }
  });

  it('a pg.Pool of the application is used and left open on close()', async () => {
    // The pool's sessions are in another time zone: Gatekeeper's timestamps must still be UTC.
    const pool = new pg.Pool({ connectionString: database.url, max: 3, options: '-c TimeZone=America/New_York' });
    try {
      const gatekeeper = await createGatekeeper({ ...QUIET, env: ENV, database: pool });
      const before = Date.now();
      const user = await gatekeeper.service.register({ username: 'pool_user', password: STRONG_PASSWORD });
      expect(Math.abs(user.createdAt.getTime() - before)).toBeLessThan(60_000);
      await roundTrip(gatekeeper, 'pool_user_2');
      await gatekeeper.close();
      // Still usable by the application, and the users are there.
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM users WHERE username LIKE 'pool_user%'`,
      );
      expect(rows[0]?.n).toBe(2);
      const again = await createGatekeeper({ ...QUIET, env: ENV, database: pool });
      const found = (await again.service.login('pool_user', STRONG_PASSWORD)) as TokenPair;
      expect(found.accessToken).toEqual(expect.any(String));
      // Written and read back through sessions set to UTC: the same instant, not five hours off.
      expect((await again.service.getUser('pool_user')).createdAt.getTime()).toBe(user.createdAt.getTime());
      const { rows: raw } = await pool.query<{ utc: Date }>(
        `SELECT created_at AT TIME ZONE 'UTC' AS utc FROM users WHERE username = 'pool_user'`,
      );
      expect(raw[0]?.utc.getTime()).toBe(user.createdAt.getTime());
      await again.close();
    } finally {
      await pool.end();
    }
  });

  it('{ embedded: { dataDir } } starts the embedded PostgreSQL there and stops it on close()', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gatekeeper-library-'));
    try {
      const gatekeeper = await createGatekeeper({ ...QUIET, env: ENV, database: { embedded: { dataDir } } });
      expect(gatekeeper.config.backend).toBe('embedded');
      expect(gatekeeper.config.dataDir).toBe(dataDir);
      await roundTrip(gatekeeper, 'embedded_user');
      await gatekeeper.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('reads every other setting from env, as the service reads its environment', async () => {
    const gatekeeper = await createGatekeeper({
      ...QUIET,
      env: { ...ENV, GATEKEEPER_ALLOW_REGISTRATION: 'false', GATEKEEPER_ACCESS_TOKEN_EXPIRE_MINUTES: '5' },
      database: { memory: true },
    });
    try {
      expect(gatekeeper.config.accessTokenExpireMinutes).toBe(5);
      const refused = await gatekeeper.service
        .register({ username: 'nobody', password: STRONG_PASSWORD })
        .catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(GatekeeperError);
      expect((refused as GatekeeperError).code).toBe('REGISTRATION_DISABLED');
    } finally {
      await gatekeeper.close();
    }
  });

  it('bad settings are a ConfigError listing each problem; an unreachable database a DATABASE_UNAVAILABLE', async () => {
    const config = await createGatekeeper({
      ...QUIET,
      env: { ...ENV, PORT: 'eighty' },
      database: { memory: true },
    }).catch((err: unknown) => err);
    expect(config).toBeInstanceOf(ConfigError);
    expect((config as ConfigError).problems.join('\n')).toContain('PORT');

    const unreachable = await createGatekeeper({
      ...QUIET,
      env: { ...ENV, POSTGRES_POOL_TIMEOUT: '2' },
      database: 'postgres://gatekeeper:not-the-password@127.0.0.1:1/gatekeeper',
    }).catch((err: unknown) => err);
    expect(unreachable).toBeInstanceOf(GatekeeperError);
    expect((unreachable as GatekeeperError).code).toBe('DATABASE_UNAVAILABLE');
    expect((unreachable as Error).message).not.toContain('not-the-password');
  });

  it('refuses a database option it does not understand', async () => {
    const bad = { sqlite: ':memory:' } as unknown as { memory: true };
    await expect(createGatekeeper({ ...QUIET, env: ENV, database: bad })).rejects.toThrow(TypeError);
  });
});
