import { openPostgresHarness } from './postgres-harness.js';
import { describeStore } from './store-conformance.js';

// The PostgreSQL store alone, on a database of its own (see postgres-harness.ts).
describeStore('postgres', (now) => openPostgresHarness(now, { cached: false }));

// The same contract with the server's session time zone 5:45 ahead of UTC and 13:45 ahead (no whole-hour
// offset hides an error): Gatekeeper sends no TimeZone of its own (PgBouncer refuses the startup option).
describeStore('postgres, session time zone Asia/Kathmandu', (now) =>
  openPostgresHarness(now, { cached: false, timeZone: 'Asia/Kathmandu' }),
);
