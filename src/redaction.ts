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
  // OAuth2 password-grant form field (POST /auth/login accepts it and ignores it).
  '*.client_secret',
  // Signing keys (issue 5): the private half, in either spelling, and the whole stored record.
  '*.privateJwk',
  '*.private_jwk',
  '*.privateKey',
  '*.refreshTokenHash',
  '*.token_hash',
];
