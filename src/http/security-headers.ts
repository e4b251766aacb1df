/**
 * The security headers every response carries, decided once per path prefix.
 *
 * These are the headers @fastify/helmet sent for a JSON API (its document-only ones
 * dropped), written out as constant sets: helmet runs a chain of middleware calls
 * per request, which measured about a fifth of an authenticated request's cost
 * (docs/BENCHMARKS.md, "Choices"). A test pins every header.
 */
const COMMON = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
} as const;

/** JSON responses never load anything and are never framed. */
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

/** The interactive docs (/docs) need their own scripts and styles: no CSP there. */
const DOCS_HEADERS: Readonly<Record<string, string>> = COMMON;
const API_HEADERS: Readonly<Record<string, string>> = { ...COMMON, 'content-security-policy': JSON_CSP };
/** Everything under /auth/ is per-user (tokens, profiles): no cache may keep it. */
const AUTH_HEADERS: Readonly<Record<string, string>> = { ...API_HEADERS, 'cache-control': 'no-store' };

/** The header set for a request URL (path and query as received). */
export function securityHeadersFor(url: string): Readonly<Record<string, string>> {
  if (url.startsWith('/auth/')) return AUTH_HEADERS;
  if (url.startsWith('/docs')) return DOCS_HEADERS;
  return API_HEADERS;
}
