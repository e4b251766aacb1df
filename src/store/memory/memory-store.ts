/**
 * Everything in process memory: fast, and gone when the process ends. One module
 * per facet beside this one; this class only composes them. Each facet's methods
 * run to completion without awaiting, which is what makes the contract's atomic
 * operations atomic here. The rules both stores share are in src/store/rules.ts.
 */
import type { AuditStore } from '../contract/audit.js';
import type { ClientsStore } from '../contract/clients.js';
import type { MfaStore } from '../contract/mfa.js';
import type { OneTimeTokensStore } from '../contract/one-time-tokens.js';
import type { SessionsStore } from '../contract/sessions.js';
import type { SettingsStore } from '../contract/settings.js';
import type { SigningKeysStore } from '../contract/signing-keys.js';
import type { ThrottleStore } from '../contract/throttle.js';
import type { UsersStore } from '../contract/users.js';
import { systemClock } from '../rules.js';
import type { Clock, Store, PoolFigures, StoreHealth } from '../store.js';
import { createMemoryAudit } from './audit.js';
import { createMemoryClients } from './clients.js';
import { createMemoryMfa } from './mfa.js';
import { createMemoryOneTimeTokens } from './one-time-tokens.js';
import { createMemorySessions } from './sessions.js';
import { createMemorySettings } from './settings.js';
import { createMemorySigningKeys } from './signing-keys.js';
import { createMemoryThrottle } from './throttle.js';
import { createMemoryUsers } from './users.js';

export interface MemoryStoreOptions {
  /** Where createdAt/updatedAt come from when the store stamps them; default the system clock. */
  now?: Clock;
}

// The facets' methods are put on each instance by the constructor (one object per facet,
// each with its own state); this declaration is how TypeScript learns that they are there.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface MemoryStore
  extends
    UsersStore,
    SessionsStore,
    SettingsStore,
    ThrottleStore,
    SigningKeysStore,
    AuditStore,
    ClientsStore,
    OneTimeTokensStore,
    MfaStore {}

/**
 * The memory store: the default backend without a database, and what service tests use.
 * It is trustworthy because it passes the same conformance suite as PostgreSQL
 * (test/store/store-conformance.ts).
 *
 * @example const store = new MemoryStore({ now: clock.now });
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;

  constructor(options: MemoryStoreOptions = {}) {
    const now = options.now ?? systemClock;
    const { deleteSessionsOf, ...sessions } = createMemorySessions();
    const { deleteTokensOf, ...oneTimeTokens } = createMemoryOneTimeTokens(
      async (userId) => (await users.getUserById(userId)) !== null,
    );
    const { deleteMfaOf, ...mfa } = createMemoryMfa(async (userId) => (await users.getUserById(userId)) !== null);
    const users = createMemoryUsers({
      now,
      onDelete: (userId) => {
        deleteSessionsOf(userId);
        deleteTokensOf(userId);
        deleteMfaOf(userId);
      },
    });
    const facets: UsersStore &
      SessionsStore &
      SettingsStore &
      ThrottleStore &
      SigningKeysStore &
      AuditStore &
      ClientsStore &
      OneTimeTokensStore &
      MfaStore = {
      ...users,
      ...sessions,
      ...createMemorySettings(),
      ...createMemoryThrottle(),
      ...createMemorySigningKeys(),
      ...createMemoryAudit(),
      ...createMemoryClients(),
      ...oneTimeTokens,
      ...mfa,
    };
    Object.assign(this, facets);
  }

  async health(): Promise<StoreHealth> {
    return { reachable: true, latencyMs: 0, serverVersion: null, pool: null };
  }

  poolFigures(): PoolFigures | null {
    return null;
  }

  async close(): Promise<void> {}
}
