/**
 * How a browser holds a Gatekeeper session (the pages, issue 15): in two HttpOnly cookies that no
 * script can read, never in localStorage or a script variable.
 *
 * - the access token, `Path=/auth`: sent with the pages' calls to the JSON API and nowhere else;
 * - the refresh token, `Path=/auth/session`: sent only to the routes that rotate and end it.
 *
 * Both are SameSite=Strict and Secure, except over plain HTTP on a loopback host (a newcomer's
 * http://localhost). Secure cookies carry the `__Secure-` prefix, which browsers accept only with
 * Secure, so a plain-HTTP response elsewhere can never plant one.
 *
 * CSRF: a request that authenticates with the cookie must carry `X-Gatekeeper-CSRF: 1` (a custom
 * header: a cross-site form cannot send one, and a cross-site script cannot without a CORS preflight
 * that Gatekeeper never grants for it), and when the browser says where it comes from (`Origin`,
 * `Sec-Fetch-Site`) that must be this site. SameSite=Strict is the second line, not the only one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenPair } from '../auth/types.js';
import { GatekeeperError } from '../errors.js';

export const CSRF_HEADER = 'x-gatekeeper-csrf';
const ACCESS_PATH = '/auth';
const REFRESH_PATH = '/auth/session';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Plain HTTP is allowed (no Secure flag) only on a loopback host; everywhere else the cookies need HTTPS. */
export function cookiesAreSecure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || !LOOPBACK_HOSTS.has(request.hostname);
}

function cookieNames(secure: boolean) {
  const prefix = secure ? '__Secure-' : '';
  return { access: `${prefix}gatekeeper-access`, refresh: `${prefix}gatekeeper-refresh` };
}

/** The value of cookie `name` in the request's Cookie header, or null. */
export function readCookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return null;
}

/** The access token of the browser session (either name, so an HTTPS switch does not strand it), or null. */
export function accessCookie(request: FastifyRequest): string | null {
  return readCookie(request, cookieNames(true).access) ?? readCookie(request, cookieNames(false).access);
}

export function refreshCookie(request: FastifyRequest): string | null {
  return readCookie(request, cookieNames(true).refresh) ?? readCookie(request, cookieNames(false).refresh);
}

function cookie(name: string, value: string, path: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${name}=${value}`,
    `Path=${path}`,
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** Puts a fresh token pair into the two cookies (tokens are base64url and dots: no escaping needed). */
export function setSessionCookies(request: FastifyRequest, reply: FastifyReply, tokens: TokenPair): void {
  const secure = cookiesAreSecure(request);
  const names = cookieNames(secure);
  reply.header('set-cookie', [
    cookie(names.access, tokens.accessToken, ACCESS_PATH, tokens.expiresInSeconds, secure),
    cookie(names.refresh, tokens.refreshToken, REFRESH_PATH, tokens.refreshExpiresInSeconds, secure),
  ]);
}

/** Expires both cookies, under both names. */
export function clearSessionCookies(request: FastifyRequest, reply: FastifyReply): void {
  const secure = cookiesAreSecure(request);
  reply.header(
    'set-cookie',
    [cookieNames(true), cookieNames(false)].flatMap((names) => [
      cookie(names.access, '', ACCESS_PATH, 0, secure || names.access.startsWith('__Secure-')),
      cookie(names.refresh, '', REFRESH_PATH, 0, secure || names.refresh.startsWith('__Secure-')),
    ]),
  );
}

/**
 * Refuses (403 CROSS_SITE_REQUEST) a cookie-authenticated request that another site could have made.
 * `Origin` is compared by host only: behind a TLS-terminating proxy the request's own scheme may read
 * http while the page's is https, and a different host is what marks another site.
 */
export function checkSameSite(request: FastifyRequest): void {
  if (request.headers[CSRF_HEADER] !== '1') {
    throw new GatekeeperError(
      'CROSS_SITE_REQUEST',
      'A request signed in by the session cookie must send the header X-Gatekeeper-CSRF: 1.',
    );
  }
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  if (
    (site !== undefined && site !== 'same-origin') ||
    (origin !== undefined && hostOf(origin) !== withoutDefaultPort(request.host))
  ) {
    throw new GatekeeperError('CROSS_SITE_REQUEST', 'The session cookie is only accepted from this site’s own pages.');
  }
}

/** Browsers leave a default port out of Origin; a Host header may still carry it. */
function withoutDefaultPort(host: string): string {
  return host.replace(/:(80|443)$/, '');
}

function hostOf(origin: string): string | null {
  try {
    return withoutDefaultPort(new URL(origin).host);
  } catch {
    return null;
  }
}

/** Whether the request was authenticated by the browser session's cookie (set by requireUser). */
export function viaSessionCookie(request: FastifyRequest): boolean {
  return request.headers.authorization === undefined && accessCookie(request) !== null;
}
