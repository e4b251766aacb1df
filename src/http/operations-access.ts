/**
 * Who may read the operational details: `/metrics` and the `database` part of `/health`
 * (pool sizes, server version, latency, connection errors). They help an attacker
 * size up the service, so with GATEKEEPER_METRICS_TOKEN they need that bearer token;
 * without it they are served only while Gatekeeper listens on a loopback address
 * (reachable from this machine alone) and withheld on any other.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/** `open`: anyone (loopback, no token); `token`: the bearer token; `withheld`: nobody. */
export type OperationsAccess =
  | { mode: 'open' }
  | { mode: 'withheld' }
  | { mode: 'token'; /** SHA-256 of the token: compared digest to digest. */ digest: Buffer };

/**
 * True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`
 * (and 127.x written as IPv4-mapped IPv6). `0.0.0.0` and `::` listen on every interface.
 * @example isLoopbackHost('127.0.0.1') // true; isLoopbackHost('0.0.0.0') // false
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * The access rule for a token setting and a listen host.
 * @example operationsAccess(null, '127.0.0.1') // { mode: 'open' }
 */
export function operationsAccess(token: string | null, host: string): OperationsAccess {
  if (token !== null) return { mode: 'token', digest: digest(token) };
  return isLoopbackHost(host) ? { mode: 'open' } : { mode: 'withheld' };
}

/**
 * The start-up warning when details are withheld, or null. It names the variable,
 * never a value.
 */
export function operationsAccessWarning(token: string | null, host: string): string | null {
  if (operationsAccess(token, host).mode !== 'withheld') return null;
  return `HOST=${host} is not a loopback address and GATEKEEPER_METRICS_TOKEN is not set: /metrics and the database part of /health are withheld. Set GATEKEEPER_METRICS_TOKEN and scrape with "Authorization: Bearer <token>".`;
}

/** What a request may see: `granted`, `missing` (no or another scheme) or `wrong` token, or `withheld`. */
export type AccessVerdict = 'granted' | 'missing' | 'wrong' | 'withheld';

/**
 * Checks a request's Authorization header against the rule. Both sides are hashed
 * first, so timingSafeEqual compares equal lengths and the time says nothing about
 * the token's length or content.
 */
export function checkOperationsAccess(access: OperationsAccess, request: FastifyRequest): AccessVerdict {
  if (access.mode !== 'token') return access.mode === 'open' ? 'granted' : 'withheld';
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  if (!match) return 'missing';
  return timingSafeEqual(digest(match[1]!), access.digest) ? 'granted' : 'wrong';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
