/**
 * Client addresses: which forwarded address to believe (the proxy-trust setting) and
 * the key under which an address is counted (login throttling).
 *
 * The address itself (request.ip, RequestContext.ip) stays exact, for the audit trail.
 * Counting keys group IPv6 by /64: one customer, home or cloud VM is routinely handed a
 * whole /64, so counting single IPv6 addresses would let one client rotate through
 * 2^64 of them and never be throttled.
 */
import { isIP } from 'node:net';

/**
 * GATEKEEPER_TRUST_PROXY as read: `false` (the socket address is the client), a number of
 * proxy hops in front of Gatekeeper (`true` means 1), or the addresses/CIDRs of trusted
 * proxies (`10.0.0.0/8`, `127.0.0.1`, `::1`).
 */
export type TrustProxy = false | number | readonly string[];

/** The longest textual IP address (IPv6 with an IPv4 tail) is 45 characters. */
const MAX_ADDRESS_LENGTH = 45;

/**
 * True for a plain IPv4 or IPv6 address, as a client address taken from a header must be.
 * Zone ids (`fe80::1%eth0`) are refused: node accepts any text after the `%`, and a zone
 * means nothing beyond the proxy's own link.
 * @example isClientAddress('203.0.113.7') // true; isClientAddress('<script>') // false
 */
export function isClientAddress(value: string): boolean {
  return value.length <= MAX_ADDRESS_LENGTH && !value.includes('%') && isIP(value) !== 0;
}

/**
 * The key under which failures of this address are counted: IPv4 as it is (an
 * IPv4-mapped IPv6 address as its IPv4 form), IPv6 grouped by its /64 prefix. Anything
 * that is not an address comes back unchanged.
 * @example clientAddressKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 * @example clientAddressKey('::ffff:192.0.2.1') // '192.0.2.1'
 */
export function clientAddressKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = ipv6Groups(ip.split('%')[0]!);
  if (groups === null) return ip;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (already checked by isIP), `::` and an IPv4 tail expanded. */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(2).map(Number) as [number, number, number, number];
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const missing = 8 - front.length - back.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  return [...front, ...new Array<number>(missing).fill(0), ...back];
}
