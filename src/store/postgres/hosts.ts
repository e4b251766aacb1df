/**
 * The libpq multi-host forms of a PostgreSQL URL, which node-postgres does not understand:
 * several servers in the authority (`u:p@h1:5432,h2:5433/db`, IPv6 in brackets), or in the
 * `host=h1,h2&port=5432,5433` query parameters, and `target_session_attrs`. This module only
 * reads them; ./failover-client.ts walks the servers when a connection is opened.
 */

/** libpq's target_session_attrs: which server of the list a connection may use. */
export type TargetSessionAttrs = 'any' | 'read-write' | 'primary' | 'read-only' | 'standby' | 'prefer-standby';
export const TARGET_SESSION_ATTRS: readonly TargetSessionAttrs[] = [
  'any',
  'read-write',
  'primary',
  'read-only',
  'standby',
  'prefer-standby',
];

/** One server of the list: a host name, an IP address or a Unix socket directory (starting with `/`). */
export interface ServerAddress {
  host: string;
  port: number;
}

export interface ServerList {
  /** The servers, in the order they are tried; at least one. */
  servers: ServerAddress[];
  targetSessionAttrs: TargetSessionAttrs;
  /** libpq's connect_timeout (seconds per server), when the URL sets one. */
  connectTimeoutSeconds: number | null;
  /**
   * The URL node-postgres is given: the input unchanged when it names one server and no
   * target_session_attrs (so today's URLs behave exactly as before); otherwise the first server in
   * the authority, without host, port, target_session_attrs and connect_timeout parameters.
   */
  url: string;
}

/** A URL whose server list cannot be used. The message never holds the URL (it may hold a password). */
export class ServerListError extends Error {
  override readonly name = 'ServerListError';
}

const DEFAULT_PORT = 5432;
const SCHEME = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/is;
/** Parameters this module consumes: pg would misread the lists, and ignores the rest. */
const CONSUMED_PARAMS = ['host', 'port', 'target_session_attrs', 'connect_timeout'];

/**
 * Reads the servers and target_session_attrs of a postgres:// URL.
 * Hosts without a port take the `port` parameter (one value for all), else 5432; `port=a,b` gives each
 * host its own, and must have as many values as there are hosts. `host=` in the query replaces the
 * authority's hosts, as in libpq. Throws ServerListError for anything libpq would refuse.
 *
 * @example
 * parseServerList('postgresql://u:p@h1,h2:5433/db?target_session_attrs=read-write').servers
 * // [{ host: 'h1', port: 5432 }, { host: 'h2', port: 5433 }]
 */
export function parseServerList(url: string): ServerList {
  const match = SCHEME.exec(url);
  if (!match) throw new ServerListError('the URL must start with postgres:// or postgresql://');
  const [, scheme = '', authority = '', rest = ''] = match;
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at + 1);
  const hostPart = authority.slice(at + 1);
  const params = new URLSearchParams(queryOf(rest));

  const targetSessionAttrs = readTargetSessionAttrs(params.get('target_session_attrs'));
  const connectTimeoutSeconds = readConnectTimeout(params.get('connect_timeout'));
  const servers = readServers(hostPart, params.get('host'), params.get('port'));

  const unchanged = servers.length === 1 && !params.has('target_session_attrs') && !params.has('connect_timeout');
  return {
    servers,
    targetSessionAttrs,
    connectTimeoutSeconds,
    url: unchanged ? url : singleServerUrl(scheme, userinfo, servers[0] as ServerAddress, rest),
  };
}

/** True when connections need the server walk of ./failover-client.ts (several servers, or a check). */
export function needsServerChoice(list: ServerList): boolean {
  return list.servers.length > 1 || list.targetSessionAttrs !== 'any';
}

/**
 * The servers as one `host:port,host:port` string, for messages.
 * @example describeServers([{ host: '::1', port: 5432 }, { host: 'b', port: 5433 }]) // '[::1]:5432,b:5433'
 */
export function describeServers(servers: readonly ServerAddress[]): string {
  return servers.map(describeServer).join(',');
}

export function describeServer(server: ServerAddress): string {
  const host = server.host.includes(':') && !server.host.startsWith('/') ? `[${server.host}]` : server.host;
  return `${host}:${server.port}`;
}

function readServers(hostPart: string, hostParam: string | null, portParam: string | null): ServerAddress[] {
  // Authority entries: `host`, `host:port`, `[v6]`, `[v6]:port`, or `%2Fsocket%2Fdir`.
  const fromAuthority = hostPart === '' ? [] : hostPart.split(',').map(splitAuthorityEntry);
  const hosts =
    hostParam !== null && hostParam !== ''
      ? hostParam
          .split(',')
          .map((host) => ({ host: host.trim().replace(/^\[(.*)\]$/, '$1'), port: null as string | null }))
      : fromAuthority;
  if (hosts.length === 0) hosts.push({ host: '', port: null });
  if (hosts.length > 1 && hosts.some((h) => h.host === '')) {
    throw new ServerListError('the host list has an empty entry');
  }
  const ports = portParam === null || portParam === '' ? [] : portParam.split(',').map((p) => p.trim());
  if (ports.length > 1 && ports.length !== hosts.length) {
    throw new ServerListError(`${hosts.length} hosts but ${ports.length} ports: give one port, or one per host`);
  }
  return hosts.map(({ host, port }, i) => ({
    host: host === '' ? 'localhost' : host,
    port: readPort(ports.length > 1 ? ports[i] : (port ?? ports[0])),
  }));
}

function splitAuthorityEntry(entry: string): { host: string; port: string | null } {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] ?? null };
  if (entry.includes('[') || entry.includes(']')) throw new ServerListError('an IPv6 host must be in [brackets]');
  const colon = entry.lastIndexOf(':');
  const host = colon === -1 ? entry : entry.slice(0, colon);
  if (host.includes(':')) throw new ServerListError('an IPv6 host must be in [brackets]');
  return { host: decodeHost(host), port: colon === -1 ? null : entry.slice(colon + 1) };
}

function decodeHost(host: string): string {
  try {
    return decodeURIComponent(host);
  } catch {
    throw new ServerListError('a host has a malformed %-escape');
  }
}

function readPort(value: string | null | undefined): number {
  if (value === null || value === undefined || value === '') return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new ServerListError(`port ${JSON.stringify(value)} is not 1-65535`);
  return port;
}

function readTargetSessionAttrs(value: string | null): TargetSessionAttrs {
  if (value === null || value === '') return 'any';
  const known = TARGET_SESSION_ATTRS.find((attrs) => attrs === value);
  if (known === undefined) {
    throw new ServerListError(
      `target_session_attrs must be one of ${TARGET_SESSION_ATTRS.join(', ')} (got ${JSON.stringify(value)})`,
    );
  }
  return known;
}

function readConnectTimeout(value: string | null): number | null {
  if (value === null || value === '') return null;
  const seconds = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(seconds)) {
    throw new ServerListError(`connect_timeout must be a whole number of seconds (got ${JSON.stringify(value)})`);
  }
  // libpq: 0 means no limit, and values below 2 are raised to 2.
  return seconds === 0 ? null : Math.max(2, seconds);
}

function queryOf(rest: string): string {
  const q = rest.indexOf('?');
  if (q === -1) return '';
  const hash = rest.indexOf('#', q);
  return rest.slice(q + 1, hash === -1 ? undefined : hash);
}

/** The URL with `server` as its only host and the consumed parameters removed. */
function singleServerUrl(scheme: string, userinfo: string, server: ServerAddress, rest: string): string {
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const params = new URLSearchParams(queryOf(rest));
  for (const name of CONSUMED_PARAMS) params.delete(name);
  const query = params.toString();
  // node-postgres reads a %-encoded host starting with `/` as a Unix socket directory.
  const host = server.host.startsWith('/')
    ? encodeURIComponent(server.host)
    : describeServer(server).replace(/:\d+$/, '');
  return `${scheme}${userinfo}${host}:${server.port}${path}${query === '' ? '' : `?${query}`}`;
}
