/**
 * Sizes of the seed's `users` columns and the input rules of docs/API.md, in one place:
 * the HTTP schemas (for docs), the service (authoritative), the stores and the importers use them.
 */
export const LIMITS = Object.freeze({
  usernameMin: 3,
  usernameMax: 50,
  emailMax: 255,
  passwordMin: 8,
  passwordMax: 128,
  /** `users.password_hash` is VARCHAR(255). */
  passwordHashMax: 255,
  profilePictureUrlMax: 500,
  metadataMaxBytes: 16 * 1024,
  /** Objects and arrays inside metadata nest at most this deep (the top-level object is 1). */
  metadataMaxDepth: 32,
  /** What a session keeps of its login's User-Agent header (`sessions.user_agent` is VARCHAR(512)). */
  sessionUserAgentMax: 512,
  /** `sessions.ip` is VARCHAR(64): an IPv6 address with a zone fits. */
  sessionIpMax: 64,
});

/** A UUID in its text form, any case (user ids, session ids). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
