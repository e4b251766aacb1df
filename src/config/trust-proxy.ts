/**
 * GATEKEEPER_TRUST_PROXY: which X-Forwarded-For entry is the client. Read here, applied
 * by the HTTP app (src/http/client-address.ts).
 */
import { isIP } from 'node:net';
import type { TrustProxy } from '../core/client-address.js';
import { show, type Reader } from './env-reader.js';

const FALSE_WORDS = ['false', '0', 'no', 'off'];
/** `true` is kept from the Reynard original, but trusting "everything" picks the leftmost entry, which the client writes. */
const TRUE_WORDS = ['true', 'yes', 'on'];
const MAX_HOPS = 16;

/** One trusted proxy: an address or a CIDR block (`10.0.0.0/8`, `fd00::/8`). */
function isProxyEntry(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined || address.includes('%')) return false;
  if (prefix === undefined) return true;
  const bits = /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  return bits <= (family === 4 ? 32 : 128);
}

/**
 * `false` (default), `true` (one proxy hop, as `1`), a hop count (`2`), or a comma-separated
 * list of trusted proxy addresses and CIDR blocks (`10.0.0.0/8,127.0.0.1`).
 */
export function readTrustProxy(read: Reader, problems: string[]): TrustProxy {
  const value = read.raw('GATEKEEPER_TRUST_PROXY');
  if (value === undefined) return false;
  const word = value.trim().toLowerCase();
  if (FALSE_WORDS.includes(word)) return false;
  if (TRUE_WORDS.includes(word)) return 1;
  if (/^[0-9]+$/.test(word) && Number(word) <= MAX_HOPS) return Number(word);
  const entries = value.split(',').map((e) => e.trim());
  if (entries.every(isProxyEntry)) return entries;
  const bad = entries.find((e) => !isProxyEntry(e)) ?? value;
  problems.push(
    `GATEKEEPER_TRUST_PROXY must be false, true (one proxy hop), a hop count from 1 to ${MAX_HOPS}, or trusted proxy addresses/CIDRs like 10.0.0.0/8,127.0.0.1 (got ${show(bad)})`,
  );
  return false;
}
