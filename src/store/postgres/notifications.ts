import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { InvalidationBus } from '../user-state-cache.js';
import { createExecutor } from './executor.js';
import { connectionTarget, createPool, type PoolSettings } from './pool.js';

const CHANNEL = 'gatekeeper_invalidate';
const RECONNECT_DELAY_MS = 1_000;

/**
 * Invalidation messages between every Gatekeeper process on one database, over
 * PostgreSQL LISTEN/NOTIFY on one dedicated connection. PostgreSQL delivers the
 * notifications of a channel to each listener in commit order, which is what
 * makes `sync()` a barrier: once our own marker comes back, every message sent
 * before it has been handled here.
 */
export async function createNotificationBus(
  settings: PoolSettings,
  log: (line: string) => void = () => {},
): Promise<InvalidationBus> {
  // One connection held for LISTEN, one for sending: a sender must not depend on its own listener being up.
  const pool = createPool(
    { ...settings, poolSize: 1, maxOverflow: 1, echo: false },
    { log, applicationName: 'gatekeeper-notify' },
  );
  const db = createExecutor(pool, { target: connectionTarget(settings.url) });
  const messageHandlers: Array<(message: string) => void> = [];
  const resetHandlers: Array<() => void> = [];
  const pendingSyncs = new Map<string, () => void>();
  let client: pg.PoolClient | null = null;
  let closed = false;

  const onNotification = (n: pg.Notification) => {
    const payload = n.payload ?? '';
    if (payload.startsWith('sync:')) {
      pendingSyncs.get(payload)?.();
      pendingSyncs.delete(payload);
      return;
    }
    for (const handler of messageHandlers) handler(payload);
  };

  // The LISTEN connection is held for the bus's whole life, so it is checked out here rather
  // than through the executor (which gives a connection back after each use); sending goes through it.
  const connect = async (): Promise<void> => {
    const fresh = await pool.connect();
    fresh.on('notification', onNotification);
    fresh.on('error', () => lost(fresh));
    try {
      await fresh.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      // Refused (a standby: "cannot execute LISTEN during recovery") or broken: give the connection
      // back, destroyed, or every retry would hold one more until the bus's small pool runs dry.
      fresh.removeListener('notification', onNotification);
      fresh.release(true);
      throw err;
    }
    client = fresh;
    // Messages may have been missed while we were not listening: start from nothing.
    for (const handler of resetHandlers) handler();
  };

  const lost = (broken: pg.PoolClient) => {
    if (client !== broken) return;
    client = null;
    broken.release(true);
    for (const handler of resetHandlers) handler();
    // Caching is off now, so there is nothing left to wait for.
    for (const resolve of pendingSyncs.values()) resolve();
    pendingSyncs.clear();
    if (!closed) {
      log('invalidation channel lost; caching is off until it is back');
      scheduleReconnect();
    }
  };

  const scheduleReconnect = () => {
    setTimeout(() => {
      if (closed) return;
      connect().catch(() => scheduleReconnect());
    }, RECONNECT_DELAY_MS).unref();
  };

  try {
    await connect();
  } catch (err) {
    closed = true;
    await pool.end().catch(() => undefined);
    throw err;
  }

  return {
    get connected() {
      return client !== null;
    },
    async publish(message: string): Promise<void> {
      try {
        await db.query('SELECT pg_notify($1, $2)', [CHANNEL, message]);
      } catch {
        // The write itself went through; other instances fall back to the cache's time limit.
        log(
          'could not publish a cache invalidation; other instances may serve it for up to GATEKEEPER_USER_CACHE_SECONDS',
        );
      }
    },
    onMessage(handler) {
      messageHandlers.push(handler);
    },
    onReset(handler) {
      resetHandlers.push(handler);
    },
    async sync(): Promise<void> {
      if (client === null) return; // not caching: nothing to wait for
      const marker = `sync:${randomUUID()}`;
      const arrived = new Promise<void>((resolve) => pendingSyncs.set(marker, resolve));
      await db.query('SELECT pg_notify($1, $2)', [CHANNEL, marker]);
      await arrived;
    },
    async close(): Promise<void> {
      closed = true;
      const current = client;
      client = null;
      current?.release(true);
      await db.close();
    },
  };
}
