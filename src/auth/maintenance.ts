/**
 * Keeping the service in order: removing what expired, creating the configured
 * admin on a fresh install, and reporting the store's health and pool to the
 * operations routes (/health, /metrics), which reach the store only through here.
 */
import { GatekeeperError } from '../errors.js';
import { retiredKeyLifetimeSeconds } from '../security/signing-keys.js';
import type { PoolFigures, Store, StoreHealth } from '../store/store.js';
import { createAccount, recordEvent, recordUpdate } from './accounts.js';
import { DAY_MS, type UseCaseDeps } from './deps.js';

/** Rows of spent tokens kept this long: the per-account hourly mail budget counts them. */
const ONE_TIME_TOKEN_KEEP_MS = 3_600_000;

/** The store's health and which kind of store it is (what /health reports). */
export interface ServiceHealth extends StoreHealth {
  backend: Store['kind'];
}

/** The configured admin account (GATEKEEPER_ADMIN_*). */
export interface AdminAccount {
  username: string;
  password: string;
  email: string | null;
}

/** The maintenance use cases; AuthService delegates to them. */
export class Maintenance {
  readonly #deps: UseCaseDeps;

  constructor(deps: UseCaseDeps) {
    this.#deps = deps;
  }

  /** Everything expired: ended sessions and old refresh tokens, plus what purgeExpired() removes. */
  async cleanup(): Promise<number> {
    const [sessions, rest] = await Promise.all([this.#deps.store.cleanup(this.#deps.now()), this.purgeExpired()]);
    return sessions + rest;
  }

  /**
   * Audit events past retention, login-failure counters whose window closed, and
   * signing keys retired long enough ago that no token they signed is still valid, and spent or
   * expired one-time tokens.
   * Runs at start, periodically, and within cleanup().
   */
  async purgeExpired(): Promise<number> {
    const { store, throttle, tokens } = this.#deps;
    const now = this.#deps.now();
    const keyLifetimeMs = retiredKeyLifetimeSeconds(tokens.expiresInSeconds) * 1000;
    const counts = await Promise.all([
      store.purgeAuditEvents(new Date(now.getTime() - this.#deps.auditRetentionDays * DAY_MS)),
      store.purgeLoginFailures(now, throttle.policy.windowSeconds),
      store.purgeSigningKeys(new Date(now.getTime() - keyLifetimeMs)),
      // Spent and expired one-time tokens, once past the hour their rows count against the mail budget.
      store.purgeOneTimeTokens(now, new Date(now.getTime() - ONE_TIME_TOKEN_KEEP_MS)),
    ]);
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Creates the configured admin when no active admin exists (first start of a
   * fresh install). An existing account of that name is promoted, not overwritten.
   */
  async ensureAdmin(admin: AdminAccount): Promise<'created' | 'promoted' | 'exists'> {
    const { store } = this.#deps;
    if ((await store.countActiveAdmins()) > 0) return 'exists';
    const existing = await store.getUserByUsername(admin.username);
    if (existing) {
      const promoted = await store.updateUser(existing.id, { role: 'admin', isActive: true });
      if (promoted) await recordUpdate(this.#deps, existing, promoted, {}, 0, 'admin-bootstrap');
      return 'promoted';
    }
    try {
      const created = await createAccount(this.#deps, {
        username: admin.username,
        password: admin.password,
        email: admin.email,
        role: 'admin',
      });
      await recordEvent(this.#deps, 'register', created, {}, { role: 'admin', by: null, reason: 'admin-bootstrap' });
    } catch (err) {
      // Another instance starting at the same moment created it first.
      if (err instanceof GatekeeperError && err.code === 'USERNAME_TAKEN') return 'exists';
      throw err;
    }
    return 'created';
  }

  /**
   * The store's health (one round trip to the database) and its kind. With `timeoutMs`, a database
   * that does not answer in time (a lock, a silent connection) is reported unreachable then, so
   * /health itself never waits on what it is meant to detect.
   */
  async health(options: { timeoutMs?: number } = {}): Promise<ServiceHealth> {
    const { store } = this.#deps;
    const { timeoutMs } = options;
    if (timeoutMs === undefined) return { backend: store.kind, ...(await store.health()) };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<StoreHealth>((resolve) => {
      timer = setTimeout(() => resolve(unanswered(store, timeoutMs)), timeoutMs);
    });
    try {
      return { backend: store.kind, ...(await Promise.race([store.health(), late])) };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The connection pool's figures, or null for a store without a pool: read from the pool's
   * own counters, so a scrape of /metrics costs the database nothing.
   */
  poolFigures(): PoolFigures | null {
    return this.#deps.store.poolFigures();
  }
}

/** What /health reports when the database has not answered within its deadline. */
function unanswered(store: Store, timeoutMs: number): StoreHealth {
  return {
    reachable: false,
    latencyMs: null,
    serverVersion: null,
    pool: store.poolFigures(),
    error: `The database did not answer within ${timeoutMs / 1000} s (GATEKEEPER_HEALTH_TIMEOUT_SECONDS): a long-held lock, a silent connection or an overloaded server.`,
  };
}
