/**
 * The only module that reads the environment. `loadConfig(env)` reads every
 * variable of DESIGN.md, collects all problems, throws one ConfigError listing
 * them (never echoing a secret), and returns a deep-frozen typed Config.
 *
 * TODO(helper): implementation pending.
 */

export type BackendSetting = 'auto' | 'postgres' | 'embedded' | 'memory';
export type Backend = 'postgres' | 'embedded' | 'memory';
export type SecurityLevel = 'LOW' | 'MEDIUM' | 'HIGH' | 'PARANOID';
export type JwtAlgorithm = 'HS256' | 'EdDSA' | 'ES256' | 'RS256';
export type PasswordPolicyName = 'reynard' | 'nist';
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

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

export interface AdminBootstrap {
  username: string;
  password: string;
  email: string | null;
}

export interface Config {
  /** Resolved: `auto` becomes `postgres` when `database.explicit`, else `embedded`. */
  backend: Backend;
  dataDir: string;
  database: DatabaseConfig;
  host: string;
  port: number;
  secretKey: string | null;
  jwtAlgorithm: JwtAlgorithm;
  accessTokenExpireMinutes: number;
  refreshTokenExpireDays: number;
  issuer: string | null;
  audience: string | null;
  passwordSecurityLevel: SecurityLevel;
  passwordPolicy: PasswordPolicyName;
  allowRegistration: boolean;
  loginWindowSeconds: number;
  loginAccountMaxFailures: number;
  loginIpMaxFailures: number;
  trustProxy: boolean;
  admin: AdminBootstrap | null;
  logLevel: LogLevel;
  /** Argon2 jobs running at once (GATEKEEPER_HASH_CONCURRENCY, default: number of cores). */
  hashConcurrency: number;
  /** Argon2 jobs waiting at most before 503 (GATEKEEPER_HASH_QUEUE_MAX, default 64). */
  hashQueueMax: number;
  /** GATEKEEPER_CORS_ORIGINS, comma-separated; empty = CORS off. */
  corsOrigins: string[];
  /** GATEKEEPER_AUDIT_RETENTION_DAYS, default 90. */
  auditRetentionDays: number;
  /** GATEKEEPER_REQUEST_TIMEOUT_SECONDS, default 30. */
  requestTimeoutSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(_env: Record<string, string | undefined> = process.env): Config {
  throw new Error('not implemented yet');
}
