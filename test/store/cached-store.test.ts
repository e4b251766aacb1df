import { openPostgresHarness } from './postgres-harness.js';
import { describeStore } from './store-conformance.js';

// What production runs on PostgreSQL: the store behind the per-process user-state cache and a
// real LISTEN/NOTIFY bus (src/store/user-state-cache.ts), built as src/compose/open-store.ts builds it.
describeStore('cached (PostgreSQL + user-state cache)', (now) => openPostgresHarness(now, { cached: true }));

// Behind a transaction pooler the bus polls gatekeeper_invalidations instead: the same contract must hold.
describeStore('cached, polling invalidation (PostgreSQL + user-state cache)', (now) =>
  openPostgresHarness(now, { cached: true, invalidation: 'polling' }),
);
