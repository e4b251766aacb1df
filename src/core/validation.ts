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
  if (Buffer.byteLength(JSON.stringify(metadata)) > LIMITS.metadataMaxBytes) {
    return `Metadata must be at most ${LIMITS.metadataMaxBytes / 1024} KiB when serialized.`;
  }
  if (containsNul(metadata)) return 'Metadata must not contain NUL characters.';
  return null;
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(containsNul);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(([k, v]) => k.includes('\0') || containsNul(v));
  }
  return false;
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
