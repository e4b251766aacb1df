/**
 * The only module that reads the environment. `loadConfig(env)` reads every
 * variable of DESIGN.md, collects all problems, throws one ConfigError listing
 * them (never echoing a secret), and returns a deep-frozen typed Config.
 */
import os from 'node:os';
import path from 'node:path';
import { JWT_ALGORITHMS, type JwtAlgorithm } from './core/algorithms.js';
import { PASSWORD_POLICIES, type PasswordPolicyName } from './core/password-policies.js';
import { SECURITY_LEVEL_NAMES, type SecurityLevel } from './core/security-levels.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import type { DatabaseConfig, SslMode } from './store/postgres/database-config.js';

export type { DatabaseConfig, SslMode };

export type BackendSetting = 'auto' | 'postgres' | 'embedded' | 'memory';
export type Backend = 'postgres' | 'embedded' | 'memory';

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
  /** GATEKEEPER_ACCESS_LOG: one log line per HTTP request (method, path, status, time), default off. */
  accessLog: boolean;
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
  /** GATEKEEPER_WORKERS: HTTP worker processes sharing the port (node:cluster), default 1. */
  workers: number;
  /** GATEKEEPER_USER_CACHE_SECONDS: per-process cache of session/user state (PostgreSQL only), 0 = off; default 10. */
  userCacheSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const BACKENDS: readonly BackendSetting[] = ['auto', 'postgres', 'embedded', 'memory'];
const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
/** Setting any of these means "I run my own PostgreSQL"; pool and TLS tuning alone does not. */
const CONNECTION_VARIABLES = ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'];
const MIN_SECRET_KEY_LENGTH = 32;

/** JSON quoting keeps each problem on one line even if the value holds a newline. */
const show = (value: string): string => JSON.stringify(value);

/** Reads one env object; every helper returns a usable fallback and records what was wrong. */
function createReader(env: Env, problems: string[]) {
  // An empty string counts as unset: `FOO=` in a compose file or .env should mean "default".
  const raw = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const whole = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = raw(name);
    if (value === undefined) return fallback;
    // A strict pattern, because Number() would accept " ", "1e3", "0x10" and parseInt() "1.5" or "10abc".
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    problems.push(`${name} must be a whole number ${range} (got ${show(value)})`);
    return fallback;
  };

  const positive = (name: string, fallback: number): number => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const n = /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : NaN;
    if (n > 0 && Number.isFinite(n)) return n;
    problems.push(`${name} must be a number > 0, e.g. 30 or 2.5 (got ${show(value)})`);
    return fallback;
  };

  const bool = (name: string, fallback: boolean): boolean => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const word = value.toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    problems.push(`${name} must be one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')} (got ${show(value)})`);
    return fallback;
  };

  const oneOf = <T extends string, F extends T | null>(
    name: string,
    allowed: readonly T[],
    fallback: F,
    anyCase = false,
  ) => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const found = allowed.find((a) => a === value || (anyCase && a.toUpperCase() === value.toUpperCase()));
    if (found !== undefined) return found;
    problems.push(`${name} must be one of ${allowed.join(', ')} (got ${show(value)})`);
    return fallback;
  };

  return { raw, whole, positive, bool, oneOf };
}

/** IPv6 literals need brackets wherever a port follows. */
const bracketIpv6 = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
/** node-postgres reads a %-encoded host starting with `/` as a Unix socket directory. */
const urlHost = (host: string): string => (host.startsWith('/') ? encodeURIComponent(host) : bracketIpv6(host));

/**
 * Replaces the password of a URL with `***`, for logs and error messages.
 * Input that does not parse comes back as `<unparseable URL>`, since a password in it could not be found.
 * @example redactUrl('postgresql://app:s3cret@db:5432/auth') // 'postgresql://app:***@db:5432/auth'
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparseable URL>';
  }
  if (parsed.password === '') return url;
  parsed.password = '***';
  return parsed.href;
}

/**
 * Names a database for start lines and error messages without its password.
 * @example describeDatabaseTarget(config.database) // 'reynard@localhost:5432/reynard'
 */
export function describeDatabaseTarget(db: DatabaseConfig): string {
  return `${db.user}@${bracketIpv6(db.host)}:${db.port}/${db.database}`;
}

type Reader = ReturnType<typeof createReader>;
type ConnectionTarget = Pick<DatabaseConfig, 'url' | 'host' | 'port' | 'user' | 'password' | 'database' | 'sslMode'> & {
  sslRootCert: string | null;
};

/** Splits a DATABASE_URL into parts; components it leaves out take the seed defaults (no password). */
function parseDatabaseUrl(value: string, problems: string[]): ConnectionTarget | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Nothing can be safely redacted in a string that does not parse, so it is not shown at all.
    problems.push('DATABASE_URL must be a URL like postgresql://user:password@host:5432/database (value not shown)');
    return null;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    problems.push(`DATABASE_URL must start with postgres:// or postgresql:// (got ${show(redactUrl(value))})`);
    return null;
  }
  const sslMode = url.searchParams.get('sslmode') || null;
  const knownSslMode = SSL_MODES.find((m) => m === sslMode) ?? null;
  if (sslMode !== null && knownSslMode === null) {
    problems.push(`DATABASE_URL sslmode must be one of ${SSL_MODES.join(', ')} (got ${show(sslMode)})`);
  }
  try {
    return {
      url: value,
      host: decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1')) || 'localhost',
      port: url.port === '' ? 5432 : Number(url.port),
      user: decodeURIComponent(url.username) || 'reynard',
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.slice(1)) || 'reynard',
      sslMode: knownSslMode,
      sslRootCert: url.searchParams.get('sslrootcert') || null,
    };
  } catch {
    problems.push(`DATABASE_URL has a malformed %-escape (got ${show(redactUrl(value))})`);
    return null;
  }
}

function readDatabase(read: Reader, problems: string[]): DatabaseConfig {
  // The parts are read even when DATABASE_URL wins, so a typo in them is still reported.
  const host = read.raw('POSTGRES_HOST') ?? 'localhost';
  const port = read.whole('POSTGRES_PORT', 5432, 1, 65535);
  const user = read.raw('POSTGRES_USER') ?? 'reynard';
  const password = read.raw('POSTGRES_PASSWORD') ?? 'reynard';
  const database = read.raw('POSTGRES_DB') ?? 'reynard';
  const databaseUrl = read.raw('DATABASE_URL');
  const credentials = `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  const fromParts: ConnectionTarget = {
    url: `postgresql://${credentials}@${urlHost(host)}:${port}/${encodeURIComponent(database)}`,
    host,
    port,
    user,
    password,
    database,
    sslMode: null,
    sslRootCert: null,
  };
  const target = (databaseUrl !== undefined ? parseDatabaseUrl(databaseUrl, problems) : null) ?? fromParts;

  return {
    ...target,
    sslMode: read.oneOf('POSTGRES_SSLMODE', SSL_MODES, null) ?? target.sslMode,
    sslRootCert: read.raw('POSTGRES_SSLROOTCERT') ?? target.sslRootCert,
    poolSize: read.whole('POSTGRES_POOL_SIZE', 10, 1),
    maxOverflow: read.whole('POSTGRES_MAX_OVERFLOW', 20, 0),
    poolTimeoutSeconds: read.positive('POSTGRES_POOL_TIMEOUT', 30),
    echo: read.bool('POSTGRES_ECHO', false),
    explicit: databaseUrl !== undefined || CONNECTION_VARIABLES.some((name) => read.raw(name) !== undefined),
  };
}

function readAdmin(read: Reader, problems: string[]): AdminBootstrap | null {
  const username = read.raw('GATEKEEPER_ADMIN_USERNAME');
  const password = read.raw('GATEKEEPER_ADMIN_PASSWORD');
  const email = read.raw('GATEKEEPER_ADMIN_EMAIL') ?? null;
  if (username !== undefined && password !== undefined) return { username, password, email };
  if (username !== undefined) {
    problems.push(
      `GATEKEEPER_ADMIN_PASSWORD must be set when GATEKEEPER_ADMIN_USERNAME is (got username ${show(username)})`,
    );
  } else if (password !== undefined) {
    problems.push('GATEKEEPER_ADMIN_USERNAME must be set when GATEKEEPER_ADMIN_PASSWORD is (password not shown)');
  } else if (email !== null) {
    // An email alone would silently create no admin; the operator almost certainly forgot something.
    problems.push(
      `GATEKEEPER_ADMIN_EMAIL needs GATEKEEPER_ADMIN_USERNAME and GATEKEEPER_ADMIN_PASSWORD (got email ${show(email)})`,
    );
  }
  return null;
}

/** Browsers send `scheme://host[:port]` in Origin, so entries are normalised to exactly that form. */
function readCorsOrigins(read: Reader, problems: string[]): string[] {
  const entries = (read.raw('GATEKEEPER_CORS_ORIGINS') ?? '').split(',').map((o) => o.trim());
  return entries.flatMap((entry) => {
    if (entry === '') return [];
    if (entry === '*') return ['*'];
    try {
      const url = new URL(entry);
      const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
      if ((url.protocol === 'http:' || url.protocol === 'https:') && bare) return [url.origin];
    } catch {
      // Falls through to the problem below.
    }
    problems.push(
      `GATEKEEPER_CORS_ORIGINS entries must be * or an origin like https://app.example.com (got ${show(entry)})`,
    );
    return [];
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Reads and validates the whole configuration (DESIGN.md, "Configuration").
 * Only `main.ts` and `cli/` call this; library users pass options instead.
 * @throws ConfigError listing every problem at once, one line each, without secret values.
 * @example const config = loadConfig({ PORT: '0', GATEKEEPER_BACKEND: 'memory' });
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = createReader(env, problems);

  const database = readDatabase(read, problems);
  const backendSetting = read.oneOf('GATEKEEPER_BACKEND', BACKENDS, 'auto');
  const secretKey = read.raw('GATEKEEPER_SECRET_KEY') ?? null;
  if (secretKey !== null && secretKey.length < MIN_SECRET_KEY_LENGTH) {
    const length = `it has ${secretKey.length}; value not shown`;
    problems.push(`GATEKEEPER_SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters (${length})`);
  }

  const config: Config = {
    backend: backendSetting === 'auto' ? (database.explicit ? 'postgres' : 'embedded') : backendSetting,
    dataDir: path.resolve(read.raw('GATEKEEPER_DATA_DIR') ?? './data'),
    database,
    host: read.raw('HOST') ?? '127.0.0.1',
    // 0 lets the OS pick a free port, which tests and parallel local runs rely on.
    port: read.whole('PORT', 8000, 0, 65535),
    secretKey,
    jwtAlgorithm: read.oneOf('GATEKEEPER_JWT_ALGORITHM', JWT_ALGORITHMS, 'HS256'),
    accessTokenExpireMinutes: read.whole('GATEKEEPER_ACCESS_TOKEN_EXPIRE_MINUTES', 30, 1),
    refreshTokenExpireDays: read.whole('GATEKEEPER_REFRESH_TOKEN_EXPIRE_DAYS', 7, 1),
    issuer: read.raw('GATEKEEPER_ISSUER') ?? null,
    audience: read.raw('GATEKEEPER_AUDIENCE') ?? null,
    passwordSecurityLevel: read.oneOf('GATEKEEPER_PASSWORD_SECURITY_LEVEL', SECURITY_LEVEL_NAMES, 'MEDIUM', true),
    passwordPolicy: read.oneOf('GATEKEEPER_PASSWORD_POLICY', PASSWORD_POLICIES, 'reynard'),
    allowRegistration: read.bool('GATEKEEPER_ALLOW_REGISTRATION', true),
    loginWindowSeconds: read.whole('GATEKEEPER_LOGIN_WINDOW_SECONDS', 900, 1),
    loginAccountMaxFailures: read.whole('GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES', 5, 1),
    loginIpMaxFailures: read.whole('GATEKEEPER_LOGIN_IP_MAX_FAILURES', 50, 1),
    trustProxy: read.bool('GATEKEEPER_TRUST_PROXY', false),
    admin: readAdmin(read, problems),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    accessLog: read.bool('GATEKEEPER_ACCESS_LOG', false),
    hashConcurrency: read.whole('GATEKEEPER_HASH_CONCURRENCY', os.availableParallelism(), 1),
    hashQueueMax: read.whole('GATEKEEPER_HASH_QUEUE_MAX', 64, 0),
    corsOrigins: readCorsOrigins(read, problems),
    auditRetentionDays: read.whole('GATEKEEPER_AUDIT_RETENTION_DAYS', 90, 1),
    requestTimeoutSeconds: read.positive('GATEKEEPER_REQUEST_TIMEOUT_SECONDS', 30),
    workers: read.whole('GATEKEEPER_WORKERS', 1, 1, 256),
    userCacheSeconds: read.whole('GATEKEEPER_USER_CACHE_SECONDS', 10, 0, 3600),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}
