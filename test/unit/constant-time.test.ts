/**
 * Issue 5, point 6: secrets are never compared with `===`, whose running time
 * depends on how many leading characters match. Passwords go through Argon2's
 * verify, HMACs through WebCrypto's verify, refresh tokens are looked up by their
 * SHA-256, and the SCRAM proof in role-password.ts uses timingSafeEqual. This scan
 * fails if someone compares a secret-named value directly.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SECRET_WORD = /secret|password|passwd|token|hash|signature|digest|hmac/i;
const OPERAND = String.raw`((?:\w+\.)*\w+(?:\(\))?)`;
const COMPARISON = new RegExp(String.raw`${OPERAND}\s*[!=]==?\s*${OPERAND}`, 'g');

/** Names whose last segment says "secret", compared with anything but a literal. */
function directSecretComparisons(source: string): string[] {
  const found: string[] = [];
  for (const line of source.split('\n')) {
    // Comments and string contents cannot compare anything.
    const code = line.replace(/\/\/.*$/, '').replace(/(['"`])(?:\\.|(?!\1).)*\1/g, '""');
    for (const [, a = '', b = ''] of code.matchAll(COMPARISON)) {
      const secretish = (s: string) => SECRET_WORD.test(s.replace(/\(\)$/, '').split('.').pop() ?? '');
      const literal = (s: string) => /^(\d|null$|undefined$|true$|false$)/.test(s);
      if ((secretish(a) || secretish(b)) && !literal(a) && !literal(b)) found.push(line.trim());
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('constant-time comparison of secrets', () => {
  it('the scan finds direct comparisons of secrets and ignores ids, literals and comments', () => {
    expect(directSecretComparisons('if (storedHash === hashRefreshToken(token)) {')).toHaveLength(1);
    expect(directSecretComparisons('return a.passwordHash !== b.passwordHash;')).toHaveLength(1);
    expect(directSecretComparisons('const ok = secret == provided;')).toHaveLength(1);
    expect(directSecretComparisons('if (token.sessionId === id) {')).toEqual([]);
    expect(directSecretComparisons("if (password === '') return;")).toEqual([]);
    expect(directSecretComparisons('if (config.secretKey === null) return;')).toEqual([]);
    expect(directSecretComparisons('// compare secret === other in constant time')).toEqual([]);
  });

  it('no source file compares a secret with === or !==', () => {
    const offenders = sourceFiles(SRC).flatMap((file) =>
      directSecretComparisons(readFileSync(file, 'utf8')).map((line) => `${path.relative(SRC, file)}: ${line}`),
    );
    expect(offenders).toEqual([]);
  });
});
