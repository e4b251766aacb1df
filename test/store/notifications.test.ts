import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/store/postgres/executor.js';
import { POLL_INTERVAL_MS, purgeInvalidations } from '../../src/store/postgres/invalidation-poller.js';
import {
  createNotificationBus,
  HEARTBEAT_DEADLINE_MS,
  HEARTBEAT_INTERVAL_MS,
  RECONNECT_MAX_MS,
  type BusSettings,
  type NotificationBus,
} from '../../src/store/postgres/notifications.js';
import { connectionTarget, createPool } from '../../src/store/postgres/pool.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startPrimary, type PgServer } from '../support/pg-cluster.js';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const settings = (url: string, extra: Partial<BusSettings> = {}): BusSettings => ({
  url,
  sslMode: null,
  sslRootCert: null,
  poolSize: 2,
  maxOverflow: 2,
  poolTimeoutSeconds: 10,
  echo: false,
  ...extra,
});

/** Polls `condition` until it holds, failing after `timeoutMs`; resolves with how long it took. */
async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - start;
}

/** A bus with what it heard, the resets it had, and its log lines. */
async function open(config: BusSettings) {
  const heard: string[] = [];
  const lines: string[] = [];
  let resets = 0;
  const bus: NotificationBus = await createNotificationBus(config, (line) => lines.push(line));
  bus.onMessage((m) => heard.push(m));
  bus.onReset(() => (resets += 1));
  return { bus, heard, lines, resets: () => resets };
}

async function rows(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Applies the migrations (0009 included) to `url`, as the service does at start. */
async function migrate(url: string): Promise<void> {
  const store = await openPostgresStore({ database: settings(url) });
  await store.close();
}

const unique = (prefix: string) => `${prefix}:${Math.random().toString(36).slice(2)}`;

describe('invalidation bus on one PostgreSQL', () => {
  let db: TestDatabase;
  const closing: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.url);
  });
  afterAll(async () => {
    for (const close of closing.reverse()) await close().catch(() => undefined);
    await db?.drop();
  });

  it('migration 0009 creates gatekeeper_invalidations; a publish is one row and one NOTIFY', async () => {
    const a = await open(settings(db.url));
    const b = await open(settings(db.url));
    closing.push(
      () => a.bus.close(),
      () => b.bus.close(),
    );
    expect(a.bus.mode).toBe('listen');
    expect(a.lines.filter((l) => l.startsWith('cache invalidation:'))).toEqual([
      expect.stringMatching(/^cache invalidation: LISTEN\/NOTIFY on .*, heartbeat every 2000 ms$/),
    ]);
    const message = unique('session');
    await a.bus.publish(message);
    await b.bus.sync();
    expect(b.heard).toContain(message);
    const written = await rows(db.url, 'SELECT message FROM gatekeeper_invalidations WHERE message = $1', [message]);
    expect(written).toHaveLength(1);
  });

  it('a black-holed LISTEN connection is given up within heartbeat + deadline, sync() does not hang, and it comes back', async () => {
    const proxy: TcpProxy = await startTcpProxy(Number(new URL(db.url).port));
    closing.push(() => proxy.close());
    const a = await open(settings(db.url));
    const b = await open(settings(proxy.through(db.url)));
    closing.push(
      () => a.bus.close(),
      () => b.bus.close(),
    );
    expect(b.bus.connected).toBe(true);
    const resetsBefore = b.resets();

    // Nothing asked of it: the heartbeat alone finds the silence.
    proxy.blackhole();
    const start = Date.now();
    const detectMs = await until(() => !b.bus.connected, 'b sees its channel lost', 10_000);
    console.log(`black hole: connected=false after ${detectMs} ms (heartbeat alone)`);
    expect(detectMs).toBeLessThan(HEARTBEAT_INTERVAL_MS + HEARTBEAT_DEADLINE_MS + 1_500);
    expect(Date.now() - start).toBeGreaterThanOrEqual(detectMs);
    // Caching off: the reset handlers ran (the cache dropped everything).
    expect(b.resets()).toBeGreaterThan(resetsBefore);
    expect(b.lines.some((l) => l.includes('LISTEN connection lost'))).toBe(true);
    // Still silent: a sync returns (nothing cached to protect) and does not hang.
    const quick = Date.now();
    await b.bus.sync();
    expect(Date.now() - quick).toBeLessThan(HEARTBEAT_DEADLINE_MS + 1_000);
    expect(b.bus.connected).toBe(false);

    proxy.restore();
    const back = await until(() => b.bus.connected, 'b is connected again', RECONNECT_MAX_MS + 3_000 + 5_000);
    console.log(`black hole lifted: connected again after ${back} ms`);
    const message = unique('user');
    await a.bus.publish(message);
    await b.bus.sync();
    expect(b.heard).toContain(message);

    // A sync started just as the connection goes silent ends within its deadline and gives it up.
    proxy.blackhole();
    const syncStart = Date.now();
    await b.bus.sync();
    const syncMs = Date.now() - syncStart;
    console.log(`black hole during sync(): returned after ${syncMs} ms, connected=${b.bus.connected}`);
    expect(syncMs).toBeLessThan(HEARTBEAT_DEADLINE_MS + 1_000);
    expect(b.bus.connected).toBe(false);
    proxy.restore();
    await until(() => b.bus.connected, 'b is connected again', RECONNECT_MAX_MS + 3_000 + 5_000);
  });

  it('polling mode (transaction pool mode, no direct URL): hears and is heard by a listening instance within 1 s', async () => {
    const polling = await open(settings(db.url, { poolMode: 'transaction' }));
    const listening = await open(settings(db.url));
    closing.push(
      () => polling.bus.close(),
      () => listening.bus.close(),
    );
    expect(polling.bus.mode).toBe('polling');
    expect(polling.bus.connected).toBe(true);
    expect(polling.lines.filter((l) => l.startsWith('cache invalidation:'))).toEqual([
      'cache invalidation: polling gatekeeper_invalidations every 250 ms (transaction pooling: LISTEN does not work through it)',
    ]);
    const toPolling = unique('session');
    const sent = Date.now();
    await listening.bus.publish(toPolling);
    const ms = await until(() => polling.heard.includes(toPolling), 'the poller hears it', 1_000);
    console.log(`polling instance heard a publish after ${ms} ms (interval ${POLL_INTERVAL_MS} ms)`);
    expect(Date.now() - sent).toBeLessThan(1_000);
    // sync() in polling mode is one read now.
    const synced = unique('user');
    await listening.bus.publish(synced);
    await polling.bus.sync();
    expect(polling.heard).toContain(synced);

    const toListening = unique('user-sessions');
    await polling.bus.publish(toListening);
    await listening.bus.sync();
    expect(listening.heard).toContain(toListening);
  });

  it('polling: a row committed after a higher id was read (the id hole) is still heard', async () => {
    const polling = await open(settings(db.url, { poolMode: 'transaction' }));
    closing.push(() => polling.bus.close());
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      const early = unique('session');
      await slow.query('INSERT INTO gatekeeper_invalidations (message) VALUES ($1)', [early]);
      const later = unique('session');
      await polling.bus.publish(later);
      await polling.bus.sync();
      expect(polling.heard).toContain(later);
      expect(polling.heard).not.toContain(early);
      await slow.query('COMMIT');
      await polling.bus.sync();
      expect(polling.heard).toContain(early);
      // Each is handled once.
      expect(polling.heard.filter((m) => m === early || m === later)).toHaveLength(2);
    } finally {
      await slow.end();
    }
  });

  it('purge deletes rows older than a minute and keeps the recent ones', async () => {
    const old = unique('all');
    const recent = unique('all');
    await rows(
      db.url,
      `INSERT INTO gatekeeper_invalidations (message, created_at) VALUES ($1, now() - interval '2 minutes'), ($2, now())`,
      [old, recent],
    );
    const executor = createExecutor(createPool(settings(db.url)), { target: connectionTarget(db.url) });
    try {
      expect(await purgeInvalidations(executor)).toBeGreaterThanOrEqual(1);
    } finally {
      await executor.close();
    }
    const left = await rows(db.url, 'SELECT message FROM gatekeeper_invalidations WHERE message = ANY($1)', [
      [old, recent],
    ]);
    expect(left.map((r) => r.message)).toEqual([recent]);
  });
});

describe('invalidation bus through PgBouncer 1.18 in transaction mode', () => {
  let server: PgServer;
  let bouncer: PgBouncer;
  let directUrl: string;
  const closing: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    server = await startPrimary();
    await server.query('CREATE DATABASE gk_bus');
    directUrl = server.url('gk_bus');
    await migrate(directUrl);
    const parsed = new URL(directUrl);
    bouncer = await startPgBouncer({
      server: {
        port: server.port,
        user: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      },
      mode: 'transaction',
      poolSize: 5,
    });
  }, 120_000);
  afterAll(async () => {
    for (const close of closing.reverse()) await close().catch(() => undefined);
    await bouncer?.stop();
    await server?.destroy();
  });

  it('poolMode transaction: a publish by A reaches B within 1 s (polling on both)', async () => {
    const through = bouncer.url('gk_bus');
    const a = await open(settings(through, { poolMode: 'transaction' }));
    const b = await open(settings(through, { poolMode: 'transaction' }));
    closing.push(
      () => a.bus.close(),
      () => b.bus.close(),
    );
    expect([a.bus.mode, b.bus.mode]).toEqual(['polling', 'polling']);
    const latencies: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const message = unique('session');
      const sent = Date.now();
      await a.bus.publish(message);
      await until(() => b.heard.includes(message), 'B hears it', 2_000);
      latencies.push(Date.now() - sent);
    }
    const max = Math.max(...latencies);
    console.log(
      `through PgBouncer (transaction): publish → heard by the other instance: ${latencies.join(', ')} ms (max ${max})`,
    );
    expect(max).toBeLessThan(1_000);
  });

  it('poolMode session through a transaction-mode bouncer: the start check falls back to polling and says so', async () => {
    const b = await open(settings(bouncer.url('gk_bus'), { poolMode: 'session' }));
    closing.push(() => b.bus.close());
    expect(b.bus.mode).toBe('polling');
    const line = b.lines.find((l) => l.startsWith('cache invalidation:'));
    expect(line).toMatch(
      /^cache invalidation: polling gatekeeper_invalidations every 250 ms \(LISTEN on .* heard no notification/,
    );
    const a = await open(settings(bouncer.url('gk_bus'), { poolMode: 'transaction' }));
    closing.push(() => a.bus.close());
    const message = unique('user');
    await a.bus.publish(message);
    await until(() => b.heard.includes(message), 'B hears it by polling', 1_000);
  });

  it('poolMode transaction with a direct URL: LISTEN on the direct URL, publishes through the bouncer heard', async () => {
    const through = bouncer.url('gk_bus');
    const b = await open(settings(through, { poolMode: 'transaction', directUrl }));
    const a = await open(settings(through, { poolMode: 'transaction' }));
    closing.push(
      () => b.bus.close(),
      () => a.bus.close(),
    );
    expect(b.bus.mode).toBe('listen');
    expect(b.lines.find((l) => l.startsWith('cache invalidation:'))).toMatch(
      new RegExp(`^cache invalidation: LISTEN/NOTIFY on .*:${server.port}/gk_bus \\(GATEKEEPER_DATABASE_DIRECT_URL\\)`),
    );
    const message = unique('session');
    const sent = Date.now();
    await a.bus.publish(message);
    const ms = await until(() => b.heard.includes(message), 'B hears it by NOTIFY', 1_000);
    console.log(`direct-URL listener heard a publish through the bouncer after ${ms} ms`);
    expect(Date.now() - sent).toBeLessThan(1_000);
    await b.bus.sync();
    expect(b.bus.connected).toBe(true);
  });
});
