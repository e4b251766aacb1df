import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { InvalidationBus } from '../user-state-cache.js';
import type { DatabaseConfig } from './database-config.js';
import { createExecutor, type Executor } from './executor.js';
import {
  POLL_INTERVAL_MS,
  PUBLISH_SQL,
  PURGE_INTERVAL_MS,
  purgeInvalidations,
  startInvalidationPoller,
  type InvalidationPoller,
} from './invalidation-poller.js';
import { connectionTarget, createPool, type PoolSettings } from './pool.js';
import { describeDatabaseTarget } from './database-config.js';

const CHANNEL = 'gatekeeper_invalidate';
/** With nothing heard for this long, the listen connection is asked to prove it is alive. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** A marker NOTIFY not back within this long means the listen connection is lost (silent or broken). */
export const HEARTBEAT_DEADLINE_MS = 2_000;
/**
 * The start check in session pool mode: a marker not back within this long after LISTEN means
 * notifications do not come back (a transaction pooler configured as `session` by mistake).
 */
export const START_CHECK_DEADLINE_MS = 1_500;
/** Reconnecting waits this long after a loss, doubling up to RECONNECT_MAX_MS. */
const RECONNECT_FIRST_MS = 250;
export const RECONNECT_MAX_MS = 4_000;
/** Opening a connection, and any one statement of the bus, gives up after this long (a silent peer). */
const CONNECT_DEADLINE_MS = 3_000;
const STATEMENT_DEADLINE_MS = 3_000;

/** What the bus needs from the database config: the pool settings, and where LISTEN can work. */
export type BusSettings = PoolSettings & Partial<Pick<DatabaseConfig, 'poolMode' | 'directUrl'>>;

export type BusLog = (line: string, level?: 'info' | 'warn') => void;

/** The bus, and how it hears other instances (for the start log and tests). */
export interface NotificationBus extends InvalidationBus {
  readonly mode: 'listen' | 'polling';
}

/**
 * Invalidation messages between every Gatekeeper process on one database. Every publish writes a
 * row of `gatekeeper_invalidations` and sends a NOTIFY in the same statement; an instance hears
 * them one of two ways, chosen at start (and said so in one log line):
 *
 * - `listen`: LISTEN on one held connection (GATEKEEPER_DATABASE_DIRECT_URL when given). With
 *   nothing heard for HEARTBEAT_INTERVAL_MS, a marker NOTIFY must come back within
 *   HEARTBEAT_DEADLINE_MS, or the connection counts as lost: it is destroyed, caching is off (reset
 *   handlers; `connected` false), and it reconnects with bounded backoff; caching is back on only
 *   once LISTEN succeeded and a marker came back. PostgreSQL delivers a channel's notifications in
 *   commit order, which makes `sync()` a barrier: once our own marker is back, every message sent
 *   before it has been handled here.
 * - `polling`: GATEKEEPER_DATABASE_POOL_MODE=transaction without a direct URL (LISTEN does not work
 *   through a transaction pooler), or session mode whose start check heard no marker: new rows are
 *   read every POLL_INTERVAL_MS (./invalidation-poller.ts); `sync()` is one read now.
 *
 * No wait is unbounded: connecting, every statement, every marker and `sync()` have deadlines.
 */
export async function createNotificationBus(settings: BusSettings, log: BusLog = () => {}): Promise<NotificationBus> {
  const poolMode = settings.poolMode ?? 'session';
  const direct = settings.directUrl ?? null;
  const bounded = {
    poolTimeoutSeconds: Math.min(settings.poolTimeoutSeconds, CONNECT_DEADLINE_MS / 1000),
    echo: false,
  };
  // Sending (publish, markers, polling) goes through the main URL, pooler or not, on a pool of its
  // own: a sender must not depend on its own listener being up.
  const sendPool = createPool(
    { ...settings, ...bounded, poolSize: 1, maxOverflow: 2 },
    { log: (line) => log(line, 'warn'), applicationName: 'gatekeeper-publish' },
  );
  const db = createExecutor(sendPool, {
    target: connectionTarget(settings.url),
    statementDeadlineMs: STATEMENT_DEADLINE_MS,
  });
  const messageHandlers: Array<(message: string) => void> = [];
  const resetHandlers: Array<() => void> = [];
  const handlers = {
    message: (message: string) => {
      for (const handler of messageHandlers) handler(message);
    },
    reset: () => {
      for (const handler of resetHandlers) handler();
    },
  };
  const purge = setInterval(() => void purgeInvalidations(db).catch(() => undefined), PURGE_INTERVAL_MS);
  purge.unref();

  let channel: Channel;
  try {
    if (poolMode === 'transaction' && direct === null) {
      channel = await startPolling(db, handlers, log);
      log(
        `cache invalidation: polling gatekeeper_invalidations every ${POLL_INTERVAL_MS} ms ` +
          '(transaction pooling: LISTEN does not work through it)',
        'info',
      );
    } else {
      const listenUrl = direct ?? settings.url;
      const listened = await startListening({ ...settings, ...bounded, url: listenUrl }, db, handlers, log);
      const where = describeDatabaseTarget(connectionTarget(listenUrl));
      if (listened !== null) {
        channel = listened;
        const via = direct === null ? '' : ' (GATEKEEPER_DATABASE_DIRECT_URL)';
        log(`cache invalidation: LISTEN/NOTIFY on ${where}${via}, heartbeat every ${HEARTBEAT_INTERVAL_MS} ms`, 'info');
      } else {
        channel = await startPolling(db, handlers, log);
        log(
          `cache invalidation: polling gatekeeper_invalidations every ${POLL_INTERVAL_MS} ms ` +
            `(LISTEN on ${where} heard no notification within ${START_CHECK_DEADLINE_MS} ms: ` +
            'a transaction pooler? set GATEKEEPER_DATABASE_POOL_MODE=transaction)',
          'warn',
        );
      }
    }
  } catch (err) {
    clearInterval(purge);
    await db.close().catch(() => undefined);
    throw err;
  }

  return {
    mode: channel.mode,
    get connected() {
      return channel.connected;
    },
    async publish(message: string): Promise<void> {
      try {
        await db.query(PUBLISH_SQL, [CHANNEL, message]);
      } catch {
        // The write itself went through; other instances fall back to the cache's time limit.
        log(
          'could not publish a cache invalidation; other instances may serve it for up to GATEKEEPER_USER_CACHE_SECONDS',
          'warn',
        );
      }
    },
    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onReset(handler) {
      resetHandlers.push(handler);
    },
    sync: () => channel.sync(),
    async close(): Promise<void> {
      clearInterval(purge);
      await channel.close();
      await db.close();
    },
  };
}

/** One way of hearing the other instances. */
interface Channel {
  readonly mode: 'listen' | 'polling';
  readonly connected: boolean;
  sync(): Promise<void>;
  close(): Promise<void>;
}

interface Handlers {
  message(message: string): void;
  reset(): void;
}

async function startPolling(db: Executor, handlers: Handlers, log: BusLog): Promise<Channel> {
  const poller: InvalidationPoller = await startInvalidationPoller(db, {
    ...handlers,
    log: (line) => log(line, 'warn'),
  });
  return {
    mode: 'polling',
    get connected() {
      return poller.alive;
    },
    sync: () => poller.pollNow(),
    close: async () => poller.stop(),
  };
}

/**
 * LISTEN on one held connection, proven by a marker round trip. Null when the start check heard
 * nothing back (notifications do not reach this connection); throws when it cannot LISTEN at all.
 */
async function startListening(
  settings: PoolSettings,
  db: Executor,
  handlers: Handlers,
  log: BusLog,
): Promise<Channel | null> {
  // Its own pool of one: the connection is held for the bus's whole life, never handed to a query.
  const pool = createPool(
    { ...settings, poolSize: 1, maxOverflow: 0, minConnections: 0 },
    { log: (line) => log(line, 'warn'), applicationName: 'gatekeeper-notify' },
  );
  // Markers waiting for their round trip: resolved true when heard, false when the channel is lost.
  const markers = new Map<string, (heard: boolean) => void>();
  let client: pg.PoolClient | null = null;
  let proven = false;
  let closed = false;
  let lastHeardAt = 0;
  let backoff = RECONNECT_FIRST_MS;
  let heartbeat: NodeJS.Timeout | null = null;
  let reconnect: NodeJS.Timeout | null = null;

  const onNotification = (n: pg.Notification) => {
    lastHeardAt = Date.now();
    const payload = n.payload ?? '';
    if (payload.startsWith('sync:')) {
      // Our own marker, or another instance's (which proves this connection alive just as well).
      markers.get(payload)?.(true);
      return;
    }
    handlers.message(payload);
  };

  /** A marker NOTIFY sent through the send pool, and whether it came back here within `deadlineMs`. */
  const roundTrip = async (deadlineMs: number): Promise<boolean> => {
    const marker = `sync:${randomUUID()}`;
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<boolean>((resolve) => {
      markers.set(marker, resolve);
      timer = setTimeout(() => resolve(false), deadlineMs);
    });
    const sent = db.query('SELECT pg_notify($1, $2)', [CHANNEL, marker]).then(
      () => heard,
      () => false,
    );
    try {
      return await Promise.race([heard, sent]);
    } finally {
      clearTimeout(timer);
      markers.delete(marker);
    }
  };

  const lost = (broken: pg.PoolClient, why: string) => {
    if (client !== broken) return;
    client = null;
    proven = false;
    if (heartbeat) clearTimeout(heartbeat);
    broken.removeListener('notification', onNotification);
    broken.release(true);
    handlers.reset();
    // Caching is off now, so no sync has anything left to wait for.
    for (const resolve of markers.values()) resolve(false);
    if (!closed) {
      log(`cache invalidation: LISTEN connection lost (${why}); caching is off until it is back`, 'warn');
      scheduleReconnect();
    }
  };

  const beat = () => {
    heartbeat = null;
    const current = client;
    if (closed || current === null) return;
    const quiet = Date.now() - lastHeardAt;
    if (quiet < HEARTBEAT_INTERVAL_MS) {
      schedule(HEARTBEAT_INTERVAL_MS - quiet);
      return;
    }
    void roundTrip(HEARTBEAT_DEADLINE_MS).then((heard) => {
      if (client !== current) return;
      if (heard) schedule(HEARTBEAT_INTERVAL_MS);
      else lost(current, `no heartbeat within ${HEARTBEAT_DEADLINE_MS} ms`);
    });
  };
  const schedule = (ms: number) => {
    heartbeat = setTimeout(beat, ms);
    heartbeat.unref();
  };

  /** Connects, LISTENs and proves it with a marker; false (connection given up) if no marker came back. */
  const connect = async (deadlineMs: number): Promise<boolean> => {
    const fresh = await pool.connect();
    fresh.on('notification', onNotification);
    fresh.on('error', (err) => lost(fresh, err.message));
    fresh.on('end', () => lost(fresh, 'closed'));
    try {
      await fresh.query({ text: `LISTEN ${CHANNEL}`, query_timeout: STATEMENT_DEADLINE_MS } as pg.QueryConfig);
    } catch (err) {
      // Refused (a standby: "cannot execute LISTEN during recovery") or broken: give the connection
      // back, destroyed, or every retry would hold one more.
      fresh.removeListener('notification', onNotification);
      fresh.release(true);
      throw err;
    }
    client = fresh;
    if (closed || !(await roundTrip(deadlineMs)) || client !== fresh) {
      if (client === fresh) {
        client = null;
        // Behind a transaction pooler this LISTEN stays on some server connection: take it back, if we can.
        await fresh
          .query({ text: 'UNLISTEN *', query_timeout: STATEMENT_DEADLINE_MS } as pg.QueryConfig)
          .catch(() => undefined);
        fresh.removeListener('notification', onNotification);
        fresh.release(true);
      }
      return false;
    }
    proven = true;
    backoff = RECONNECT_FIRST_MS;
    // Messages may have been missed while we were not listening, and a read that raced with the
    // loss must not store what it loaded: start from nothing.
    handlers.reset();
    schedule(HEARTBEAT_INTERVAL_MS);
    return true;
  };

  const scheduleReconnect = () => {
    if (closed || reconnect) return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
    reconnect = setTimeout(() => {
      reconnect = null;
      if (closed) return;
      connect(HEARTBEAT_DEADLINE_MS).then(
        (ok) => {
          if (ok) log('cache invalidation: LISTEN connection back; caching is on', 'warn');
          else scheduleReconnect();
        },
        () => scheduleReconnect(),
      );
    }, wait);
    reconnect.unref();
  };

  const close = async () => {
    closed = true;
    if (heartbeat) clearTimeout(heartbeat);
    if (reconnect) clearTimeout(reconnect);
    const current = client;
    client = null;
    proven = false;
    for (const resolve of markers.values()) resolve(false);
    current?.removeListener('notification', onNotification);
    current?.release(true);
    await pool.end().catch(() => undefined);
  };

  try {
    if (!(await connect(START_CHECK_DEADLINE_MS))) {
      await close();
      return null;
    }
  } catch (err) {
    await close();
    throw err;
  }

  return {
    mode: 'listen',
    get connected() {
      return client !== null && proven;
    },
    async sync(): Promise<void> {
      const current = client;
      if (current === null || !proven) return; // not caching: nothing to wait for
      if (!(await roundTrip(HEARTBEAT_DEADLINE_MS)))
        lost(current, `sync marker not back within ${HEARTBEAT_DEADLINE_MS} ms`);
    },
    close,
  };
}
