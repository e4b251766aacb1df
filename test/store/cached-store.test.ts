import pg from 'pg';
import { createNotificationBus } from '../../src/store/postgres/notifications.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { withUserStateCache } from '../../src/store/user-state-cache.js';
import { createTestDatabase } from '../support/database.js';
import { describeStore } from './store-conformance.js';

// What production runs on PostgreSQL: the store behind the user-state cache and a real
// LISTEN/NOTIFY bus, put together as src/compose/open-store.ts puts them together.
describeStore('cached (PostgreSQL + user-state cache)', async (now) => {
  const db = await createTestDatabase();
  const database = {
    url: db.url,
    sslMode: null,
    sslRootCert: null,
    poolSize: 2,
    maxOverflow: 8,
    poolTimeoutSeconds: 10,
    echo: false,
  };
  const bus = await createNotificationBus(database);
  const store = withUserStateCache(await openPostgresStore({ database, now }), bus, { ttlMs: 60_000 });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  return {
    store,
    reset: async () => {
      await admin.query(
        'TRUNCATE users, sessions, refresh_tokens, settings, login_failures, signing_keys, audit_events CASCADE',
      );
      // TRUNCATE bypasses the store, as manual SQL would: tell the caches, and wait until this one heard it.
      await bus.publish('all');
      await store.syncInvalidations();
    },
    close: async () => {
      await Promise.all([store.close(), admin.end()]);
      await db.drop();
    },
  };
});
