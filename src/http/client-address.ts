/**
 * Which address a request comes from, under GATEKEEPER_TRUST_PROXY.
 *
 * Proxies append to X-Forwarded-For, so only its right end is written by proxies we
 * trust; everything left of it is whatever the client sent. Fastify (proxy-addr) walks
 * the chain from the socket leftwards while the hop is trusted and stops at the first
 * untrusted one: the address the last trusted proxy saw. Trusting "everything" would
 * walk to the leftmost entry, which the client picks, so `true` is read as one hop.
 */
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { isClientAddress, type TrustProxy } from '../core/client-address.js';

/** Fastify's trustProxy option: a function (address, hop) → trusted; hop 0 is the socket peer. */
export type ProxyTrustFunction = (address: string, hop: number) => boolean;

/**
 * The trust function for a setting, or false for none. A bare number is not passed to
 * Fastify: Fastify 5 treats a numeric trustProxy as "trust nothing".
 * @example proxyTrust(2)('10.0.0.1', 1) // true: the second hop is a proxy
 */
export function proxyTrust(setting: TrustProxy): ProxyTrustFunction | false {
  if (setting === false) return false;
  if (typeof setting === 'number') {
    const hops = setting;
    return (_address, hop) => hop < hops;
  }
  const trusted = new BlockList();
  for (const entry of setting) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, Number(prefix), type);
  }
  // BlockList matches IPv4-mapped IPv6 socket addresses (::ffff:127.0.0.1) against IPv4 rules itself.
  return (address) => isClientAddress(address) && trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * With a proxy trusted, request.ip is a header value: anything that is not a plain IP
 * address (8,000 characters, `<script>`) is replaced by the socket address, so the audit
 * trail and the throttle only ever see addresses. Only installed when a proxy is
 * trusted; without one, request.ip is the socket address already.
 */
export function installClientAddress(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    if (!isClientAddress(request.ip)) {
      // request.ip is a getter on Fastify's Request prototype; an own property shadows it for this request.
      Object.defineProperty(request, 'ip', { value: request.socket.remoteAddress, enumerable: true });
    }
    done();
  });
}
