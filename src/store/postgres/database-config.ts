/**
 * The database part of the configuration, as the PostgreSQL store needs it. Its own module so that
 * the store does not import config.ts: config.ts reads these from the environment, library users
 * pass them directly.
 */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

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
  /** True when DATABASE_URL or any POSTGRES_* connection variable was set. */
  explicit: boolean;
}

/** What names a database without its password: a DatabaseConfig, or the parts of a URL (pool.ts connectionTarget). */
export type DatabaseTarget = Pick<DatabaseConfig, 'user' | 'host' | 'port' | 'database'>;

/**
 * A host as it is written before `:port`: IPv6 literals in brackets; names, IPv4 and
 * Unix socket directories as they are.
 * @example bracketHost('::1') // '[::1]'
 */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') && !host.startsWith('/') ? `[${host}]` : host;
}

/**
 * `host:port` of a database server, for messages.
 * @example describeServerAddress({ host: '::1', port: 5432 }) // '[::1]:5432'
 */
export function describeServerAddress(db: Pick<DatabaseTarget, 'host' | 'port'>): string {
  return `${bracketHost(db.host)}:${db.port}`;
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
