import { describe, expect, it } from 'vitest';
import { withDatabase } from '../../src/cli/url-settings.js';

describe('withDatabase', () => {
  it('replaces the database and keeps credentials and parameters', () => {
    expect(withDatabase('postgresql://u:p%40ss@db:5432/app?sslmode=require', 'postgres')).toBe(
      'postgresql://u:p%40ss@db:5432/postgres?sslmode=require',
    );
  });

  it('works on a multi-host URL, which WHATWG URL refuses', () => {
    expect(withDatabase('postgresql://u:p@h1:5432,h2:5433/app?target_session_attrs=read-write', 'other db')).toBe(
      'postgresql://u:p@h1:5432,h2:5433/other%20db?target_session_attrs=read-write',
    );
  });

  it('adds a database to a URL without one, and keeps a Unix socket host parameter', () => {
    expect(withDatabase('postgresql://u@h1', 'app')).toBe('postgresql://u@h1/app');
    expect(withDatabase('postgresql://u@/app?host=%2Frun%2Fpostgresql', 'x')).toBe(
      'postgresql://u@/x?host=%2Frun%2Fpostgresql',
    );
  });
});
