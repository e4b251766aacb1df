/**
 * The SMTP URL holds the relay's password: it is shown only with the password masked,
 * and any text that could quote it (a driver error) is scrubbed before it is logged.
 */

/**
 * The URL with its password (if any) replaced by `***`.
 * @example redactSmtpUrl('smtps://app:s3cret@mail.example.com:465') // 'smtps://app:***@mail.example.com:465'
 */
export function redactSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an SMTP URL that does not parse; not shown)';
  }
}

/** The password of an SMTP URL, raw and percent-decoded: the forms a message could quote. */
export function secretsOf(url: string | null): string[] {
  if (url === null) return [];
  try {
    const { password } = new URL(url);
    if (password === '') return [];
    return [...new Set([password, decodeURIComponent(password)])];
  } catch {
    return [];
  }
}

/** `text` with every occurrence of every secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
  return out;
}
