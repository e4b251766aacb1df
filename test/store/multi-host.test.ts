/**
 * Multi-host DATABASE_URLs against real servers (a primary and its streaming standby): hosts are tried
 * in order, target_session_attrs picks the server, no acceptable server is one clear line, and after a
 * failover (primary crashed, standby promoted) the same store writes again by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { GatekeeperError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createPool } from '../../src/store/postgres/pool.js';
import { testConfig } from '../support/app.js';
import { freePort, pollUntil, startPrimary, startStandby, type PgServer } from '../support/pg-cluster.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const READ_ONLY = /read-only .*add target_session_attrs=read-write to DATABASE_URL/;
const FAILOVER_DEADLINE_MS = 15_000;

describe('a DATABASE_URL with several hosts', () => {
  let primary: PgServer;
  let standby: PgServer;
  let password: string;
  let deadPort: number;
  const stores: Store[] = [];

  /** postgresql://gatekeeper:…@127.0.0.1:p1,127.0.0.1:p2/postgres?… */
  const urlOf = (ports: number[], query = ''): string =>
    `postgresql://gatekeeper:${password}@${ports.map((p) => `127.0.0.1:${p}`).join(',')}/postgres${query}`;
  const databaseOf = (url: string) => testConfig({ DATABASE_URL: url, POSTGRES_POOL_TIMEOUT: '5' }).database;
  const open = async (url: string): Promise<Store> => {
    const store = await openPostgresStore({ database: databaseOf(url) });
    stores.push(store);
    return store;
  };
  const refusalOf = async (url: string): Promise<GatekeeperError> => {
    const err = await openPostgresStore({ database: databaseOf(url) }).then(
      (store) => {
        stores.push(store);
        throw new Error('the store opened');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatekeeperError);
    expect((err as GatekeeperError).code).toBe('DATABASE_UNAVAILABLE');
    expect((err as Error).message).not.toContain(password);
    return err as GatekeeperError;
  };
  /** Writes a user through `store` and reads it back on the primary itself. */
  const writeLandsOn = async (store: Store, server: PgServer, username: string): Promise<void> => {
    await store.createUser({ username, passwordHash: 'h', email: null });
    const rows = await server.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE username = $1', [username]);
    expect(rows[0]?.n).toBe('1');
  };

  beforeAll(async () => {
    primary = await startPrimary();
    standby = await startStandby(primary);
    password = new URL(primary.url()).password;
    deadPort = await freePort(); // nothing listens there
    // The schema exists before any test opens a store through the standby.
    await open(primary.url());
  }, 120_000);

  afterAll(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    await standby?.destroy();
    await primary?.destroy();
  });

  it('skips a host that refuses and connects to the next one', async () => {
    const store = await open(urlOf([deadPort, primary.port]));
    await writeLandsOn(store, primary, 'after_dead_port');
  });

  it.each(['read-write', 'primary'])(
    'target_session_attrs=%s passes over a standby listed first and writes go to the primary',
    async (attrs) => {
      const store = await open(urlOf([standby.port, primary.port], `?target_session_attrs=${attrs}`));
      await writeLandsOn(store, primary, `via_${attrs.replace('-', '_')}`);
      const health = await store.health();
      expect(health.reachable).toBe(true);
    },
  );

  it('with target_session_attrs=any (the default) a standby listed first is taken, and the start refuses it', async () => {
    const err = await refusalOf(urlOf([standby.port, primary.port]));
    expect(err.message).toMatch(READ_ONLY);
    expect(err.message).toContain(`127.0.0.1:${standby.port},127.0.0.1:${primary.port}`);
  });

  it('no acceptable host: one line naming each host and why', async () => {
    const err = await refusalOf(urlOf([deadPort, standby.port], '?target_session_attrs=read-write'));
    expect(err.message).toBe(
      `No acceptable PostgreSQL server among 127.0.0.1:${deadPort},127.0.0.1:${standby.port} (target_session_attrs=read-write): ` +
        `127.0.0.1:${deadPort} refused the connection; 127.0.0.1:${standby.port} is read-only (transaction_read_only is on). ` +
        'Check DATABASE_URL and the servers.',
    );
    // One host with a check: the check runs on the pool's own connection.
    const single = await refusalOf(urlOf([standby.port], '?target_session_attrs=primary'));
    expect(single.message).toMatch(
      /^No acceptable PostgreSQL server among 127\.0\.0\.1:\d+ \(target_session_attrs=primary\): 127\.0\.0\.1:\d+ is a standby \(in recovery\)\./,
    );
  });

  it('standby, prefer-standby and read-only pick the standby; prefer-standby falls back to the primary', async () => {
    const inRecovery = async (url: string): Promise<boolean> => {
      const pool = createPool(databaseOf(url));
      try {
        const { rows } = await pool.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
        return rows[0]?.r === true;
      } finally {
        await pool.end();
      }
    };
    expect(await inRecovery(urlOf([primary.port, standby.port], '?target_session_attrs=standby'))).toBe(true);
    expect(await inRecovery(urlOf([primary.port, standby.port], '?target_session_attrs=prefer-standby'))).toBe(true);
    expect(await inRecovery(urlOf([primary.port, standby.port], '?target_session_attrs=read-only'))).toBe(true);
    expect(await inRecovery(urlOf([deadPort, primary.port], '?target_session_attrs=prefer-standby'))).toBe(false);
  });

  it('a host that accepts and never answers is given up after its share of POSTGRES_POOL_TIMEOUT', async () => {
    const silent = await startTcpProxy(primary.port);
    try {
      silent.blackhole();
      // POSTGRES_POOL_TIMEOUT=5: 4.5 s for the walk, 2.25 s for each of the two servers.
      const started = Date.now();
      const store = await open(urlOf([silent.port, primary.port]));
      const elapsed = Date.now() - started;
      console.log(`black-holed first host skipped: store open in ${elapsed} ms`);
      expect(elapsed).toBeGreaterThanOrEqual(2_000);
      expect(elapsed).toBeLessThan(5_000);
      await writeLandsOn(store, primary, 'after_black_hole');

      // connect_timeout (seconds per server, at least 2, as in libpq) replaces the share (2 s + 2 s fit
      // in the 4.5 s walk); when every server is silent the line says so for each.
      const started2 = Date.now();
      const err = await refusalOf(urlOf([silent.port, silent.port], '?connect_timeout=2'));
      const elapsed2 = Date.now() - started2;
      expect(elapsed2).toBeGreaterThanOrEqual(4_000);
      expect(elapsed2).toBeLessThan(5_000);
      expect(err.message).toBe(
        `No acceptable PostgreSQL server among 127.0.0.1:${silent.port},127.0.0.1:${silent.port} (target_session_attrs=any): ` +
          `127.0.0.1:${silent.port} did not complete the connection in time; 127.0.0.1:${silent.port} did not complete the connection in time. ` +
          'Check DATABASE_URL and the servers.',
      );
    } finally {
      await silent.close();
    }
  }, 30_000);

  it("a single host without target_session_attrs uses pg's own Client (nothing extra per connection)", async () => {
    const single = createPool(databaseOf(primary.url()));
    const multi = createPool(databaseOf(urlOf([deadPort, primary.port])));
    try {
      expect((single as unknown as { Client: unknown }).Client).toBe(pg.Client);
      expect((multi as unknown as { Client: unknown }).Client).not.toBe(pg.Client);
    } finally {
      await single.end();
      await multi.end();
    }
  });

  // Last: it ends with the primary gone.
  it('after the primary crashes and the standby is promoted, the same store writes again by itself', async () => {
    const store = await open(urlOf([primary.port, standby.port], '?target_session_attrs=read-write'));
    await writeLandsOn(store, primary, 'before_failover');

    await primary.stop('immediate');
    const crashed = Date.now();
    await standby.promote();
    const promoted = Date.now();

    let attempts = 0;
    await pollUntil(
      'a write after the failover',
      async () => {
        attempts += 1;
        // A new name per attempt: an attempt that failed after its commit must not make the next one a duplicate.
        await store.createUser({ username: `after_failover_${attempts}`, passwordHash: 'h', email: null });
      },
      FAILOVER_DEADLINE_MS,
    );
    const backAfter = Date.now() - promoted;
    console.log(
      `failover: promote took ${promoted - crashed} ms; first write ${backAfter} ms after promotion (${attempts} attempts)`,
    );
    const rows = await standby.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE username = $1', [
      `after_failover_${attempts}`,
    ]);
    expect(rows[0]?.n).toBe('1');
    expect((await store.health()).reachable).toBe(true);
  }, 60_000);
});

describe('a failover whose old primary vanishes without closing its sockets', () => {
  let primary: PgServer;
  let standby: PgServer;
  let proxy: TcpProxy;
  let store: Store | undefined;

  beforeAll(async () => {
    primary = await startPrimary();
    standby = await startStandby(primary);
    proxy = await startTcpProxy(primary.port);
  }, 120_000);

  afterAll(async () => {
    await store?.close().catch(() => undefined);
    await proxy?.close();
    await standby?.destroy();
    await primary?.destroy();
  });

  it('the same store writes on the promoted standby within the statement deadline plus one server timeout', async () => {
    const password = new URL(primary.url()).password;
    const url = `postgresql://gatekeeper:${password}@127.0.0.1:${proxy.port},127.0.0.1:${standby.port}/postgres?target_session_attrs=read-write`;
    store = await openPostgresStore({
      database: testConfig({
        DATABASE_URL: url,
        POSTGRES_POOL_TIMEOUT: '5',
        GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS: '2',
      }).database,
    });
    await store.createUser({ username: 'before_black_hole', passwordHash: 'h', email: null });

    // The old primary's address goes silent (its sockets stay open: the server behind the proxy keeps
    // running, unreachable, as when a failover moves an address away), and the standby is promoted.
    proxy.blackhole();
    await standby.promote();
    const promoted = Date.now();

    let attempts = 0;
    await pollUntil(
      'a write after the failover',
      async () => {
        attempts += 1;
        await store!.createUser({ username: `after_black_hole_${attempts}`, passwordHash: 'h', email: null });
      },
      FAILOVER_DEADLINE_MS,
    );
    const backAfter = Date.now() - promoted;
    console.log(`black-holed failover: first write ${backAfter} ms after promotion (${attempts} attempts)`);
    // The idle connection to the silent address fails at the statement deadline (2 s + 1 s), the next
    // connection gives the silent address its 2.25 s and goes on to the new primary.
    expect(backAfter).toBeLessThan(10_000);
    const rows = await standby.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE username = $1', [
      `after_black_hole_${attempts}`,
    ]);
    expect(rows[0]?.n).toBe('1');
    // The pool remembers the server that passed: its next new connection does not wait on the silent one.
    const again = Date.now();
    await Promise.all(
      [1, 2, 3].map((i) => store!.createUser({ username: `concurrent_${i}`, passwordHash: 'h', email: null })),
    );
    const concurrentMs = Date.now() - again;
    console.log(`three concurrent writes (new pooled connections) after the failover: ${concurrentMs} ms`);
    expect(concurrentMs).toBeLessThan(2_000);
    // A new pool has no memory: it walks the list from the top again.
    const started = Date.now();
    const fresh = await openPostgresStore({
      database: testConfig({ DATABASE_URL: url, POSTGRES_POOL_TIMEOUT: '5' }).database,
      migrate: false,
    });
    await fresh.close();
    const freshMs = Date.now() - started;
    console.log(`a new store (its own pool, no memory) opened in ${freshMs} ms`);
    expect(freshMs).toBeGreaterThanOrEqual(2_000);
  }, 60_000);
});
