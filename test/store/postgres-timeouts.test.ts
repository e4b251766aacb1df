/**
 * Issue 12 point 2: every statement has a bounded wait. The statement and lock timeouts reach every
 * connection (per session in `session` pool mode, per transaction in `transaction` mode), and a
 * statement that waits on a lock or runs too long is answered with a 503-kind error naming the
 * cause, on a connection that stays usable.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatekeeperError } from '../../src/errors.js';
import { createExecutor } from '../../src/store/postgres/executor.js';
import {
  connectionTarget,
  createPool,
  statementDeadlineMillis,
  transactionSetup,
  type PoolSettings,
} from '../../src/store/postgres/pool.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const settings = (url: string, overrides: Partial<PoolSettings> = {}): PoolSettings => ({
  url,
  sslMode: null,
  sslRootCert: null,
  poolSize: 2,
  maxOverflow: 3,
  poolTimeoutSeconds: 5,
  echo: false,
  ...overrides,
});

let db: TestDatabase;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  await (await openPostgresStore({ database: settings(db.url) })).close();
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});
afterAll(async () => {
  await db?.drop();
});

const TIMEOUTS = `SELECT current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt`;

function executorFor(overrides: Partial<PoolSettings>) {
  const s = settings(db.url, overrides);
  const executor = createExecutor(createPool(s), {
    target: connectionTarget(s.url),
    statementDeadlineMs: statementDeadlineMillis(s),
    transactionSetup: transactionSetup(s),
  });
  cleanups.push(() => executor.close());
  return executor;
}

/** A session of the test's own that holds ACCESS EXCLUSIVE on users until released. */
async function lockUsers(): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: db.url });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  };
  cleanups.push(release);
  return release;
}

describe('timeouts on every connection', () => {
  it('session mode: every pooled connection runs with the configured statement and lock timeouts', async () => {
    const executor = executorFor({ statementTimeoutSeconds: 3, lockTimeoutSeconds: 1 });
    // Five at once, so five connections are opened and each is shown to carry them.
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => executor.query<{ st: string; lt: string }>(`${TIMEOUTS}, pg_sleep(0.05)`)),
    );
    expect(executor.pool.totalCount).toBe(5);
    for (const { rows } of answers) expect(rows[0]).toMatchObject({ st: '3s', lt: '1s' });
  });

  it('0 leaves a timeout at the server default', async () => {
    const executor = executorFor({ statementTimeoutSeconds: 0, lockTimeoutSeconds: 4 });
    const { rows } = await executor.query<{ st: string; lt: string }>(TIMEOUTS);
    expect(rows[0]).toEqual({ st: '0', lt: '4s' });
  });

  it('transaction mode: no session setting (a pooler would leak it), every transaction sets its own', async () => {
    const executor = executorFor({ statementTimeoutSeconds: 3, lockTimeoutSeconds: 1, poolMode: 'transaction' });
    const outside = await executor.query<{ st: string; lt: string }>(TIMEOUTS);
    expect(outside.rows[0]).toEqual({ st: '0', lt: '0' });
    const inside = await executor.transaction((tx) => tx.query<{ st: string; lt: string }>(TIMEOUTS));
    expect(inside.rows[0]).toEqual({ st: '3s', lt: '1s' });
  });
});

describe('a statement that waits too long', () => {
  it('waiting on a lock: DATABASE_UNAVAILABLE naming the lock, after about the lock timeout; the store then works', async () => {
    const store = await openPostgresStore({
      database: settings(db.url, { lockTimeoutSeconds: 1, statementTimeoutSeconds: 0 }),
      migrate: false,
    });
    cleanups.push(() => store.close());
    const release = await lockUsers();
    const started = performance.now();
    const err = await store.getUserById(randomUUID()).catch((e: unknown) => e);
    const waitedMs = performance.now() - started;
    expect(err).toBeInstanceOf(GatekeeperError);
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryAfterSeconds: 2 });
    expect((err as Error).message).toMatch(/GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS for a lock/);
    expect((err as Error).message).not.toMatch(/POOL_SIZE/);
    // The lock is held for as long as the test likes: only the lock timeout (1 s) can have ended the wait.
    expect(waitedMs).toBeGreaterThanOrEqual(900);
    expect(waitedMs).toBeLessThan(10_000);
    await release();
    expect(await store.getUserById(randomUUID())).toBeNull();
    expect((await store.health()).reachable).toBe(true);
  });

  it('running past the statement timeout: cancelled, DATABASE_UNAVAILABLE naming the statement timeout', async () => {
    const store = await openPostgresStore({
      database: settings(db.url, { lockTimeoutSeconds: 0, statementTimeoutSeconds: 1 }),
      migrate: false,
    });
    cleanups.push(() => store.close());
    const release = await lockUsers();
    const err = await store.createUser({ username: 'blocked', passwordHash: 'h' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS/);
    await release();
    // Nothing was half-written, and the same store goes on.
    expect(await store.getUserByUsername('blocked')).toBeNull();
    expect((await store.createUser({ username: 'blocked', passwordHash: 'h' })).username).toBe('blocked');
  });
});
