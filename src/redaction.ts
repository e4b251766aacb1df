/**
 * Pino redaction paths: no password, token, hash or Authorization header reaches a log line.
 * Its own module so that the logger does not import the HTTP layer.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.password_hash',
  '*.passwordHash',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.secretKey',
  // OAuth2 form fields: the password grant's client_secret (POST /auth/login ignores it), and
  // RFC 7662's `token` and client_secret_post's `client_secret` (POST /auth/introspect).
  '*.client_secret',
  '*.token',
  // Signing keys (issue 5): the private half, in either spelling, and the whole stored record.
  '*.privateJwk',
  '*.private_jwk',
  '*.privateKey',
  '*.refreshTokenHash',
  '*.token_hash',
];
