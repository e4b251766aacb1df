/**
 * Where a page may send the browser after signing in (`return_to`): a path on Gatekeeper itself, or
 * a URL on one of the configured origins (GATEKEEPER_PUBLIC_URL's and GATEKEEPER_RETURN_TO_ORIGINS).
 * Anything else is dropped, never followed: no open redirect.
 */
export function safeReturnTo(value: unknown, allowedOrigins: readonly string[]): string | null {
  if (typeof value !== 'string' || value === '' || value.length > 2000) return null;
  // A path on this host; "//host" and "/\host" are other hosts to a browser, and control characters are refused.
  if ([...value].some((char) => char.charCodeAt(0) < 0x20 || char === '\x7f' || char === '\\')) return null;
  if (value.startsWith('/')) return value.startsWith('//') ? null : value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return allowedOrigins.includes(url.origin) ? url.href : null;
}
