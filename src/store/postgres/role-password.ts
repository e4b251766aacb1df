/**
 * PostgreSQL role passwords without sending or logging the plain text:
 * `scramVerifier` builds the SCRAM-SHA-256 secret that PostgreSQL itself would store
 * (CREATE/ALTER ROLE … PASSWORD accepts it as is, as psql's \password does), so the
 * password never appears in a statement a server log could record; `passwordMatches`
 * checks a stored secret (pg_authid.rolpassword) against a password.
 * Formats: RFC 5802/7677 and PostgreSQL's src/common/scram-common.c.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const SCRAM = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;
const ITERATIONS = 4096; // PostgreSQL's default scram_iterations
const SALT_BYTES = 16;

interface ScramKeys {
  storedKey: Buffer;
  serverKey: Buffer;
}

function scramKeys(password: string, salt: Buffer, iterations: number): ScramKeys {
  // No SASLprep: node-postgres does none when it logs in, so the secret must match the raw UTF-8 bytes.
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/**
 * The SCRAM-SHA-256 secret of a password, with a fresh random salt.
 * @example await admin.query(`ALTER ROLE app PASSWORD ${pg.escapeLiteral(scramVerifier(pw))}`);
 */
export function scramVerifier(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  const { storedKey, serverKey } = scramKeys(password, salt, ITERATIONS);
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** True when `stored` (SCRAM-SHA-256 or md5, as in pg_authid) is the secret of `password` for `role`. */
export function passwordMatches(stored: string | null, password: string, role: string): boolean {
  if (stored === null) return false;
  const scram = SCRAM.exec(stored);
  if (scram) {
    const [, iterations = '0', salt = '', storedKey = '', serverKey = ''] = scram;
    const keys = scramKeys(password, Buffer.from(salt, 'base64'), Number(iterations));
    return (
      same(keys.storedKey, Buffer.from(storedKey, 'base64')) && same(keys.serverKey, Buffer.from(serverKey, 'base64'))
    );
  }
  if (/^md5[0-9a-f]{32}$/.test(stored)) {
    const expected = `md5${createHash('md5')
      .update(password + role)
      .digest('hex')}`;
    return same(Buffer.from(expected), Buffer.from(stored));
  }
  return false;
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
