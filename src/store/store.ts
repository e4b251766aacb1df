/**
 * The storage contract: everything Gatekeeper must remember goes through this
 * interface, so every implementation (memory, PostgreSQL) is interchangeable and
 * several processes can share one database. Plain records in and out; `null` for
 * absence; constraint violations are thrown as GatekeeperError (USERNAME_TAKEN,
 * EMAIL_TAKEN, LAST_ADMIN, INSUFFICIENT_BALANCE) by the store itself, and a store
 * that cannot reach its database throws DATABASE_UNAVAILABLE.
 *
 * Operations that must be atomic are single methods, never read-then-write
 * sequences in the caller. Each concern has its own facet under ./contract/; this
 * module composes them and is the one everybody imports. The rules every store
 * enforces alike are in ./rules.ts; the conformance suite
 * (test/store/store-conformance.ts) is the executable form of this contract.
 *
 * A new facet: a contract file here, a module in ./memory/ and in ./postgres/facets/,
 * its cases in the conformance suite, and one more `extends` below.
 */
import type { AuditStore } from './contract/audit.js';
import type { ClientsStore } from './contract/clients.js';
import type { StoreLifecycle } from './contract/health.js';
import type { MfaStore } from './contract/mfa.js';
import type { OneTimeTokensStore } from './contract/one-time-tokens.js';
import type { SessionsStore } from './contract/sessions.js';
import type { SettingsStore } from './contract/settings.js';
import type { SigningKeysStore } from './contract/signing-keys.js';
import type { ThrottleStore } from './contract/throttle.js';
import type { UsersStore } from './contract/users.js';

export type { AuditEventRecord, AuditQuery, AuditStore, NewAuditEvent } from './contract/audit.js';
export type { ClientsStore, NewOAuthClient, OAuthClientRecord } from './contract/clients.js';
export type { PoolFigures, StoreHealth, StoreLifecycle } from './contract/health.js';
export type { MfaRecord, MfaStore } from './contract/mfa.js';
export type {
  IssueBudget,
  NewOneTimeToken,
  OneTimeTokensStore,
  SpentToken,
  TokenPurpose,
} from './contract/one-time-tokens.js';
export type {
  NewSession,
  RefreshTokenRecord,
  RotateResult,
  SessionRecord,
  SessionsStore,
} from './contract/sessions.js';
export type { SettingsStore } from './contract/settings.js';
export type { NewSigningKey, SigningKeyRecord, SigningKeysStore } from './contract/signing-keys.js';
export type { LoginFailures, ThrottleStore } from './contract/throttle.js';
export type { NewUser, UserPage, UserPatch, UserQuery, UserRecord, UserStats, UsersStore } from './contract/users.js';

/** Every facet of the contract: what memory, PostgreSQL and the cached store all implement. */
export interface Store
  extends
    UsersStore,
    SessionsStore,
    SettingsStore,
    ThrottleStore,
    SigningKeysStore,
    AuditStore,
    ClientsStore,
    OneTimeTokensStore,
    MfaStore,
    StoreLifecycle {}

/** Where a store reads the time when it stamps one itself (createdAt/updatedAt defaults). */
export type Clock = () => Date;
