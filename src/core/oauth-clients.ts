/**
 * The words and input rules of OAuth clients (src/store/contract/clients.ts): the grant
 * types a client may be registered for, and what a name and a redirect URI must look
 * like. The HTTP schemas (for docs), the use cases (authoritative) and the CLI use them.
 */

/** RFC 6749 / OpenID Connect grant types a client may be registered for. */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export const CLIENT_LIMITS = Object.freeze({
  nameMax: 100,
  redirectUriMax: 2000,
  redirectUrisMax: 20,
});

/** `gk_` and 16 random bytes in base64url (22 characters). */
export const CLIENT_ID_PATTERN = /^gk_[A-Za-z0-9_-]{22}$/;

/** The grant type named by `text`, or null. */
export function parseGrantType(text: string): GrantType | null {
  return GRANT_TYPES.find((g) => g === text) ?? null;
}

export function clientNameProblem(name: string): string | null {
  if (name.trim().length === 0 || name.length > CLIENT_LIMITS.nameMax) {
    return `Name must be 1 to ${CLIENT_LIMITS.nameMax} characters long.`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'Name must not contain control characters.';
  return null;
}

/**
 * RFC 6749 §3.1.2: an absolute URI without a fragment. https, or http on a loopback host
 * (RFC 8252 §7.3, native apps); other schemes (custom app schemes) are allowed as they are,
 * except the ones that run code in a browser.
 */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length === 0 || uri.length > CLIENT_LIMITS.redirectUriMax) {
    return `A redirect URI must be 1 to ${CLIENT_LIMITS.redirectUriMax} characters long.`;
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'A redirect URI must be an absolute URI.';
  }
  if (url.hash !== '' || uri.includes('#')) return 'A redirect URI must not have a fragment.';
  if (/\s/.test(uri)) return 'A redirect URI must not contain whitespace.';
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (['javascript', 'data', 'vbscript', 'file'].includes(scheme)) {
    return `A redirect URI must not use the ${scheme}: scheme.`;
  }
  if (scheme === 'http' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    return 'A redirect URI must use https (http only for localhost, 127.0.0.1 or [::1]).';
  }
  return null;
}
