import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase } from '../support/database.js';
import { describeStore } from './store-conformance.js';

describeStore('postgres', async (now) => {
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
  const store = await openPostgresStore({ database, now });
  await Promise.all(Array.from({ length: 10 }, () => store.health())); // warm connections: real races
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  return {
    store,
    reset: async () =>
      void (await admin.query(
        'TRUNCATE users, sessions, refresh_tokens, settings, login_failures, signing_keys, audit_events CASCADE',
      )),
    close: async () => {
      await Promise.all([store.close(), admin.end()]);
      await db.drop();
    },
  };
});
