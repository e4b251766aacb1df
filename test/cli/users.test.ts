import { spawn } from 'node:child_process';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import type { CachedStore } from '../../src/store/user-state-cache.js';
import { CHEAP_HASH, json } from '../support/app.js';
import { cleanEnv, runGatekeeper } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ROOT } from '../support/process.js';

const PASSWORD = 'Adm1n-Secret!';
const SECRET_KEY = 'cli-test-secret-key-that-is-long-enough-0123';

let db: TestDatabase;
let env: Record<string, string>;
/** The API on the same database, to check that what the CLI did is what the service sees. */
let api: Gatekeeper;

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, GATEKEEPER_SECRET_KEY: SECRET_KEY, GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW' };
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
  api = await buildGatekeeper(config, { hashParams: CHEAP_HASH });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function apiLogin(username: string, password: string) {
  return api.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
}

const users = (args: string[], input?: string) =>
  runGatekeeper(['users', ...args], { env, ...(input === undefined ? {} : { input }) });

// Commands run in-process; the process itself (bin, terminal, serve) is spawned. A real server: CI machines are slow and shared.
describe('gatekeeper users', { timeout: 120_000 }, () => {
  it('create reads the password from stdin, never prints it, and the user logs in through the API', async () => {
    const created = await users(['create', 'root', '--role', 'admin', '--email', 'root@example.com'], `${PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created user root \(role admin, id [0-9a-f-]{36}\)$/m);
    expect(created.stdout + created.stderr).not.toContain(PASSWORD);
    expect((await apiLogin('root', PASSWORD)).statusCode).toBe(200);
  });

  it('create refuses what the API refuses, with the API code (exit 1)', async () => {
    const taken = await users(['create', 'ROOT'], `${PASSWORD}\n`);
    expect(taken.code).toBe(1);
    expect(taken.stderr.trim()).toBe('gatekeeper: That username is already taken. (USERNAME_TAKEN)');

    const weak = await users(['create', 'weakling'], 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain('(VALIDATION_ERROR)');
    expect(weak.stderr).not.toContain('short');

    const email = await users(['create', 'mailer', '--email', 'not-an-address'], `${PASSWORD}\n`);
    expect(email.stderr.trim()).toBe('gatekeeper: Email must be a valid email address. (VALIDATION_ERROR)');

    const role = await users(['create', 'boss', '--role', 'owner'], `${PASSWORD}\n`);
    expect(role.code).toBe(2);
  });

  it('create without a password on stdin is a usage error (exit 2), not a hang', async () => {
    const { code, stderr } = await users(['create', 'nopass']);
    expect(code).toBe(2);
    expect(stderr).toContain('no password on standard input');
  });

  it('list prints a table, filters, and --json never includes the hash', async () => {
    expect((await users(['create', 'bob', '--email', 'bob@example.com'], `${PASSWORD}\n`)).code).toBe(0);
    const table = await users(['list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^USERNAME\s+ROLE\s+ACTIVE\s+EMAIL\s+CREATED$/m);
    expect(table.stdout).toMatch(/^root\s+admin\s+yes\s+root@example.com\s+\d{4}-/m);
    expect(table.stdout).toContain('2 of 2 users');

    const admins = await users(['list', '--role', 'admin', '--json']);
    const rows = admins.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows.map((r) => r.username)).toEqual(['root']);
    expect(admins.stdout).not.toContain('argon2');
    expect((await users(['list', '--q', 'BOB@'])).stdout).toContain('1 of 1 users');
  });

  it('set-role, deactivate and revoke-tokens end sessions at once; the last admin is protected', async () => {
    const lastAdmin = await users(['set-role', 'root', 'regular']);
    expect(lastAdmin.code).toBe(1);
    expect(lastAdmin.stderr.trim()).toBe('gatekeeper: This would leave no active admin. (LAST_ADMIN)');
    expect((await users(['deactivate', 'root'])).stderr).toContain('(LAST_ADMIN)');

    const tokens = (await apiLogin('bob', PASSWORD)).json() as { access_token: string };
    const me = () => api.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await me()).statusCode).toBe(200);
    const revoked = await users(['revoke-tokens', 'bob']);
    expect(revoked.stdout.trim()).toBe('revoked 1 session of bob');
    // The CLI tells running instances to drop their cached session, as the API itself does.
    await (api.store as CachedStore).syncInvalidations();
    expect((await me()).statusCode).toBe(401);

    expect((await users(['set-role', 'bob', 'guest'])).stdout.trim()).toBe('bob is now guest');
    expect((await users(['deactivate', 'bob'])).stdout.trim()).toBe('bob is now inactive');
    expect((await apiLogin('bob', PASSWORD)).statusCode).toBe(401);
    expect((await users(['activate', 'bob'])).stdout.trim()).toBe('bob is now active');
    expect((await apiLogin('bob', PASSWORD)).statusCode).toBe(200);
  });

  it('set-password replaces the password; unknown users are USER_NOT_FOUND', async () => {
    const fresh = 'N3w-Secret!!';
    const changed = await users(['set-password', 'bob'], `${fresh}\r\n`);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout + changed.stderr).not.toContain(fresh);
    expect((await apiLogin('bob', PASSWORD)).statusCode).toBe(401);
    expect((await apiLogin('bob', fresh)).statusCode).toBe(200);

    const missing = await users(['revoke-tokens', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('gatekeeper: No such user. (USER_NOT_FOUND)');
  });

  it('unlock clears the failed-login counter that locked an account out (by username and email alike)', async () => {
    const created = await users(['create', 'locked_out', '--email', 'locked@example.com'], `${PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    const window = 900; // GATEKEEPER_LOGIN_WINDOW_SECONDS' default, which this test's config keeps
    // Five failures recorded as another instance would: the shared counter, not this process's cache.
    for (let i = 0; i < 5; i += 1) await api.store.recordLoginFailure('account:locked_out', new Date(), window);
    const unlocked = await users(['unlock', 'LOCKED_OUT']);
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stdout.trim()).toBe('failed-login counter of LOCKED_OUT cleared');
    expect(await api.store.getLoginFailures(['account:locked_out'], new Date(), window)).toEqual([]);
    expect((await apiLogin('locked@example.com', PASSWORD)).statusCode).toBe(200);
    expect((await users(['unlock', 'nobody'])).stderr.trim()).toBe('gatekeeper: No such user. (USER_NOT_FOUND)');
  });

  it("sessions lists a user's live sessions (table and --json); unknown users are USER_NOT_FOUND", async () => {
    const created = await users(['create', 'sessioned'], `${PASSWORD}\n`);
    expect(created.code, created.stderr).toBe(0);
    const res = await api.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'sessioned', password: PASSWORD },
      remoteAddress: '198.51.100.61',
      headers: { 'user-agent': 'cli-test-agent/2' },
    });
    expect(res.statusCode).toBe(200);
    const listed = await users(['sessions', 'sessioned']);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID +CREATED +LAST USED +EXPIRES +IP +USER AGENT$/);
    expect(lines[1]).toMatch(/ 198\.51\.100\.61 +cli-test-agent\/2$/);
    expect(lines.at(-1)).toBe('1 live session of sessioned');
    const asJson = await users(['sessions', 'sessioned', '--json']);
    expect(JSON.parse(asJson.stdout.trim())).toMatchObject({
      ip: '198.51.100.61',
      user_agent: 'cli-test-agent/2',
      current: false,
    });
    expect((await users(['revoke-tokens', 'sessioned'])).code).toBe(0);
    expect((await users(['sessions', 'sessioned'])).stdout.trim()).toBe(
      ['ID  CREATED  LAST USED  EXPIRES  IP  USER AGENT', '0 live sessions of sessioned'].join('\n'),
    );
    expect((await users(['sessions', 'nobody'])).stderr.trim()).toBe('gatekeeper: No such user. (USER_NOT_FOUND)');
  });

  it('mfa-reset removes a second factor (the password alone signs in again), and says so when there was none', async () => {
    expect((await users(['create', 'lost_phone'], `${PASSWORD}\n`)).code).toBe(0);
    const principal = await api.service.authenticate(
      (json(await apiLogin('lost_phone', PASSWORD)) as { access_token: string }).access_token,
    );
    const { secret } = await api.service.setupTotp(principal, PASSWORD);
    await api.service.confirmTotp(principal, await generate({ secret }));
    expect((await apiLogin('lost_phone', PASSWORD)).body).toContain('mfa_required');
    const reset = await users(['mfa-reset', 'lost_phone']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout.trim()).toBe('second factor of lost_phone removed');
    expect(await api.store.getMfa(principal.user.id)).toBeNull();
    expect((await apiLogin('lost_phone', PASSWORD)).body).toContain('access_token');
    expect((await users(['mfa-reset', 'lost_phone'])).stdout.trim()).toBe('lost_phone had no second factor');
    expect((await users(['mfa-reset', 'nobody'])).stderr.trim()).toBe('gatekeeper: No such user. (USER_NOT_FOUND)');
  });

  // `script` gives the command a real terminal, so the prompt path (raw mode, no echo) runs for real.
  it('on a terminal the password is prompted twice and never echoed', async () => {
    const typed = 'Typ3d-On-A-TTY!';
    const command = `node bin/gatekeeper.js users create ttyuser`;
    const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: cleanEnv(env) });
    let screen = '';
    const waitFor = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => (screen.includes(text) ? resolve() : setTimeout(check, 20));
        check();
      });
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitFor('Password for ttyuser: ');
    child.stdin.write(`${typed}\r`);
    await waitFor('Repeat it: ');
    child.stdin.write(`${typed}\r`);
    expect(await exited).toBe(0);
    expect(screen).toContain('created user ttyuser');
    expect(screen).not.toContain(typed);
    expect((await apiLogin('ttyuser', typed)).statusCode).toBe(200);
  });
});
