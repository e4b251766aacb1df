/** `gatekeeper export` to a place it cannot write says what is wrong in the newcomer's words. */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatekeeper } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  // Any command that writes creates the tables; export only reads.
  const list = await runGatekeeper(['users', 'list'], { env: { DATABASE_URL: db.url } });
  expect(list.code, list.stderr).toBe(0);
});
afterAll(() => db?.drop());

describe('gatekeeper export', { timeout: 60_000 }, () => {
  it('to a directory that does not exist names that directory, not a temporary file', async () => {
    const directory = path.join(tmpdir(), `gk-nowhere-${randomBytes(6).toString('hex')}`);
    const result = await runGatekeeper(['export', '--out', path.join(directory, 'users.jsonl')], {
      env: { DATABASE_URL: db.url },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`gatekeeper: directory ${directory} does not exist\n`);
  });
});
