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
});

/** A UUID in its text form, any case (user ids, session ids). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
