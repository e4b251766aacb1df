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
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
} as const;

/**
 * Sent only on responses to HTTPS requests (TLS here, or X-Forwarded-Proto: https from a
 * trusted proxy): over plain HTTP browsers ignore it, and on http://localhost it would
 * only mislead whoever reads the headers, or pin HTTPS for a host that has none.
 */
const HSTS = { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } as const;

/** JSON responses never load anything and are never framed. */
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

type HeaderSet = Readonly<Record<string, string>>;

/** The interactive docs (/docs) need their own scripts and styles: no CSP there. */
const DOCS_HEADERS: HeaderSet = COMMON;
const API_HEADERS: HeaderSet = { ...COMMON, 'content-security-policy': JSON_CSP };
/** Everything under /auth/ is per-user (tokens, profiles): no cache may keep it. */
const AUTH_HEADERS: HeaderSet = { ...API_HEADERS, 'cache-control': 'no-store' };
const WITH_HSTS = new Map<HeaderSet, HeaderSet>(
  [DOCS_HEADERS, API_HEADERS, AUTH_HEADERS].map((set) => [set, { ...set, ...HSTS }]),
);

/**
 * The header set for a request URL (path and query as received) and whether the
 * request came over HTTPS (Fastify's request.protocol, which honours GATEKEEPER_TRUST_PROXY).
 */
export function securityHeadersFor(url: string, https = false): HeaderSet {
  const set = url.startsWith('/auth/') ? AUTH_HEADERS : url.startsWith('/docs') ? DOCS_HEADERS : API_HEADERS;
  return https ? WITH_HSTS.get(set)! : set;
}

/** The header set of the /auth routes, wherever a host app mounts them (src/http/gatekeeper-routes.ts). */
export function authHeaders(https = false): HeaderSet {
  return https ? WITH_HSTS.get(AUTH_HEADERS)! : AUTH_HEADERS;
}
