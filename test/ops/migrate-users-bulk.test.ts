/** migrate-users, export and import at scale: 10,000 users, every column compared. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGatekeeper } from '../support/cli.js';
import { cheapHash, insertManyUsers, usersDigest } from './fixtures.js';
import { expectNoSecrets, lastLine, logsIn, migrate, useScratch } from './transfer-helpers.js';

const BULK_PASSWORD = 'Bulk-Pa55word!';
const scratch = useScratch();
let bulkHash: string;
let tmp: string;

beforeAll(async () => {
  bulkHash = await cheapHash(BULK_PASSWORD);
  tmp = await scratch.tempDir();
});

// Commands run in-process (runGatekeeper) against a real server: CI machines are slow and shared.
describe('gatekeeper migrate-users with 10,000 users', { timeout: 180_000 }, () => {
  it('copies every column in well under a minute, resumes by skipping, and export/import carry the same users', async () => {
    const source = await scratch.gatekeeperDatabase();
    await insertManyUsers(source, 10_000, bulkHash);
    const target = await scratch.emptyDatabase(); // gets its schema from migrate-users

    const started = Date.now();
    const first = await migrate(source, target, '--batch-size', '1000');
    const seconds = (Date.now() - started) / 1000;
    expect(first.code, first.stderr).toBe(0);
    expect(seconds).toBeLessThan(45);
    expect(first.stdout).toContain('10000 users to copy, in batches of 1000 (existing users: skip)');
    expect(lastLine(first)).toBe('copied 10000, skipped 0, failed 0');
    expect(first.stderr).toMatch(/^progress: \d+ of 10000 users \(\d+%\): copied \d+, skipped 0, failed 0$/m);
    expect(await usersDigest(target)).toEqual(await usersDigest(source));
    expectNoSecrets(first, bulkHash, source, target);

    const again = await migrate(source, target, '--batch-size', '1000');
    expect(again.code).toBe(0);
    expect(lastLine(again)).toBe('copied 0, skipped 10000, failed 0');
    expect(await logsIn(target, 'user4242', BULK_PASSWORD)).toBe(true);

    const file = path.join(tmp, 'users.jsonl');
    const exported = await runGatekeeper(['export', '--out', file], { env: { DATABASE_URL: target } });
    expect(exported.code, exported.stderr).toBe(0);
    expect(lastLine(exported)).toBe('copied 10000, skipped 0, failed 0');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(10_000);
    expect(Object.keys(JSON.parse(lines[0] ?? '{}') as object)).toEqual([
      'id',
      'username',
      'password_hash',
      'role',
      'email',
      'profile_picture_url',
      'yapcoin_balance',
      'is_active',
      'created_at',
      'updated_at',
      'metadata',
    ]);
    expectNoSecrets(exported, bulkHash, target);
    const refused = await runGatekeeper(['export', '--out', file], { env: { DATABASE_URL: target } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exists');

    const third = await scratch.emptyDatabase();
    const imported = await runGatekeeper(['import', file], { env: { DATABASE_URL: third }, timeoutMs: 120_000 });
    expect(imported.code, imported.stderr).toBe(0);
    expect(lastLine(imported)).toBe('copied 10000, skipped 0, failed 0');
    expect(await usersDigest(third)).toEqual(await usersDigest(source));
  });
});
