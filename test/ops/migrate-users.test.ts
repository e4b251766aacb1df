/** migrate-users: --on-conflict, failing batches, bad input, usage errors, the terminal progress bar. */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../support/cli.js';
import { ROOT } from '../support/process.js';
import { cheapHash, insertManyUsers, sql, usersDigest } from './fixtures.js';
import { lastLine, logsIn, migrate, useScratch } from './transfer-helpers.js';

const BULK_PASSWORD = 'Bulk-Pa55word!';
const scratch = useScratch();
let bulkHash: string;
let tmp: string;

beforeAll(async () => {
  bulkHash = await cheapHash(BULK_PASSWORD);
  tmp = await scratch.tempDir();
});

// Commands run in-process; the process itself (bin, terminal, serve) is spawned. A real server: CI machines are slow and shared.
describe('gatekeeper migrate-users conflicts and failures', { timeout: 120_000 }, () => {
  it('--on-conflict update overwrites existing users; skip (the default) leaves them', async () => {
    const source = await scratch.gatekeeperDatabase();
    const target = await scratch.gatekeeperDatabase();
    await insertManyUsers(source, 20, bulkHash);
    expect(lastLine(await migrate(source, target))).toBe('copied 20, skipped 0, failed 0');
    await sql(source, `UPDATE users SET role = 'admin', email = 'NEW1@example.com' WHERE username = 'user1'`);
    await sql(target, `UPDATE users SET username = 'USER2' WHERE username = 'user2'`); // same name, any case

    expect(lastLine(await migrate(source, target))).toBe('copied 0, skipped 20, failed 0');
    const updated = await migrate(source, target, '--on-conflict', 'update');
    expect(updated.stdout).toContain('20 of the copied users replaced existing ones');
    expect(lastLine(updated)).toBe('copied 20, skipped 0, failed 0');
    expect(await usersDigest(target)).toEqual(await usersDigest(source));
  });

  it('a batch the database refuses is rolled back whole and reported; the next run resumes', async () => {
    const source = await scratch.gatekeeperDatabase();
    const target = await scratch.gatekeeperDatabase();
    await insertManyUsers(source, 30, bulkHash);
    // A target that refuses one user: the whole batch holding it must leave no trace.
    await sql(
      target,
      `CREATE FUNCTION refuse_user15() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.username = 'user15' THEN RAISE EXCEPTION 'user15 is not welcome'; END IF; RETURN NEW; END $$`,
    );
    await sql(target, 'CREATE TRIGGER refuse BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_user15()');

    const failed = await migrate(source, target, '--batch-size', '10');
    expect(failed.code).toBe(1);
    expect(lastLine(failed)).toBe('copied 20, skipped 0, failed 10');
    expect(failed.stderr).toMatch(
      /failed: batch \d \(10 users, users "[^"]+" … "[^"]+"\): rolled back: user15 is not welcome/,
    );
    const { rows } = await sql(target, `SELECT count(*)::int AS n FROM users WHERE username = ANY($1)`, [
      (await sql(source, `SELECT username FROM users ORDER BY id`)).rows.map((r: { username: string }) => r.username),
    ]);
    expect(rows[0]).toEqual({ n: 20 });

    await sql(target, 'DROP TRIGGER refuse ON users');
    const resumed = await migrate(source, target, '--batch-size', '10');
    expect(resumed.code).toBe(0);
    expect(lastLine(resumed)).toBe('copied 10, skipped 20, failed 0');
  });

  it('losing the target database stops the copy with the counts so far; the same command resumes', async () => {
    const source = await scratch.gatekeeperDatabase();
    const target = await scratch.gatekeeperDatabase();
    await insertManyUsers(source, 30, bulkHash);
    // The server drops the writer's connection in the middle of one batch, as a restart would.
    await sql(
      target,
      `CREATE FUNCTION drop_connection() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.username = 'user15' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$`,
    );
    await sql(
      target,
      'CREATE TRIGGER drop_connection BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION drop_connection()',
    );

    const stopped = await migrate(source, target, '--batch-size', '10');
    expect(stopped.code).toBe(1);
    expect(lastLine(stopped)).toMatch(/^copied (0|10|20), skipped 0, failed 0$/);
    expect(stopped.stderr).toContain('gatekeeper: stopped early: ');
    expect(stopped.stderr).toContain('Run the same command again to resume.');

    await sql(target, 'DROP TRIGGER drop_connection ON users');
    const resumed = await migrate(source, target, '--batch-size', '10');
    expect(resumed.code).toBe(0);
    expect(await usersDigest(target)).toEqual(await usersDigest(source));
  });

  it('a JSON Lines source reports bad lines by number, never their content', async () => {
    const file = path.join(tmp, 'mixed.jsonl');
    const good = { id: null, username: 'lineuser', password_hash: bulkHash, role: 'regular' };
    await writeFile(file, [JSON.stringify(good), '{"username": "nohash"}', 'not json at all', '', '[1,2]'].join('\n'));
    const target = await scratch.emptyDatabase();
    const result = await migrate(`jsonl:${file}`, target);
    expect(result.code).toBe(1);
    expect(lastLine(result)).toBe('copied 1, skipped 0, failed 3');
    expect(result.stderr).toContain('failed: line 2 (user "nohash"): password_hash is missing');
    expect(result.stderr).toContain('failed: line 3: not valid JSON');
    expect(result.stderr).toContain('failed: line 5: not a JSON object');
    expect(result.stderr).not.toContain('not json at all');
    expect(await logsIn(target, 'lineuser', BULK_PASSWORD)).toBe(true);
  });

  it('a JSON Lines target is written whole with mode 0600, and a second run adds nothing', async () => {
    const source = await scratch.gatekeeperDatabase();
    await insertManyUsers(source, 12, bulkHash);
    const file = path.join(tmp, 'target.jsonl');
    expect(lastLine(await migrate(source, `jsonl:${file}`))).toBe('copied 12, skipped 0, failed 0');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(lastLine(await migrate(source, `jsonl:${file}`))).toBe('copied 0, skipped 12, failed 0');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(12);
  });

  it('usage mistakes are exit 2 and never echo a URL', async () => {
    const typo = await migrate('postgress://app:S3cretPw@db/app', 'jsonl:x.jsonl');
    expect(typo.code).toBe(2);
    expect(typo.stderr).not.toContain('S3cretPw');
    expect((await migrate('jsonl:a.jsonl', 'reynard+postgresql://x@y/z')).code).toBe(2);
    expect((await migrate('jsonl:a.jsonl', 'jsonl:b.jsonl', '--on-conflict', 'merge')).code).toBe(2);
    expect((await migrate('jsonl:a.jsonl', 'jsonl:a.jsonl')).code).toBe(2);
  });

  it('shows a progress bar redrawn in place on a terminal', async () => {
    const source = path.join(tmp, 'bar-source.jsonl');
    await writeFile(
      source,
      Array.from({ length: 50 }, (_, i) => JSON.stringify({ username: `bar${i}`, password_hash: bulkHash })).join('\n'),
    );
    const command = `node bin/gatekeeper.js migrate-users --from jsonl:${source} --to jsonl:${path.join(tmp, 'bar-target.jsonl')} --batch-size 10`;
    const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: cleanEnv() });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(screen).toMatch(/\r\[#{30}\] 100% 50\/50 · copied 50, skipped 0, failed 0/);
    expect(screen).toContain('copied 50, skipped 0, failed 0');
  });
});
