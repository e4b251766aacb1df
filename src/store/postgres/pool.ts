/**
 * The node-postgres pool, built from the database part of the config: the seed's
 * pool semantics, TLS from POSTGRES_SSLMODE/POSTGRES_SSLROOTCERT, UTC timestamps,
 * and the POSTGRES_ECHO statement log with secret parameters redacted.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { DatabaseConfig, SslMode } from './database-config.js';
import { GatekeeperError } from '../../errors.js';
import { describeConnectionError, type ConnectionTarget } from './errors.js';

/** What the pool needs from DatabaseConfig. */
export type PoolSettings = Pick<
  DatabaseConfig,
  'url' | 'sslMode' | 'sslRootCert' | 'poolSize' | 'maxOverflow' | 'poolTimeoutSeconds' | 'echo'
>;

export interface PoolOptions {
  /** Where pool errors (and, with `echo`, statements) are written. Default: nowhere. */
  log?: (line: string) => void;
  /** Shown in pg_stat_activity; default `gatekeeper`. */
  applicationName?: string;
}

/** One SQL statement with its parameters, as the store runs and echoes it. */
export interface Statement {
  text: string;
  values?: readonly unknown[];
  /** 1-based positions of parameters that hold secrets ($3 → 3): never logged. */
  secretParams?: readonly number[];
}

/** Connections beyond POSTGRES_POOL_SIZE close after this long without use. */
const OVERFLOW_IDLE_MILLIS = 10_000;
/** Parameters of the URL that we turn into the explicit `ssl` option ourselves. */
const SSL_URL_PARAMS = ['sslmode', 'sslrootcert', 'ssl', 'sslcert', 'sslkey', 'sslpassword', 'uselibpqcompat'];
export const REDACTED = '[redacted]';
const DUMMY_HOST = 'gatekeeper-no-host';

/**
 * Creates the pool. POSTGRES_POOL_SIZE connections are kept once opened (`min`),
 * up to POSTGRES_MAX_OVERFLOW more are opened under load and closed again after
 * 10 s idle, and a request waits at most POSTGRES_POOL_TIMEOUT seconds for a
 * connection (then the store throws DATABASE_UNAVAILABLE). Every connection uses
 * TimeZone=UTC, so `users.created_at`/`updated_at` (TIMESTAMP without time zone,
 * as in the seed) hold UTC.
 *
 * @example
 * const pool = createPool(config.database, { log: (line) => logger.info(line) });
 */
export function createPool(settings: PoolSettings, options: PoolOptions = {}): pg.Pool {
  const log = options.log ?? (() => {});
  const { connectionString, sslCert, sslKey, urlOptions } = stripSslParams(settings.url);
  const target = connectionTarget(settings.url);
  const pool = new pg.Pool({
    connectionString,
    ssl: sslOptions(settings.sslMode, settings.sslRootCert, { cert: sslCert, key: sslKey }),
    min: settings.poolSize,
    max: settings.poolSize + settings.maxOverflow,
    idleTimeoutMillis: OVERFLOW_IDLE_MILLIS,
    connectionTimeoutMillis: Math.max(1, Math.round(settings.poolTimeoutSeconds * 1000)),
    options: [urlOptions, '-c TimeZone=UTC'].filter(Boolean).join(' '),
    application_name: options.applicationName ?? 'gatekeeper',
    keepAlive: true,
    types: utcTypes,
  });
  // An idle connection dropped by the server (restart, failover) must never crash
  // the process: the pool already discarded it and opens a new one when needed.
  pool.on('error', (err) => log(`PostgreSQL connection lost while idle: ${describeConnectionError(err, target)}`));
  // A checked-out client whose connection drops emits 'error' besides failing its query;
  // with no listener that would be an uncaught exception. The query's own rejection
  // reports it, so this listener only has to exist.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * node-postgres' `ssl` option for a libpq-style sslmode.
 * - `prefer` is treated as `disable`: node-postgres cannot try TLS and fall back to
 *   plain text the way libpq does, and failing against servers without TLS would
 *   break the many setups where `prefer` is merely the libpq default.
 * - `verify-ca` checks the chain against POSTGRES_SSLROOTCERT but not the host name;
 *   `verify-full` checks both (without a root certificate: the system CAs).
 */
export function sslOptions(
  mode: SslMode | null,
  rootCertPath: string | null,
  clientCert: { cert?: string | undefined; key?: string | undefined } = {},
): false | ConnectionOptions {
  if (mode === null || mode === 'disable' || mode === 'prefer') return false;
  const base: ConnectionOptions = {};
  if (clientCert.cert !== undefined) base.cert = readPem(clientCert.cert, 'sslcert');
  if (clientCert.key !== undefined) base.key = readPem(clientCert.key, 'sslkey');
  if (mode === 'require') return { ...base, rejectUnauthorized: false };
  const ca = rootCertPath === null ? undefined : readPem(rootCertPath, 'POSTGRES_SSLROOTCERT');
  if (mode === 'verify-ca') return { ...base, ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...base, ca, rejectUnauthorized: true };
}

/** The connection target named in messages: user, host, port and database, never the password. */
export function connectionTarget(url: string): ConnectionTarget {
  const parsed = parseUrl(url);
  if (!parsed) return { user: '?', host: '?', port: 5432, database: '?' };
  const hostname = parsed.hostname === DUMMY_HOST ? '' : parsed.hostname;
  const host = parsed.searchParams.get('host') ?? decodeURIComponent(hostname.replace(/^\[(.*)\]$/, '$1'));
  const user = decodeURIComponent(parsed.username);
  return {
    user: user || '(default user)',
    host: host || 'localhost',
    port: parsed.port === '' ? 5432 : Number(parsed.port),
    database: decodeURIComponent(parsed.pathname.slice(1)) || user || '(default database)',
  };
}

/** Where a caller's pool connects, from its options (never the password). */
export function poolTarget(pool: pg.Pool): ConnectionTarget {
  const options = pool.options as pg.PoolConfig;
  if (options.connectionString) return connectionTarget(options.connectionString);
  const user = options.user ?? '(default user)';
  return {
    user,
    host: options.host ?? 'localhost',
    port: Number(options.port ?? 5432),
    database: options.database ?? user,
  };
}

/**
 * Returns a function that writes one echo line per statement: the SQL on one line
 * and its parameters, with secret parameters replaced by `[redacted]`.
 * Two layers: the store marks secret-bearing parameters (`secretParams`), and any
 * value that looks like a password hash (PHC `$argon2…`, `$2b$…`, `$scrypt$…`) or a
 * 64-hex token hash is redacted even when unmarked.
 */
export function createEcho(log: (line: string) => void): (statement: Statement) => void {
  return (statement) => log(formatStatement(statement));
}

/** The echo line of one statement (exported for tests). */
export function formatStatement(statement: Statement): string {
  const sql = statement.text.replace(/\s+/g, ' ').trim();
  const values = statement.values ?? [];
  if (values.length === 0) return `SQL: ${sql}`;
  const secret = new Set(statement.secretParams ?? []);
  const shown = values.map((value, i) => (secret.has(i + 1) || looksSecret(value) ? REDACTED : value));
  return `SQL: ${sql} -- params: ${JSON.stringify(shown)}`;
}

function looksSecret(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return /^\$(argon2(id|i|d)|2[abxy]?|scrypt|pbkdf2[-\w]*)\$/.test(value) || /^[0-9a-f]{64}$/i.test(value);
}

/**
 * pg parses `sslmode` and friends from the URL on its own, in ways that differ from
 * libpq and that would override the explicit `ssl` option; so they are removed and
 * turned into `ssl` here. `options` is lifted out too, so that TimeZone=UTC is added
 * to it rather than replaced by it.
 */
function stripSslParams(url: string): {
  connectionString: string;
  sslCert: string | undefined;
  sslKey: string | undefined;
  urlOptions: string | undefined;
} {
  const parsed = parseUrl(url);
  if (!parsed) return { connectionString: url, sslCert: undefined, sslKey: undefined, urlOptions: undefined };
  const sslCert = parsed.searchParams.get('sslcert') ?? undefined;
  const sslKey = parsed.searchParams.get('sslkey') ?? undefined;
  const urlOptions = parsed.searchParams.get('options') ?? undefined;
  for (const name of [...SSL_URL_PARAMS, 'options']) parsed.searchParams.delete(name);
  const connectionString = parsed.toString().replace(`@${DUMMY_HOST}/`, '@/');
  return { connectionString, sslCert, sslKey, urlOptions };
}

/**
 * `postgresql://user:pw@/db?host=/run/postgresql` (a Unix socket) is valid for libpq and
 * node-postgres but not for WHATWG URL: parse it with a placeholder host, as pg does.
 */
function parseUrl(url: string): URL | null {
  for (const candidate of [url, url.replace('@/', `@${DUMMY_HOST}/`)]) {
    try {
      return new URL(candidate);
    } catch {
      // try the next form
    }
  }
  return null;
}

function readPem(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new GatekeeperError('CONFIG_INVALID', `${setting}: cannot read ${path} (${reason}).`, { cause: err });
  }
}

/**
 * `users.created_at`/`updated_at` are TIMESTAMP without time zone holding UTC; pg
 * would read them as local time. Everything else keeps pg's own parsers.
 */
export const utcTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.TIMESTAMP && format !== 'binary') return parseUtcTimestamp;
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

function parseUtcTimestamp(text: string): Date | string {
  // '2024-01-02 03:04:05.678912' (no BC, no infinity: those stay text for the caller to reject)
  const match = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?$/.exec(text);
  if (!match) return text;
  const [, y, mo, d, h, mi, s, frac] = match;
  const ms = frac === undefined ? 0 : Number(frac.slice(1, 4).padEnd(3, '0'));
  const date = new Date(Date.UTC(2000, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms));
  date.setUTCFullYear(Number(y)); // Date.UTC would read years 0–99 as 1900–1999
  return date;
}
