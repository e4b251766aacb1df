import { openPostgresHarness } from './postgres-harness.js';
import { describeStore } from './store-conformance.js';

// The PostgreSQL store alone, on a database of its own (see postgres-harness.ts).
describeStore('postgres', (now) => openPostgresHarness(now, { cached: false }));
