import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { createPool, formatStatement, sslOptions, REDACTED } from '../../src/store/postgres/pool.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const settings = (url: string, overrides: object = {}) => ({
  url,
  sslMode: null,
  sslRootCert: null,
  poolSize: 3,
  maxOverflow: 5,
  poolTimeoutSeconds: 7,
  echo: false,
  ...overrides,
});

let db: TestDatabase;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  // Schema first, so that the tests below open stores without migrating concurrently.
  await (await openPostgresStore({ database: settings(db.url) })).close();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});
afterAll(async () => {
  await db?.drop();
});

describe('createPool()', () => {
  it('opens up to POSTGRES_POOL_SIZE + POSTGRES_MAX_OVERFLOW, gives idle ones back down to the floor, waits at most POSTGRES_POOL_TIMEOUT', () => {
    const pool = createPool(settings(db.url));
    cleanups.push(() => pool.end());
    expect(pool.options).toMatchObject({ min: 1, max: 8, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 7_000 });
    const tuned = createPool(settings(db.url, { minConnections: 2, idleSeconds: 5 }));
    cleanups.push(() => tuned.end());
    expect(tuned.options).toMatchObject({ min: 2, max: 8, idleTimeoutMillis: 5_000 });
  });

  it('after a burst, idle connections are closed down to the floor, on the server too', async () => {
    const name = `gk-idle-${randomUUID().slice(0, 8)}`;
    const pool = createPool(settings(db.url, { idleSeconds: 1, minConnections: 1 }), { applicationName: name });
    cleanups.push(() => pool.end());
    // The pool's 'remove' events are what the idle timers (1 s) cause: wait for five, with a deadline.
    let removed = 0;
    const fiveClosed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${removed} idle connections closed in 10 s`)), 10_000);
      pool.on('remove', () => {
        removed += 1;
        if (removed === 5) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await Promise.all(Array.from({ length: 6 }, () => pool.query('SELECT pg_sleep(0.05)')));
    expect(pool.totalCount).toBe(6);
    await fiveClosed;
    const onServer = async () => {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [name],
      );
      return rows[0]!.n;
    };
    expect(pool.totalCount).toBe(1);
    // A closed connection's server process exits a moment after the socket closes: polled, with a deadline.
    let backends = await onServer();
    for (const until = Date.now() + 5_000; backends > 1 && Date.now() < until; backends = await onServer()) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(backends).toBe(1);
  });

  it('strips sslmode and sslrootcert from the URL and passes ssl explicitly', () => {
    const pool = createPool(settings(`${db.url}?sslmode=verify-full&sslrootcert=/nowhere.pem&application_name=x`));
    cleanups.push(() => pool.end());
    expect(pool.options.connectionString).not.toMatch(/sslmode|sslrootcert/);
    expect(pool.options.connectionString).toContain('application_name=x');
    expect(pool.options.ssl).toBe(false);
  });

  it('keeps a Unix-socket URL (no host before the path) intact while stripping sslmode', () => {
    const pool = createPool(settings('postgresql://app:pw@/auth?host=/run/postgresql&sslmode=require'));
    cleanups.push(() => pool.end());
    expect(pool.options.connectionString).toBe('postgresql://app:pw@/auth?host=%2Frun%2Fpostgresql');
  });

  it('sends no options startup parameter (a stock PgBouncer refuses it) unless the URL has one, and keeps those', async () => {
    const plain = createPool(settings(db.url));
    cleanups.push(() => plain.end());
    expect(plain.options.options).toBeUndefined();
    const url = `${db.url}?sslmode=disable&options=${encodeURIComponent('-c TimeZone=Asia/Kathmandu -c work_mem=8MB')}`;
    const pool = createPool(settings(url));
    cleanups.push(() => pool.end());
    const { rows } = await pool.query(`SELECT current_setting('TimeZone') AS tz, current_setting('work_mem') AS wm`);
    expect(rows[0]).toEqual({ tz: 'Asia/Kathmandu', wm: '8MB' });
  });
});

describe('sslOptions()', () => {
  let dir: string;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gk-ssl-'));
    ca = path.join(dir, 'root.crt');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('disable, prefer (node-postgres cannot fall back) and unset mean no TLS', () => {
    expect(sslOptions('disable', ca)).toBe(false);
    expect(sslOptions('prefer', ca)).toBe(false);
    expect(sslOptions(null, null)).toBe(false);
  });

  it('require encrypts without verifying', () => {
    expect(sslOptions('require', null)).toEqual({ rejectUnauthorized: false });
  });

  it('verify-ca checks the chain against the root certificate but not the host name', () => {
    const options = sslOptions('verify-ca', ca) as Exclude<ReturnType<typeof sslOptions>, false>;
    expect(options).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(options.checkServerIdentity?.('other.host', {} as never)).toBeUndefined();
  });

  it('verify-full checks the chain and the host name', () => {
    const options = sslOptions('verify-full', ca) as Exclude<ReturnType<typeof sslOptions>, false>;
    expect(options).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(options.checkServerIdentity).toBeUndefined();
  });

  it('an unreadable POSTGRES_SSLROOTCERT is a CONFIG_INVALID naming the setting', () => {
    expect(() => sslOptions('verify-full', path.join(dir, 'missing.crt'))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('POSTGRES_SSLROOTCERT') }),
    );
  });
});

describe('pool exhaustion', () => {
  it('with every connection busy, a request gives up with DATABASE_UNAVAILABLE within POSTGRES_POOL_TIMEOUT', async () => {
    const store = await openPostgresStore({
      // No lock or statement timeout: the one connection stays busy for as long as the test holds the lock.
      database: settings(db.url, {
        poolSize: 1,
        maxOverflow: 0,
        poolTimeoutSeconds: 1,
        lockTimeoutSeconds: 0,
        statementTimeoutSeconds: 0,
      }),
      migrate: false,
    });
    cleanups.push(() => store.close());
    // Another session locks the users table, so the store's only connection hangs in a query.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const stuck = store.getUserByUsername('anyone');

    const started = Date.now();
    const err = await store.countActiveAdmins().catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(err).toBeInstanceOf(GatekeeperError);
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: expect.any(Number) });
    expect((err as Error).message).toContain('every pooled connection is busy');
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(2_500);
    expect((await store.health()).pool).toMatchObject({ max: 1 });

    await blocker.query('COMMIT');
    expect(await stuck).toBeNull();
    expect(await store.countActiveAdmins()).toBe(0);
  });
});

describe('health()', () => {
  it('reports the server version, the round-trip latency and the pool figures', async () => {
    const store = await openPostgresStore({ database: settings(db.url), kind: 'embedded-postgres' });
    cleanups.push(() => store.close());
    const health = await store.health();
    expect(store.kind).toBe('embedded-postgres');
    expect(health.reachable).toBe(true);
    expect(health.serverVersion).toMatch(/^\d+\.\d+/);
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    // Two decimals (compared with a tolerance: 0.29 * 100 is 28.999999999999996 in binary floating point).
    expect(Math.abs(Math.round(health.latencyMs! * 100) - health.latencyMs! * 100)).toBeLessThan(1e-6);
    expect(health.pool).toEqual({ total: 1, idle: 1, waiting: 0, max: 8 });
    expect(health.error).toBeUndefined();
  });

  it('after close() it reports unreachable instead of throwing', async () => {
    const store = await openPostgresStore({ database: settings(db.url) });
    await store.close();
    await store.close(); // twice is fine
    expect(await store.health()).toMatchObject({ reachable: false, error: expect.any(String) });
  });
});

describe('POSTGRES_ECHO', () => {
  it('logs every statement with its parameters and never a password hash, token hash or setting value', async () => {
    const lines: string[] = [];
    const store = await openPostgresStore({
      database: settings(db.url, { echo: true }),
      log: (line) => lines.push(line),
      migrate: false,
    });
    cleanups.push(() => store.close());
    const secrets = {
      hash: '$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
      otherHash: 'plain-looking-hash-value-1',
      token: 'b'.repeat(64),
      nextToken: 'refresh-token-hash-2',
      setting: 'the-generated-signing-secret',
    };
    const user = await store.createUser({ username: 'echoed', passwordHash: secrets.hash, email: 'echo@example.com' });
    await store.updateUser(user.id, { passwordHash: secrets.otherHash });
    const now = new Date();
    await store.createSession({
      id: randomUUID(),
      userId: user.id,
      refreshTokenHash: secrets.token,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
    });
    await store.rotateRefreshToken(secrets.token, secrets.nextToken, new Date(now.getTime() + 120_000), now);
    await store.findSessionByRefreshToken(secrets.nextToken);
    await store.putSettingIfAbsent('jwt_secret', secrets.setting);

    const echoed = lines.join('\n');
    expect(echoed).toContain('INSERT INTO users');
    expect(echoed).toContain('"echoed"');
    expect(echoed).toContain('"echo@example.com"');
    expect(echoed).toContain(REDACTED);
    expect(lines.every((line) => line.startsWith('SQL: ') && !line.includes('\n'))).toBe(true);
    for (const secret of Object.values(secrets)) expect(echoed).not.toContain(secret);
  });

  it('is silent when POSTGRES_ECHO is off', async () => {
    const lines: string[] = [];
    const store = await openPostgresStore({ database: settings(db.url), log: (line) => lines.push(line) });
    cleanups.push(() => store.close());
    await store.getUserByUsername('nobody');
    expect(lines.filter((line) => line.startsWith('SQL:'))).toEqual([]);
  });

  it('also redacts unmarked values that look like password or token hashes', () => {
    const line = formatStatement({
      text: 'SELECT $1, $2, $3,\n  $4',
      values: ['$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA', 'f'.repeat(64), 'visible', 42],
    });
    expect(line).toBe(`SQL: SELECT $1, $2, $3, $4 -- params: ["${REDACTED}","${REDACTED}","visible",42]`);
  });
});

describe('poolFigures() (what /metrics reads on every scrape)', () => {
  it('reads the pool counters without a statement to the database', async () => {
    const lines: string[] = [];
    const store = await openPostgresStore({
      database: settings(db.url, { echo: true }),
      migrate: false,
      log: (line) => lines.push(line),
    });
    cleanups.push(() => store.close());
    await store.health();
    const before = lines.length;
    expect(before, 'the health check itself is echoed: the log sees statements').toBeGreaterThan(0);
    const figures = [store.poolFigures(), store.poolFigures(), store.poolFigures()];
    // POSTGRES_ECHO logs every statement the store sends: none may come from reading the figures.
    expect(lines.slice(before)).toEqual([]);
    expect(figures[0]).toEqual({ total: 1, idle: 1, waiting: 0, max: 8 });
  });
});
