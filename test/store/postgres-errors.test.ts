import net from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { describeConnectionError, isConnectionError, translateError } from '../../src/store/postgres/errors.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const settings = (url: string, overrides: object = {}) => ({
  url,
  sslMode: null,
  sslRootCert: null,
  poolSize: 2,
  maxOverflow: 2,
  poolTimeoutSeconds: 5,
  echo: false,
  ...overrides,
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

async function adminQuery<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** A port on which nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What openPostgresStore threw; asserted to be one clean DATABASE_UNAVAILABLE line. */
async function startupError(url: string, secrets: string[] = []): Promise<GatekeeperError> {
  const err = await openPostgresStore({ database: settings(url) }).then(
    (store) => store.close().then(() => expect.unreachable('the store opened')),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatekeeperError);
  const error = err as GatekeeperError;
  expect(error.code).toBe('DATABASE_UNAVAILABLE');
  expect(error.retryAfterSeconds).toBeGreaterThan(0);
  expect(error.cause).toBeInstanceOf(Error);
  expect(error.message).not.toMatch(/\n|\s{2}at /);
  for (const secret of secrets) expect(error.message).not.toContain(secret);
  return error;
}

/** A TCP relay in front of the test server that the test can take down and bring back. */
async function startRelay(targetUrl: string) {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    port,
    async down() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
    up: () => listen(port),
  };
}

describe('start-up errors against a real server: one line with the cause and the fix, never a password', () => {
  it('connection refused on a closed port', async () => {
    const port = await closedPort();
    const error = await startupError(`postgresql://reynard:hunter2pw@127.0.0.1:${port}/reynard`, ['hunter2pw']);
    expect(error.message).toBe(
      `Cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused. Is PostgreSQL running? Check POSTGRES_HOST/POSTGRES_PORT or DATABASE_URL.`,
    );
  });

  it('connection refused on localhost (IPv6 and IPv4 both tried)', async () => {
    const port = await closedPort();
    const error = await startupError(`postgresql://reynard:hunter2pw@localhost:${port}/reynard`, ['hunter2pw']);
    expect(error.message).toContain(`at localhost:${port}: connection refused. Is PostgreSQL running?`);
  });

  it('no server socket in the given directory', async () => {
    const error = await startupError('postgresql://reynard:hunter2pw@/reynard?host=/tmp/gk-no-such-socket-dir', [
      'hunter2pw',
    ]);
    expect(error.message).toBe(
      'Cannot connect to PostgreSQL at /tmp/gk-no-such-socket-dir:5432: no server socket at /tmp/gk-no-such-socket-dir. Is PostgreSQL running? Check POSTGRES_HOST or DATABASE_URL.',
    );
  });

  it('a database that does not exist', async () => {
    const url = new URL(inject('adminDatabaseUrl'));
    url.pathname = '/gk_missing_db';
    const error = await startupError(url.toString(), [decodeURIComponent(url.password)]);
    expect(error.message).toBe(
      `Cannot connect to PostgreSQL at ${url.hostname}:${url.port}: database "gk_missing_db" does not exist. Create it, or run \`gatekeeper setup-postgres --all\`.`,
    );
  });

  it('a wrong password', async () => {
    const url = new URL(inject('adminDatabaseUrl'));
    const user = decodeURIComponent(url.username);
    url.password = 'wrong-Pa55word';
    const error = await startupError(url.toString(), ['wrong-Pa55word']);
    expect(error.message).toBe(
      `Cannot connect to PostgreSQL at ${url.hostname}:${url.port}: password authentication failed for user "${user}". Check POSTGRES_USER/POSTGRES_PASSWORD.`,
    );
  });

  it("the seed's manual setup on PostgreSQL 15+: permission denied for schema public, fixed by owning the database", async () => {
    const [{ version } = { version: 0 }] = await adminQuery<{ version: number }>(
      `SELECT current_setting('server_version_num')::int AS version`,
    );
    if (version < 150000) return; // before 15 every role could create in public
    const db = await freshDatabase();
    const role = `gk_seed_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const name = new URL(db.url).pathname.slice(1);
    // The seed's steps: CREATE USER … WITH PASSWORD; GRANT ALL PRIVILEGES ON DATABASE … TO ….
    await adminQuery(`CREATE USER ${role} WITH PASSWORD '${password}'`);
    cleanups.unshift(() => adminQuery(`DROP ROLE IF EXISTS ${role}`)); // after the database is dropped
    await adminQuery(`GRANT ALL PRIVILEGES ON DATABASE ${name} TO ${role}`);
    const url = new URL(db.url);
    url.username = role;
    url.password = password;

    const error = await startupError(url.toString(), [password]);
    expect(error.message).toBe(
      `PostgreSQL at ${url.hostname}:${url.port}: permission denied for schema public. On PostgreSQL 15+ the role needs to own the database: ALTER DATABASE ${name} OWNER TO ${role}; (or run gatekeeper setup-postgres --all).`,
    );

    await adminQuery(`ALTER DATABASE ${name} OWNER TO ${role}`);
    const store = await openPostgresStore({ database: settings(url.toString()) });
    await store.close();
  });

  it('SSL required by Gatekeeper but not supported by the server', async () => {
    const [{ ssl } = { ssl: 'on' }] = await adminQuery<{ ssl: string }>('SHOW ssl');
    if (ssl === 'on') return; // a TEST_DATABASE_URL server with TLS: covered by postgres-ssl.test.ts
    const url = inject('adminDatabaseUrl');
    const err = await openPostgresStore({ database: settings(url, { sslMode: 'require' }) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(
      /: the server does not support SSL connections\. Set POSTGRES_SSLMODE=disable, or enable SSL on the server\.$/,
    );
  });
});

describe('a running store when the database goes away', () => {
  it('health() and every method report DATABASE_UNAVAILABLE, and the store recovers by itself', async () => {
    const db = await freshDatabase();
    const relay = await startRelay(db.url);
    cleanups.push(() => relay.down().catch(() => {}));
    const store = await openPostgresStore({ database: settings(relay.url) });
    cleanups.push(() => store.close());
    const user = await store.createUser({ username: 'survivor', passwordHash: 'h' });
    expect((await store.health()).reachable).toBe(true);

    await relay.down();
    const health = await store.health();
    expect(health).toMatchObject({ reachable: false, latencyMs: null, serverVersion: null });
    expect(health.pool).toMatchObject({ max: 4 });
    expect(health.error).toBe(
      `Cannot connect to PostgreSQL at 127.0.0.1:${relay.port}: connection refused. Is PostgreSQL running? Check POSTGRES_HOST/POSTGRES_PORT or DATABASE_URL.`,
    );
    for (const call of [
      () => store.getUserById(user.id),
      () => store.updateUser(user.id, { role: 'guest' }),
      () => store.rotateRefreshToken('x', 'y', new Date(), new Date()),
      () => store.putSettingIfAbsent('k', 'v'),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 5 });
    }

    await relay.up();
    expect((await store.health()).reachable).toBe(true);
    expect((await store.getUserById(user.id))?.username).toBe('survivor');
  });

  it('connections terminated by the server are logged, never crash, and are replaced', async () => {
    const db = await freshDatabase();
    const logged: string[] = [];
    const store = await openPostgresStore({ database: settings(db.url), log: (line) => logged.push(line) });
    cleanups.push(() => store.close());
    await Promise.all([store.health(), store.health()]);
    const name = new URL(db.url).pathname.slice(1);
    const terminated = await adminQuery(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND application_name = 'gatekeeper'`,
    );
    expect(terminated.length).toBeGreaterThan(0);
    // The pool logs each loss when the server's message arrives: wait until every terminated
    // connection has been noticed (and so left the pool), not for a guessed delay.
    const lost = () => logged.filter((l) => l.includes('shutting down or restarting')).length;
    for (const deadline = Date.now() + 10_000; lost() < terminated.length && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(lost()).toBeGreaterThanOrEqual(terminated.length);
    expect(await store.countActiveAdmins()).toBe(0);
  });
});

describe('describeConnectionError()', () => {
  const target = 'app@db.internal:5433/auth';
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
  const cases: [string, Error, string][] = [
    ['host not found', withCode('getaddrinfo ENOTFOUND db.internal', 'ENOTFOUND'), 'host "db.internal" not found'],
    ['timed out', withCode('connect ETIMEDOUT', 'ETIMEDOUT'), 'did not answer (ETIMEDOUT)'],
    [
      'connect timeout',
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated') }),
      'did not complete the connection within POSTGRES_POOL_TIMEOUT',
    ],
    [
      'pool exhausted',
      new Error('timeout exceeded when trying to connect'),
      'every pooled connection is busy. Raise POSTGRES_POOL_SIZE/POSTGRES_MAX_OVERFLOW',
    ],
    ['admin shutdown', withCode('terminating connection due to administrator command', '57P01'), 'shutting down'],
    ['starting up', withCode('the database system is starting up', '57P03'), 'does not accept connections yet'],
    ['too many connections', withCode('sorry, too many clients already', '53300'), 'raise max_connections'],
    [
      'SSL required by the server',
      withCode('no pg_hba.conf entry for host "10.0.0.1", user "app", database "auth", no encryption', '28000'),
      'Set POSTGRES_SSLMODE=require',
    ],
    [
      'unknown role',
      withCode('role "app" does not exist', '28000'),
      'authentication failed for user "app" (role "app" does not exist). Check POSTGRES_USER/POSTGRES_PASSWORD.',
    ],
    [
      'untrusted certificate',
      withCode('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'),
      'Set POSTGRES_SSLROOTCERT to the CA that signed it',
    ],
    [
      'certificate for another host',
      withCode("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      'not valid for "db.internal"',
    ],
    [
      'an unknown failure quoting a URL',
      withCode('cannot parse postgresql://app:s3cr3t@db.internal/auth\n    at parse (x.js:1)', '08006'),
      'postgresql://app:***@db.internal/auth (08006).',
    ],
  ];

  it.each(cases)('%s: one line naming cause and fix', (_name, err, expected) => {
    const line = describeConnectionError(err, target);
    expect(line).toContain(expected);
    expect(line).toMatch(
      /^(Cannot connect to |No free connection to |Lost the connection to |)PostgreSQL at db\.internal:5433/,
    );
    expect(line).not.toMatch(/\n/);
    expect(line).not.toContain('s3cr3t');
    expect(isConnectionError(err)).toBe(true);
    expect(translateError(err, target)).toMatchObject({ code: 'DATABASE_UNAVAILABLE', message: line, cause: err });
  });

  it('a missing file is not a database problem', () => {
    const missing = Object.assign(new Error('ENOENT: no such file or directory'), {
      code: 'ENOENT',
      syscall: 'scandir',
    });
    expect(isConnectionError(missing)).toBe(false);
  });

  it('leaves statement errors alone', () => {
    const syntax = withCode('syntax error at or near "SELEKT"', '42601');
    expect(isConnectionError(syntax)).toBe(false);
    expect(translateError(syntax, target)).toBe(syntax);
  });
});
