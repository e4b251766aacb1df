import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatekeeperError } from '../../src/errors.js';
import { STATUS_BY_CODE, toHttpError } from '../../src/http/error-handler.js';

const catalogue = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('error catalogue', () => {
  it.each(ERROR_CODES)('%s is documented in docs/errors.md with its status', (code) => {
    const row = catalogue.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${STATUS_BY_CODE[code]} |`);
  });

  it('unknown errors become a generic 500 without their message', () => {
    const { status, body } = toHttpError(new Error('relation "users" does not exist at password=hunter2'));
    expect(status).toBe(500);
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(body.code).toBe('INTERNAL_ERROR');
  });

  it('503 errors carry Retry-After', () => {
    expect(toHttpError(new GatekeeperError('DATABASE_UNAVAILABLE', 'down')).retryAfter).toBeGreaterThan(0);
    expect(toHttpError(new GatekeeperError('OVERLOADED', 'busy', { retryAfterSeconds: 2 })).retryAfter).toBe(2);
  });
});
