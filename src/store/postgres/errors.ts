/**
 * Driver errors → Gatekeeper errors. Callers of the store never see a pg error for
 * the cases they must handle: unique violations become USERNAME_TAKEN/EMAIL_TAKEN,
 * and every way of not reaching the database becomes DATABASE_UNAVAILABLE with one
 * line that names the cause and the fix (the same words at start-up and in /health).
 * The original error is kept as `cause`; messages never hold a password or a stack.
 */
import { GatekeeperError } from '../../errors.js';
import { clientIdTaken, emailTaken, idTaken, usernameTaken } from '../rules.js';
import { describeServerAddress, type DatabaseTarget } from './database-config.js';

/** Where the store connects, without the password (describeDatabaseTarget in database-config.ts names it). */
export type ConnectionTarget = DatabaseTarget;

/** Seconds a client is told to wait (Retry-After) when the database is unreachable. */
const RETRY_AFTER_SECONDS = 5;
/** A busy pool frees up quickly; the database itself is fine. */
const BUSY_RETRY_AFTER_SECONDS = 2;

/** The fields of pg's DatabaseError and of Node's system errors that we look at. */
interface DriverError {
  message: string;
  code?: string;
  constraint?: string;
  cause?: unknown;
  errors?: unknown[];
}

const POOL_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';
/** SQLSTATE 25006: a write (or LISTEN) on a hot standby or in a read-only transaction. */
export const READ_ONLY_SQL_TRANSACTION = '25006';
const CONNECT_TIMEOUT_MESSAGE = 'Connection terminated due to connection timeout';
/** node-postgres' query_timeout: no answer within the statement deadline (./pool.ts statementDeadlineMillis). */
const QUERY_DEADLINE_MESSAGE = 'Query read timeout';
/** SQLSTATE 57014 (statement_timeout or a cancel) and 55P03 (lock_timeout, NOWAIT). */
const QUERY_CANCELED = '57014';
const LOCK_NOT_AVAILABLE = '55P03';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * SQLSTATE 08001 (sqlclient_unable_to_establish_sqlconnection), as libpq reports it: no server of a
 * multi-host DATABASE_URL was acceptable (./failover-client.ts). The message names each server and why.
 */
export const NO_ACCEPTABLE_SERVER = '08001';

/** Messages with which node-postgres reports a connection that is gone. */
const LOST_CONNECTION_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/** Unique constraints/indexes of the schema and the error each one means. */
const UNIQUE_VIOLATIONS: Record<string, () => GatekeeperError> = {
  users_username_key: usernameTaken,
  idx_users_username_lower: usernameTaken,
  users_email_key: emailTaken,
  idx_users_email_lower: emailTaken,
  users_pkey: idTaken,
  oauth_clients_client_id_key: clientIdTaken,
  oauth_clients_pkey: clientIdTaken,
};

/**
 * Translates any error thrown by pg into the project's errors, keeping `cause`.
 * Errors it does not recognise are returned unchanged (they become a 500 with the
 * details in the log only).
 */
export function translateError(err: unknown, target: ConnectionTarget | string): unknown {
  if (err instanceof GatekeeperError || !isDriverError(err)) return err;
  if (err.code === '23505' && err.constraint !== undefined) {
    const make = UNIQUE_VIOLATIONS[err.constraint];
    if (make) return withCause(make(), err);
  }
  if (err.code === '23503' && err.constraint === 'sessions_user_id_fkey') {
    return withCause(new GatekeeperError('USER_NOT_FOUND', 'No user with that id.'), err);
  }
  if (err.code === '22001') {
    return withCause(
      new GatekeeperError('VALIDATION_ERROR', 'A value is longer than the database column allows.'),
      err,
    );
  }
  if (isTimedOut(err)) {
    // The server and the connection are fine; this statement waited too long. 503, and the
    // connection is reused (the executor destroys only connection-kind failures).
    return new GatekeeperError('DATABASE_UNAVAILABLE', describeConnectionError(err, target), {
      cause: err,
      retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS,
    });
  }
  if (isConnectionError(err)) {
    const busy = err.message === POOL_TIMEOUT_MESSAGE;
    return new GatekeeperError('DATABASE_UNAVAILABLE', describeConnectionError(err, target), {
      cause: err,
      retryAfterSeconds: busy ? BUSY_RETRY_AFTER_SECONDS : RETRY_AFTER_SECONDS,
    });
  }
  return err;
}

/**
 * True when the error means "the database cannot be used right now" rather than
 * "this statement is wrong": network and TLS failures, authentication, a missing
 * database, shutdowns, exhausted connection slots, a pool with no free connection,
 * and missing privileges on the schema.
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof GatekeeperError) return err.code === 'DATABASE_UNAVAILABLE';
  if (!isDriverError(err)) return false;
  const code = errorCode(err);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || TLS_VERIFY_CODES.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID') return true;
    if (code === 'ENOENT' && isSocketError(err)) return true; // a Unix socket path that does not exist
    if (code.startsWith('08') || code.startsWith('28') || code === '3D000' || code === '42501') return true;
    if (code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
    // A standby (or a server set read-only): the statement is fine, this server cannot take writes.
    if (code === READ_ONLY_SQL_TRANSACTION) return true;
  }
  const message = err.message;
  return (
    message === POOL_TIMEOUT_MESSAGE ||
    message === CONNECT_TIMEOUT_MESSAGE ||
    message === QUERY_DEADLINE_MESSAGE ||
    message.includes('SSL') ||
    LOST_CONNECTION_MESSAGES.includes(message)
  );
}

/** A statement the server cancelled for its statement_timeout or lock_timeout (or an operator's cancel). */
function isTimedOut(err: DriverError): boolean {
  const code = errorCode(err);
  return code === QUERY_CANCELED || code === LOCK_NOT_AVAILABLE;
}

/** True when an established connection broke (server restart, network cut), as opposed to not connecting at all. */
export function isLostConnection(err: unknown): boolean {
  if (!isDriverError(err) || err instanceof GatekeeperError) return false;
  const code = errorCode(err);
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === '57P01' || code === '57P02') return true;
  return LOST_CONNECTION_MESSAGES.includes(err.message) || err.message === QUERY_DEADLINE_MESSAGE;
}

/**
 * One line naming the cause and the fix of a failure to use the database, for the
 * start-up error, /health and `setup-postgres --test`. Never holds a password.
 *
 * @example
 * describeConnectionError(err, 'reynard@localhost:5432/reynard')
 * // 'Cannot connect to PostgreSQL at localhost:5432: connection refused. Is PostgreSQL running? …'
 */
export function describeConnectionError(err: unknown, target: ConnectionTarget | string): string {
  const t = typeof target === 'string' ? parseTarget(target) : target;
  const where = describeServerAddress(t);
  const at = `Cannot connect to PostgreSQL at ${where}`;
  if (!isDriverError(err)) return `${at}: ${oneLine(String(err))}.`;
  const code = errorCode(err);
  const message = err.message;

  switch (code) {
    case 'ECONNREFUSED':
      return `${at}: connection refused. Is PostgreSQL running? Check POSTGRES_HOST/POSTGRES_PORT or DATABASE_URL.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${at}: host "${t.host}" not found. Check POSTGRES_HOST or DATABASE_URL.`;
    case 'ENOENT':
      if (!isSocketError(err)) break;
      return `${at}: no server socket at ${t.host}. Is PostgreSQL running? Check POSTGRES_HOST or DATABASE_URL.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${at}: the server did not answer (${code}). Check the host, the port and any firewall in between.`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `Lost the connection to PostgreSQL at ${where} (${code}). If the server is restarting, Gatekeeper reconnects by itself; otherwise check the server log.`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `${at}: the server's TLS certificate is not valid for "${t.host}". Connect with a host name the certificate lists, or set POSTGRES_SSLMODE=verify-ca.`;
    case '28P01':
      return `${at}: password authentication failed for user "${t.user}". Check POSTGRES_USER/POSTGRES_PASSWORD.`;
    case '28000':
      if (message.includes('no pg_hba.conf entry') && message.includes('no encryption')) {
        return `${at}: the server requires SSL for user "${t.user}" (pg_hba.conf has no entry without encryption). Set POSTGRES_SSLMODE=require (or sslmode=require in DATABASE_URL).`;
      }
      if (message.includes('no pg_hba.conf entry')) {
        return `${at}: the server's pg_hba.conf does not allow user "${t.user}" to reach database "${t.database}" from this host. Add an entry to pg_hba.conf, or check POSTGRES_SSLMODE.`;
      }
      return `${at}: authentication failed for user "${t.user}" (${oneLine(message)}). Check POSTGRES_USER/POSTGRES_PASSWORD.`;
    case '3D000':
      return `${at}: database "${t.database}" does not exist. Create it, or run \`gatekeeper setup-postgres --all\`.`;
    case '42501':
      if (message.includes('schema public')) {
        return `PostgreSQL at ${where}: permission denied for schema public. On PostgreSQL 15+ the role needs to own the database: ALTER DATABASE ${ident(t.database)} OWNER TO ${ident(t.user)}; (or run gatekeeper setup-postgres --all).`;
      }
      return `PostgreSQL at ${where}: ${oneLine(message)}. Give role "${t.user}" the privileges it needs, e.g. make it the owner: ALTER DATABASE ${ident(t.database)} OWNER TO ${ident(t.user)};`;
    case '57P01':
    case '57P02':
      return `PostgreSQL at ${where} closed the connection because it is shutting down or restarting. Gatekeeper reconnects by itself when the server is back.`;
    case '57P03':
      return `PostgreSQL at ${where} is starting up, shutting down or recovering and does not accept connections yet. Retry in a moment.`;
    case READ_ONLY_SQL_TRANSACTION:
      return readOnlyServer(where);
    case NO_ACCEPTABLE_SERVER:
      return message;
    case QUERY_CANCELED:
      if (message.includes('statement timeout')) {
        return `A statement on PostgreSQL at ${where} ran past GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS and was cancelled: look in pg_stat_activity for what blocks or slows it (a lock, a long transaction, an overloaded server).`;
      }
      return `A statement on PostgreSQL at ${where} was cancelled (${oneLine(message)}).`;
    case LOCK_NOT_AVAILABLE:
      return `A statement on PostgreSQL at ${where} waited past GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS for a lock another session holds (a long transaction, LOCK TABLE, a migration): see pg_locks and pg_stat_activity. More connections would not help.`;
    case '53300':
      return `PostgreSQL at ${where} has no connection slots left (too many connections). Lower POSTGRES_POOL_SIZE/POSTGRES_MAX_OVERFLOW (per instance) or raise max_connections on the server.`;
  }
  if (code !== undefined && TLS_VERIFY_CODES.has(code)) {
    return `${at}: the server's TLS certificate could not be verified (${code}). Set POSTGRES_SSLROOTCERT to the CA that signed it, or POSTGRES_SSLMODE=require to encrypt without verifying.`;
  }
  if (message === POOL_TIMEOUT_MESSAGE) {
    return `No free connection to PostgreSQL at ${where} within POSTGRES_POOL_TIMEOUT: every pooled connection is busy. Raise POSTGRES_POOL_SIZE/POSTGRES_MAX_OVERFLOW or POSTGRES_POOL_TIMEOUT, or look for slow queries.`;
  }
  if (message === QUERY_DEADLINE_MESSAGE) {
    return `PostgreSQL at ${where} did not answer a statement within its deadline (GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS + 1 s): the connection went silent (a network cut, a failover) or the server is stalled. The connection was dropped; the next request uses a new one.`;
  }
  if (message === CONNECT_TIMEOUT_MESSAGE) {
    return `${at}: the server did not complete the connection within POSTGRES_POOL_TIMEOUT. Check the host, the port and any firewall in between.`;
  }
  if (message.includes('does not support SSL')) {
    return `${at}: the server does not support SSL connections. Set POSTGRES_SSLMODE=disable, or enable SSL on the server.`;
  }
  if (LOST_CONNECTION_MESSAGES.includes(message)) {
    return `Lost the connection to PostgreSQL at ${where}. If the server is restarting, Gatekeeper reconnects by itself; otherwise check the server log.`;
  }
  return `${at}: ${oneLine(message)}${code !== undefined ? ` (${code})` : ''}.`;
}

/** The one sentence for a server that refuses writes, at start-up, in /health and for a refused write. */
export function readOnlyServer(where: string): string {
  // Several servers listed (a multi-host URL): the fix is to let the connection skip standbys.
  const fix = where.includes(',')
    ? 'add target_session_attrs=read-write to DATABASE_URL so connections skip standbys'
    : 'point DATABASE_URL at the primary';
  return `PostgreSQL at ${where} is read-only (connected to a read-only standby, or default_transaction_read_only is on): ${fix}. Gatekeeper reconnects by itself once the address reaches a primary again.`;
}

/**
 * The error of a multi-host connection that found no acceptable server: one line naming each server and
 * why it was passed over (never a password: the reasons come from describeServerFailure and the check).
 * @example
 * noAcceptableServer('read-write', 'a:5432,b:5432', ['a:5432 connection refused', 'b:5432 is read-only (…)'])
 */
export function noAcceptableServer(attrs: string, servers: string, reasons: readonly string[]): Error {
  const error = new Error(
    `No acceptable PostgreSQL server among ${servers} (target_session_attrs=${attrs}): ${reasons.join('; ')}. Check DATABASE_URL and the servers.`,
  );
  return Object.assign(error, { code: NO_ACCEPTABLE_SERVER });
}

/** Why one server of a list could not be used, in a few words (for noAcceptableServer). */
export function describeServerFailure(err: unknown): string {
  if (!isDriverError(err)) return oneLine(String(err));
  const code = errorCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'is not a known host name';
    case 'ENOENT':
      return 'has no server socket';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
    case 'EPIPE':
      return `did not answer (${code})`;
    case '28P01':
    case '28000':
      return `refused the login (${code}: ${oneLine(err.message)})`;
    case '3D000':
      return `has no such database (${oneLine(err.message)})`;
    case '57P03':
      return 'is starting up, shutting down or recovering';
    case '53300':
      return 'has no connection slots left';
  }
  if (err.message === CONNECT_TIMEOUT_MESSAGE || err.message === 'timeout expired') {
    return 'did not complete the connection in time';
  }
  if (err.message === QUERY_DEADLINE_MESSAGE) return 'did not answer the check query in time';
  if (LOST_CONNECTION_MESSAGES.includes(err.message)) return 'closed the connection';
  return `failed (${oneLine(err.message)}${code !== undefined ? `, ${code}` : ''})`;
}

/** Parses `user@host:port/db` (the inverse of describeDatabaseTarget). */
export function parseTarget(target: string): ConnectionTarget {
  const match = /^(.*)@(\[[^\]]*\]|[^@]*):(\d+)\/(.*)$/s.exec(target);
  if (!match) return { user: '', host: target, port: 5432, database: '' };
  const [, user = '', host = '', port = '5432', database = ''] = match;
  return { user, host: host.replace(/^\[(.*)\]$/, '$1'), port: Number(port), database };
}

/** An SQL identifier as one would type it in psql (quoted unless plain lower case). */
function ident(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** Not every ENOENT is about the server: only one from connecting to a socket. */
function isSocketError(err: DriverError): boolean {
  return (err as { syscall?: unknown }).syscall === 'connect';
}

function isDriverError(err: unknown): err is DriverError {
  return err instanceof Error;
}

/**
 * The SQLSTATE or system error code, looking through the wrappers node-postgres
 * and Node use: `cause` (connection timeout) and AggregateError (a host name that
 * resolves to both IPv6 and IPv4, each attempt refused).
 */
function errorCode(err: DriverError, depth = 0): string | undefined {
  if (typeof err.code === 'string') return err.code;
  if (depth > 3) return undefined;
  if (Array.isArray(err.errors)) {
    const inner = err.errors.find(isDriverError);
    if (inner) return errorCode(inner, depth + 1);
  }
  return isDriverError(err.cause) ? errorCode(err.cause, depth + 1) : undefined;
}

function withCause(error: GatekeeperError, cause: unknown): GatekeeperError {
  return new GatekeeperError(error.code, error.message, { cause, retryAfterSeconds: error.retryAfterSeconds });
}

/** First line, credentials in any URL masked, no trailing period (callers add one). */
function oneLine(text: string): string {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  return first.replace(/(\/\/[^:/@\s]*):[^@\s]*@/g, '$1:***@').replace(/\.+$/, '');
}
