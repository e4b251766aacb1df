/**
 * Connection settings for a URL given on the command line (--admin-url, --from,
 * --to), parsed by the same code as DATABASE_URL so that sslmode, sslrootcert and
 * %-escapes mean exactly what they mean for the service.
 */
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type DatabaseConfig } from '../config.js';
import { UsageError } from './command.js';

/** A one-shot command needs few connections. */
const POOL = { POSTGRES_POOL_SIZE: '1', POSTGRES_MAX_OVERFLOW: '3' };

/**
 * @throws UsageError naming `label` (never showing a password) when the URL is not a PostgreSQL URL.
 * @example settingsFromUrl(args.adminUrl, '--admin-url')
 */
export function settingsFromUrl(url: string, label: string): DatabaseConfig {
  try {
    return loadConfig({ DATABASE_URL: url, ...POOL }).database;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new UsageError(err.problems.map((p) => p.replace(/^DATABASE_URL/, label)).join('; '));
  }
}

/** Where Debian/Ubuntu and the upstream builds put the server socket. */
const SOCKET_DIRECTORIES = ['/var/run/postgresql', '/tmp'];
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * The default admin connection: the `postgres` superuser, database `postgres`, on the
 * configured server. For a local server with a Unix socket, the socket, so that peer
 * authentication works as for `sudo -u postgres psql`; else TCP to host:port. A password,
 * if needed, comes from --admin-url, POSTGRES_ADMIN_URL, PGPASSWORD or ~/.pgpass.
 * @example defaultAdminUrl(config.database) // 'postgresql://postgres@%2Fvar%2Frun%2Fpostgresql:5432/postgres'
 */
export function defaultAdminUrl(db: DatabaseConfig, socketExists: (path: string) => boolean = existsSync): string {
  const socketDir = db.host.startsWith('/')
    ? db.host
    : LOCAL_HOSTS.has(db.host)
      ? SOCKET_DIRECTORIES.find((dir) => socketExists(`${dir}/.s.PGSQL.${db.port}`))
      : undefined;
  const host = socketDir ? encodeURIComponent(socketDir) : db.host.includes(':') ? `[${db.host}]` : db.host;
  return `postgresql://postgres@${host}:${db.port}/postgres`;
}

/**
 * The same servers and credentials, another database. Done on the text: a multi-host authority
 * (`h1:5432,h2:5433`) is valid for libpq and Gatekeeper but not for WHATWG URL.
 */
export function withDatabase(url: string, database: string): string {
  const match = /^(postgres(?:ql)?:\/\/[^/?#]*)(?:\/[^?#]*)?(.*)$/is.exec(url);
  if (!match) throw new TypeError('not a postgres:// URL');
  return `${match[1]}/${encodeURIComponent(database)}${match[2] ?? ''}`;
}
