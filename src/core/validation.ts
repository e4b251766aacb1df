import { LIMITS } from './limits.js';
import type { PasswordPolicyName } from './password-policies.js';
import { GatekeeperError, type FieldError } from '../errors.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

export const USERNAME_PATTERN = '^[A-Za-z0-9_-]+$';
const USERNAME_RE = new RegExp(USERNAME_PATTERN);
// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mailer's job.
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const REYNARD_SPECIALS = /[!@#$%^&*(),.?":{}|<>]/;

export function usernameProblem(username: string): string | null {
  if (username.length < LIMITS.usernameMin || username.length > LIMITS.usernameMax) {
    return `Username must be ${LIMITS.usernameMin} to ${LIMITS.usernameMax} characters long.`;
  }
  if (!USERNAME_RE.test(username)) return 'Username may contain only letters, digits, underscores and hyphens.';
  return null;
}

export function emailProblem(email: string): string | null {
  if (email.length > LIMITS.emailMax) return `Email must be at most ${LIMITS.emailMax} characters long.`;
  if (!EMAIL_RE.test(email)) return 'Email must be a valid email address.';
  return null;
}

export function passwordProblem(password: string, policy: PasswordPolicyName): string | null {
  if (password.length < LIMITS.passwordMin || password.length > LIMITS.passwordMax) {
    return `Password must be ${LIMITS.passwordMin} to ${LIMITS.passwordMax} characters long.`;
  }
  if (policy === 'nist') {
    return COMMON_PASSWORDS.has(password.toLowerCase()) ? 'Password is too common; choose another one.' : null;
  }
  const missing = [
    /[A-Z]/.test(password) ? null : 'an uppercase letter',
    /[a-z]/.test(password) ? null : 'a lowercase letter',
    /[0-9]/.test(password) ? null : 'a digit',
    REYNARD_SPECIALS.test(password) ? null : 'a special character (!@#$%^&*(),.?":{}|<>)',
  ].filter((m): m is string => m !== null);
  return missing.length === 0 ? null : `Password must contain ${missing.join(', ')}.`;
}

export function profilePictureUrlProblem(url: string): string | null {
  if (url.length > LIMITS.profilePictureUrlMax) {
    return `Profile picture URL must be at most ${LIMITS.profilePictureUrlMax} characters long.`;
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return null;
  } catch {
    // fall through
  }
  return 'Profile picture URL must be an http(s) URL.';
}

export function metadataProblem(metadata: unknown): string | null {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return 'Metadata must be a JSON object.';
  }
  // Depth first: every later step (serialising, the user cache's freeze, PostgreSQL's jsonb parser)
  // walks the value recursively, and thousands of levels would overflow one of them (issue 18 point 10).
  if (nestingDepth(metadata) > LIMITS.metadataMaxDepth) {
    return `Metadata must be nested at most ${LIMITS.metadataMaxDepth} levels deep.`;
  }
  if (Buffer.byteLength(JSON.stringify(metadata)) > LIMITS.metadataMaxBytes) {
    return `Metadata must be at most ${LIMITS.metadataMaxBytes / 1024} KiB when serialized.`;
  }
  const strings = stringsOf(metadata);
  if (strings.some((text) => text.includes('\0'))) return 'Metadata must not contain NUL characters.';
  if (strings.some(hasLoneSurrogate)) return 'Metadata must not contain unpaired UTF-16 surrogates.';
  return null;
}

/**
 * True when `text` holds a UTF-16 surrogate that is not half of a pair ("\ud800" in JSON). Such a
 * string has no UTF-8 form: PostgreSQL's jsonb refuses it, and a text column would silently store
 * U+FFFD instead, so two different passwords would become the same one (issue 18 point 11).
 */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}
// With the `u` flag a proper pair is one code point; only unpaired halves are category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/** How deeply objects and arrays nest in `value` (a scalar is 0), without recursion. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > deepest) deepest = depth;
    // Past the limit the answer is already known: stop walking.
    if (depth > LIMITS.metadataMaxDepth) return depth;
    for (const child of Object.values(next.value)) stack.push({ value: child, depth });
  }
  return deepest;
}

/** Every key and string value inside `value` (which is at most metadataMaxDepth deep). */
function stringsOf(value: unknown): string[] {
  const found: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next === 'string') found.push(next);
    else if (Array.isArray(next)) stack.push(...next);
    else if (typeof next === 'object' && next !== null) {
      for (const [key, child] of Object.entries(next)) {
        found.push(key);
        stack.push(child);
      }
    }
  }
  return found;
}

/**
 * Collects the problems of the given fields (undefined fields are skipped) and
 * throws one VALIDATION_ERROR listing them all.
 */
export function validateFields(
  fields: {
    username?: string;
    email?: string | null;
    password?: { field: string; value: string };
    profilePictureUrl?: string | null;
    metadata?: unknown;
  },
  policy: PasswordPolicyName,
): void {
  const errors: FieldError[] = [];
  const check = (field: string, value: unknown, problem: string | null) => {
    if (typeof value === 'string' && value.includes('\0'))
      errors.push({ field, message: `${field} must not contain NUL characters.` });
    else if (typeof value === 'string' && hasLoneSurrogate(value))
      errors.push({ field, message: `${field} must not contain unpaired UTF-16 surrogates.` });
    else if (problem !== null) errors.push({ field, message: problem });
  };
  if (fields.username !== undefined) check('username', fields.username, usernameProblem(fields.username));
  if (fields.email !== undefined && fields.email !== null) check('email', fields.email, emailProblem(fields.email));
  if (fields.password !== undefined) {
    check(fields.password.field, fields.password.value, passwordProblem(fields.password.value, policy));
  }
  if (fields.profilePictureUrl !== undefined && fields.profilePictureUrl !== null) {
    check('profile_picture_url', fields.profilePictureUrl, profilePictureUrlProblem(fields.profilePictureUrl));
  }
  if (fields.metadata !== undefined) check('metadata', fields.metadata, metadataProblem(fields.metadata));
  if (errors.length > 0) {
    const detail = errors.length === 1 ? errors[0]!.message : 'Some fields are invalid.';
    throw new GatekeeperError('VALIDATION_ERROR', detail, { errors });
  }
}
