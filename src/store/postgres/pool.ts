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
import { failoverClient } from './failover-client.js';
import { needsServerChoice, parseServerList, ServerListError, type ServerList } from './hosts.js';

/** What the pool needs from DatabaseConfig; the timeouts and idle settings take their defaults when absent. */
export type PoolSettings = Pick<
  DatabaseConfig,
  'url' | 'sslMode' | 'sslRootCert' | 'poolSize' | 'maxOverflow' | 'poolTimeoutSeconds' | 'echo'
> &
  Partial<Pick<DatabaseConfig, TimeoutSettings>>;

/** The settings PoolSettings may leave out, with the defaults src/config/database.ts gives them. */
type TimeoutSettings = 'statementTimeoutSeconds' | 'lockTimeoutSeconds' | 'idleSeconds' | 'minConnections' | 'poolMode';
export const POOL_DEFAULTS: Readonly<Pick<DatabaseConfig, TimeoutSettings>> = {
  statementTimeoutSeconds: 5,
  lockTimeoutSeconds: 2,
  idleSeconds: 30,
  minConnections: 1,
  poolMode: 'session',
};

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

/**
 * TCP keepalive probes start after this long without traffic, so a peer that vanished without closing
 * (a failed-over primary, a dropped NAT entry) is noticed by the kernel too; the statement deadline
 * (./executor.ts) is what bounds a request, since Node cannot shorten the probe interval and count.
 */
const KEEPALIVE_INITIAL_DELAY_MILLIS = 5_000;
/** Parameters of the URL that we turn into the explicit `ssl` option ourselves. */
const SSL_URL_PARAMS = ['sslmode', 'sslrootcert', 'ssl', 'sslcert', 'sslkey', 'sslpassword', 'uselibpqcompat'];
export const REDACTED = '[redacted]';
const DUMMY_HOST = 'gatekeeper-no-host';

/**
 * Creates the pool. Up to POSTGRES_POOL_SIZE + POSTGRES_MAX_OVERFLOW connections
 * are opened under load; any connection idle for GATEKEEPER_DATABASE_IDLE_SECONDS
 * is closed, down to GATEKEEPER_DATABASE_MIN_CONNECTIONS, so idle instances give
 * their slots of max_connections back. A request waits at most POSTGRES_POOL_TIMEOUT
 * seconds for a connection (then the store throws DATABASE_UNAVAILABLE).
 *
 * Only startup parameters a stock PgBouncer accepts are sent (no `options`, unless the
 * URL has one): the SQL does not depend on the session time zone (TIMESTAMP columns
 * are written `AT TIME ZONE 'UTC'` and read with utcTypes below), and the statement and
 * lock timeouts are set with SET on each new connection in `session` pool mode, and per
 * transaction by the executor in `transaction` mode (./executor.ts).
 *
 * @example
 * const pool = createPool(config.database, { log: (line) => logger.info(line) });
 */
export function createPool(settings: PoolSettings, options: PoolOptions = {}): pg.Pool {
  const log = options.log ?? (() => {});
  const servers = serverListOf(settings.url);
  const { connectionString, sslCert, sslKey, urlOptions } = stripSslParams(servers.url);
  const target = connectionTarget(settings.url);
  const max = settings.poolSize + settings.maxOverflow;
  const setup = sessionSetup(settings);
  const timeoutMillis = Math.max(1, Math.round(settings.poolTimeoutSeconds * 1000));
  const pool = new pg.Pool({
    connectionString,
    // Several servers or target_session_attrs: each new connection picks its server (./failover-client.ts).
    // One server without it: pg's own Client, nothing extra per connection.
    ...(needsServerChoice(servers) ? { Client: failoverClient(servers, timeoutMillis) } : {}),
    ssl: sslOptions(settings.sslMode, settings.sslRootCert, { cert: sslCert, key: sslKey }),
    min: Math.min(settings.minConnections ?? POOL_DEFAULTS.minConnections, max),
    max,
    idleTimeoutMillis: (settings.idleSeconds ?? POOL_DEFAULTS.idleSeconds) * 1000,
    connectionTimeoutMillis: timeoutMillis,
    ...(urlOptions === undefined ? {} : { options: urlOptions }),
    application_name: options.applicationName ?? 'gatekeeper',
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MILLIS,
    types: utcTypes,
    // Run before the pool hands a new connection out, so no statement runs without the timeouts;
    // if it fails, the connection is closed and the caller gets the error.
    ...(setup === null ? {} : { onConnect: async (client: pg.ClientBase) => void (await client.query(setup)) }),
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
 * The SET statements each new connection runs in `session` mode (null: none needed). In
 * `transaction` mode a session SET would land on whichever server connection the pooler picked,
 * so the executor uses SET LOCAL in each transaction instead (transactionSetup).
 */
export function sessionSetup(settings: PoolSettings): string | null {
  if ((settings.poolMode ?? POOL_DEFAULTS.poolMode) === 'transaction') return null;
  const sets = timeoutSettings(settings).map(([name, ms]) => `SET ${name} = ${ms}`);
  return sets.length === 0 ? null : sets.join('; ');
}

/**
 * `SET LOCAL` of the timeouts, for the start of each transaction (null: none): in `transaction` mode,
 * and on a caller's pool (`always`), whose connections' session settings are the caller's to choose.
 */
export function transactionSetup(settings: PoolSettings, always = false): string | null {
  if (!always && (settings.poolMode ?? POOL_DEFAULTS.poolMode) !== 'transaction') return null;
  const sets = timeoutSettings(settings).map(([name, ms]) => `SET LOCAL ${name} = ${ms}`);
  return sets.length === 0 ? null : sets.join('; ');
}

/**
 * How long the client waits for the answer to one statement before it gives the connection up:
 * a second past the server's statement_timeout, so a server that is merely slow reports its own
 * cancellation first, and only a silent connection (no answer at all) hits this. Null: no limit.
 */
export function statementDeadlineMillis(settings: PoolSettings): number | null {
  const seconds = settings.statementTimeoutSeconds ?? POOL_DEFAULTS.statementTimeoutSeconds;
  return seconds > 0 ? (seconds + 1) * 1000 : null;
}

/** statement_timeout and lock_timeout in milliseconds, those that are on (0 = off: left at the server's). */
function timeoutSettings(settings: PoolSettings): Array<[string, number]> {
  const statement = settings.statementTimeoutSeconds ?? POOL_DEFAULTS.statementTimeoutSeconds;
  const lock = settings.lockTimeoutSeconds ?? POOL_DEFAULTS.lockTimeoutSeconds;
  const sets: Array<[string, number]> = [];
  if (statement > 0) sets.push(['statement_timeout', statement * 1000]);
  if (lock > 0) sets.push(['lock_timeout', lock * 1000]);
  return sets;
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

/**
 * The connection target named in messages: user, host, port and database, never the password; with a
 * multi-host URL, `servers` lists them all and host/port are the first one's.
 */
export function connectionTarget(url: string): ConnectionTarget {
  let list: ServerList | null = null;
  try {
    list = parseServerList(url);
  } catch {
    // named as the single-host URL it may still be
  }
  const parsed = parseUrl(list?.url ?? url);
  if (!parsed) return { user: '?', host: '?', port: 5432, database: '?' };
  const hostname = parsed.hostname === DUMMY_HOST ? '' : parsed.hostname;
  const host = parsed.searchParams.get('host') ?? decodeURIComponent(hostname.replace(/^\[(.*)\]$/, '$1'));
  const user = decodeURIComponent(parsed.username);
  return {
    user: user || '(default user)',
    host: host || 'localhost',
    port: parsed.port === '' ? 5432 : Number(parsed.port),
    database: decodeURIComponent(parsed.pathname.slice(1)) || user || '(default database)',
    ...(list !== null && list.servers.length > 1 ? { servers: list.servers } : {}),
  };
}

/** The servers of a URL; a list libpq would refuse is a config error (src/config/database.ts reports it at start). */
function serverListOf(url: string): ServerList {
  try {
    return parseServerList(url);
  } catch (err) {
    if (!(err instanceof ServerListError)) throw err;
    throw new GatekeeperError('CONFIG_INVALID', `DATABASE_URL: ${err.message}.`, { cause: err });
  }
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
 * turned into `ssl` here. `options` is lifted out too and passed on as the `options`
 * startup parameter only when the URL has one (a stock PgBouncer refuses it).
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
