/**
 * The database part of the configuration: DATABASE_URL or POSTGRES_* read into one
 * DatabaseConfig, and the two ways to name a database without its password.
 */
import { bracketHost, type DatabaseConfig, type PoolMode, type SslMode } from '../store/postgres/database-config.js';
import { parseServerList, ServerListError, type ServerList } from '../store/postgres/hosts.js';
import { show, type Reader } from './env-reader.js';

const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];
const POOL_MODES: readonly PoolMode[] = ['session', 'transaction'];
/** Setting any of these means "I run my own PostgreSQL"; pool and TLS tuning alone does not. */
const CONNECTION_VARIABLES = ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'];

/** node-postgres reads a %-encoded host starting with `/` as a Unix socket directory. */
const urlHost = (host: string): string => (host.startsWith('/') ? encodeURIComponent(host) : bracketHost(host));

const UNPARSEABLE = '<unparseable URL>';

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
    // A multi-host authority (h1:5432,h2:5433), or none (host= in the query), is not a WHATWG URL:
    // mask the password by hand.
    const authority = /^(postgres(?:ql)?:\/\/)([^/?#]*)/i.exec(url);
    if (!authority) return UNPARSEABLE;
    const [whole, scheme = '', hosts = ''] = authority;
    const at = hosts.lastIndexOf('@');
    const colon = hosts.indexOf(':');
    const serverPart = hosts.slice(at + 1);
    if (serverPart !== '' && !serverPart.includes(',')) return UNPARSEABLE;
    if (at === -1 || colon === -1 || colon > at) return url;
    return `${scheme}${hosts.slice(0, colon)}:***${hosts.slice(at)}${url.slice(whole.length)}`;
  }
  if (parsed.password === '') return url;
  parsed.password = '***';
  return parsed.href;
}

// The one `user@host:port/db` formatter lives with the store's database words, which may not import config.
export { describeDatabaseTarget, type DatabaseTarget } from '../store/postgres/database-config.js';

type ConnectionTarget = Pick<
  DatabaseConfig,
  'url' | 'host' | 'port' | 'user' | 'password' | 'database' | 'sslMode' | 'servers'
> & {
  sslRootCert: string | null;
};

/** Splits a DATABASE_URL into parts; components it leaves out take the seed defaults (no password). */
function parseDatabaseUrl(value: string, problems: string[]): ConnectionTarget | null {
  let list: ServerList | null = null;
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      list = parseServerList(value);
    } catch (err) {
      if (!(err instanceof ServerListError)) throw err;
      const shown = redactUrl(value);
      // A single-host URL that does not parse at all gets the general message below (value not shown).
      if (shown !== UNPARSEABLE) {
        problems.push(`DATABASE_URL: ${err.message} (got ${show(shown)})`);
        return null;
      }
    }
  }
  let url: URL;
  try {
    // The multi-host forms are checked on their first server; the URL kept is the one given.
    url = new URL(list?.url ?? value);
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
  const first = list?.servers[0];
  try {
    return {
      url: value,
      host: first?.host ?? (decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1')) || 'localhost'),
      port: first?.port ?? (url.port === '' ? 5432 : Number(url.port)),
      user: decodeURIComponent(url.username) || 'reynard',
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.slice(1)) || 'reynard',
      sslMode: knownSslMode,
      sslRootCert: url.searchParams.get('sslrootcert') || null,
      ...(list !== null && list.servers.length > 1 ? { servers: list.servers } : {}),
    };
  } catch {
    problems.push(`DATABASE_URL has a malformed %-escape (got ${show(redactUrl(value))})`);
    return null;
  }
}

/** DATABASE_URL, or the POSTGRES_* parts, with the pool and TLS settings. */
export function readDatabase(read: Reader, problems: string[]): DatabaseConfig {
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
    statementTimeoutSeconds: read.whole('GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS', 5, 0, 3600),
    lockTimeoutSeconds: read.whole('GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS', 2, 0, 3600),
    idleSeconds: read.whole('GATEKEEPER_DATABASE_IDLE_SECONDS', 30, 1, 86_400),
    minConnections: read.whole('GATEKEEPER_DATABASE_MIN_CONNECTIONS', 1, 0, 1000),
    poolMode: read.oneOf('GATEKEEPER_DATABASE_POOL_MODE', POOL_MODES, 'session'),
    directUrl: readDirectUrl(read, problems),
    explicit: databaseUrl !== undefined || CONNECTION_VARIABLES.some((name) => read.raw(name) !== undefined),
  };
}

/** GATEKEEPER_DATABASE_DIRECT_URL: checked like DATABASE_URL (its password is never shown). */
function readDirectUrl(read: Reader, problems: string[]): string | null {
  const value = read.raw('GATEKEEPER_DATABASE_DIRECT_URL');
  if (value === undefined || value === '') return null;
  const checked: string[] = [];
  parseDatabaseUrl(value, checked);
  problems.push(...checked.map((problem) => problem.replaceAll('DATABASE_URL', 'GATEKEEPER_DATABASE_DIRECT_URL')));
  return checked.length === 0 ? value : null;
}
