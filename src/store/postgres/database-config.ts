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
