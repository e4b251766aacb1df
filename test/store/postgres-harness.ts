import pg from 'pg';
import { createNotificationBus } from '../../src/store/postgres/notifications.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { withUserStateCache } from '../../src/store/user-state-cache.js';
import { createTestDatabase } from '../support/database.js';
import type { StoreHarness } from './store-conformance.js';

const TABLES =
  'users, sessions, refresh_tokens, settings, login_failures, signing_keys, audit_events, oauth_clients, one_time_tokens';

/**
 * The conformance harness on a database of its own: the PostgreSQL store alone, or (`cached`)
 * behind the user-state cache with a real bus (LISTEN/NOTIFY, or `invalidation: 'polling'`), put together as
 * src/compose/open-store.ts puts them together for the service.
 */
export async function openPostgresHarness(
  now: () => Date,
  options: { cached: boolean; timeZone?: string; invalidation?: 'listen' | 'polling' },
): Promise<StoreHarness> {
  const db = await createTestDatabase();
  // A session time zone other than UTC (sent as the URL's options) must change nothing: the SQL never depends on it.
  const tz = options.timeZone === undefined ? '' : `?options=${encodeURIComponent(`-c TimeZone=${options.timeZone}`)}`;
  const database = {
    url: db.url + tz,
    sslMode: null,
    sslRootCert: null,
    poolSize: 2,
    maxOverflow: 8,
    poolTimeoutSeconds: 10,
    echo: false,
  };
  const inner = await openPostgresStore({ database, now });
  await Promise.all(Array.from({ length: 10 }, () => inner.health())); // warm connections: real races
  // Polling is what the bus does with GATEKEEPER_DATABASE_POOL_MODE=transaction and no direct URL.
  const poolMode = options.invalidation === 'polling' ? ('transaction' as const) : ('session' as const);
  const bus = options.cached ? await createNotificationBus({ ...database, poolMode }) : null;
  const store: Store = bus ? withUserStateCache(inner, bus, { ttlMs: 60_000 }) : inner;
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  return {
    store,
    reset: async () => {
      await admin.query(`TRUNCATE ${TABLES} CASCADE`);
      if (!bus) return;
      // TRUNCATE bypasses the store, as manual SQL would: tell the caches, and wait until this one has heard.
      await bus.publish('all');
      await bus.sync();
    },
    close: async () => {
      await Promise.all([store.close(), admin.end()]);
      await db.drop();
    },
  };
}
