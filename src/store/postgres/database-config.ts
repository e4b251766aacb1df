/**
 * The database part of the configuration, as the PostgreSQL store needs it. Its own module so that
 * the store does not import config.ts: config.ts reads these from the environment, library users
 * pass them directly.
 */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
export type PoolMode = 'session' | 'transaction';

export interface DatabaseConfig {
  /** DATABASE_URL when set, else built from the POSTGRES_* parts (user/password URL-encoded). */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** POSTGRES_SSLMODE, else `sslmode` from the URL, else null (node-postgres default: no TLS). */
  sslMode: SslMode | null;
  sslRootCert: string | null;
  poolSize: number;
  maxOverflow: number;
  poolTimeoutSeconds: number;
  echo: boolean;
  /**
   * GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS (default 5, 0 = none): the server cancels a statement
   * running longer; the client gives up on an answer one second after that (a silent connection).
   */
  statementTimeoutSeconds: number;
  /** GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS (default 2, 0 = none): longest wait for a row or table lock. */
  lockTimeoutSeconds: number;
  /** GATEKEEPER_DATABASE_IDLE_SECONDS (default 30): an idle connection above the floor is closed after this long. */
  idleSeconds: number;
  /** GATEKEEPER_DATABASE_MIN_CONNECTIONS (default 1): idle connections kept open (the floor). */
  minConnections: number;
  /**
   * GATEKEEPER_DATABASE_POOL_MODE: `session` (default; direct connections or a pooler in session mode)
   * or `transaction` (a pooler in transaction mode: no session state is relied on, invalidation is polled).
   */
  poolMode: PoolMode;
  /**
   * GATEKEEPER_DATABASE_DIRECT_URL: a URL that reaches PostgreSQL without a transaction pooler, used for
   * what needs a session of its own (LISTEN, migrations); null: the main URL is used for them too.
   */
  directUrl: string | null;
  /** True when DATABASE_URL or any POSTGRES_* connection variable was set. */
  explicit: boolean;
  /**
   * Every server of a multi-host DATABASE_URL (`h1:5432,h2:5433`, ./hosts.ts), in order; absent with one
   * server. `host` and `port` are then the first one's.
   */
  servers?: ReadonlyArray<{ host: string; port: number }>;
}

/** What names a database without its password: a DatabaseConfig, or the parts of a URL (pool.ts connectionTarget). */
export type DatabaseTarget = Pick<DatabaseConfig, 'user' | 'host' | 'port' | 'database' | 'servers'>;

/**
 * A host as it is written before `:port`: IPv6 literals in brackets; names, IPv4 and
 * Unix socket directories as they are.
 * @example bracketHost('::1') // '[::1]'
 */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') && !host.startsWith('/') ? `[${host}]` : host;
}

/**
 * `host:port` of a database server, for messages; every server, comma-separated, for a multi-host URL.
 * @example describeServerAddress({ host: '::1', port: 5432 }) // '[::1]:5432'
 */
export function describeServerAddress(db: Pick<DatabaseTarget, 'host' | 'port' | 'servers'>): string {
  const servers = db.servers !== undefined && db.servers.length > 1 ? db.servers : [db];
  return servers.map((server) => `${bracketHost(server.host)}:${server.port}`).join(',');
}

/**
 * Names a database for start lines and messages without its password: the one
 * `user@host:port/db` formatter of the store, the CLI and the service
 * (src/config/database.ts re-exports it).
 * @example describeDatabaseTarget(config.database) // 'reynard@localhost:5432/reynard'
 */
export function describeDatabaseTarget(db: DatabaseTarget): string {
  return `${db.user}@${describeServerAddress(db)}/${db.database}`;
}
