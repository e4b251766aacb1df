/**
 * Last line of defence for text that leaves the CLI and did not come from our own
 * messages (driver errors, unexpected failures): URL passwords and anything shaped
 * like a password hash are masked.
 */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi;
const PASSWORD_HASH = /\$(argon2(id|i|d)|2[abxy]?|scrypt|pbkdf2[-\w]*)\$[^\s"',)]*/g;
const SCRAM_SECRET = /SCRAM-SHA-256\$[^\s"',)]*/g;
const MD5_SECRET = /\bmd5[0-9a-f]{32}\b/g;

/** @example redactSecrets('postgresql://u:pw@h/db') // 'postgresql://u:***@h/db' */
export function redactSecrets(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1:***@')
    .replace(PASSWORD_HASH, '[redacted]')
    .replace(SCRAM_SECRET, '[redacted]')
    .replace(MD5_SECRET, '[redacted]');
}
