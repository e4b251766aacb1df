/**
 * Whether a value is a node-postgres Pool, recognised by shape rather than `instanceof`:
 * a pool an application hands to createGatekeeper may come from another copy of pg in
 * its node_modules, and `instanceof` would then take it for a single client. No runtime
 * import of pg, so the memory backend still never loads it.
 */
import type pg from 'pg';

export function isPool(value: unknown): value is pg.Pool {
  const candidate = value as Partial<pg.Pool> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.connect === 'function' &&
    typeof candidate.query === 'function' &&
    typeof candidate.totalCount === 'number'
  );
}
