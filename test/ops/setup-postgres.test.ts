import { afterAll, describe, expect, it } from 'vitest';
import { defaultAdminUrl } from '../../src/cli/url-settings.js';
import { loadConfig } from '../../src/config.js';
import { loadMigrations } from '../../src/store/postgres/migrator.js';
import { asAdmin, runGatekeeper, scratchAccount } from '../support/cli.js';

const scratch: ReturnType<typeof scratchAccount>[] = [];
afterAll(async () => {
  for (const account of scratch) await account.drop();
});

/** A role and database that do not exist yet, configured as the service would be (POSTGRES_*). */
function freshTarget() {
  const account = scratchAccount('gk_setup');
  scratch.push(account);
  const env = {
    POSTGRES_HOST: account.host,
    POSTGRES_PORT: account.port,
    POSTGRES_USER: account.name,
    POSTGRES_PASSWORD: account.password,
    POSTGRES_DB: account.name,
  };
  const run = (args: string[], extra: Record<string, string> = {}) =>
    runGatekeeper(['setup-postgres', ...args], { env: { ...env, ...extra } });
  /** No line of any output may hold the service password or the admin password. */
  const expectNoSecrets = (text: string) => {
    expect(text).not.toContain(account.password);
    expect(text).not.toContain(decodeURIComponent(new URL(account.adminUrl).password));
    expect(text).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
  };
  return { account, env, run, expectNoSecrets };
}

// Commands run in-process (runGatekeeper) against a real server: CI machines are slow and shared.
describe('gatekeeper setup-postgres', { timeout: 120_000 }, () => {
  it('--all creates role, database and tables; a second --all changes nothing and says so; --test reports', async () => {
    const { account, run, expectNoSecrets } = freshTarget();
    const migrations = (await loadMigrations()).length;
    const first = await run(['--all', '--admin-url', account.adminUrl]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`target: ${account.name}@${account.host}:${account.port}/${account.name}`);
    expect(first.stdout).toContain(`created role ${account.name} (LOGIN, with the configured password)`);
    expect(first.stdout).toContain(`created database ${account.name}, owned by ${account.name}`);
    expect(first.stdout).toContain('migration 1 (users): applied');
    expect(first.stdout).toContain(`schema up to date (${migrations} migrations)`);
    expectNoSecrets(first.stdout + first.stderr);

    const second = await run(['--all', '--admin-url', account.adminUrl]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`role ${account.name} exists\n`);
    expect(second.stdout).toContain(`database ${account.name} exists, owned by ${account.name}\n`);
    expect(second.stdout).toContain(`schema up to date (${migrations} migrations)`);
    expect(second.stdout).toContain('nothing changed: everything was already set up');
    expect(second.stdout).not.toContain('applied');
    expectNoSecrets(second.stdout + second.stderr);

    const test = await run(['--test']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/^ {2}server: PostgreSQL \d+/m);
    expect(test.stdout).toContain('  ssl: off');
    expect(test.stdout).toMatch(/^ {2}latency: [\d.]+ ms$/m);
    expect(test.stdout).toContain(`  schema: current (${migrations} of ${migrations} migrations applied)`);
    expect(test.stdout).toContain('  users: 0');
    expect(test.stdout).toContain('connection OK');
    expectNoSecrets(test.stdout + test.stderr);
  });

  it('--test fails with exit 1 and the one line the service prints', async () => {
    const { account, run, expectNoSecrets } = freshTarget();
    expect((await run(['--create-role', '--create-db', '--admin-url', account.adminUrl])).code).toBe(0);
    const schemaless = await run(['--test']);
    expect(schemaless.code).toBe(0);
    expect(schemaless.stdout).toMatch(/schema: \d+ of \d+ migrations pending/);
    expect(schemaless.stdout).toContain('users: no users table yet');

    const wrong = await run(['--test'], { POSTGRES_PASSWORD: 'not-the-password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe(
      `gatekeeper: Cannot connect to PostgreSQL at ${account.host}:${account.port}: password authentication failed for user "${account.name}". Check POSTGRES_USER/POSTGRES_PASSWORD.`,
    );
    expect(wrong.stdout).toContain('connection FAILED');
    expectNoSecrets(wrong.stdout + wrong.stderr);
  });

  it('repairs what the seed manual setup leaves: another owner, a changed password, no LOGIN', async () => {
    const { account, run, expectNoSecrets } = freshTarget();
    await asAdmin([
      `CREATE ROLE ${account.name} NOLOGIN PASSWORD 'an-old-password'`,
      `CREATE DATABASE ${account.name}`,
      `GRANT ALL PRIVILEGES ON DATABASE ${account.name} TO ${account.name}`,
    ]);
    const fixed = await run(['--create-role', '--create-db'], { POSTGRES_ADMIN_URL: account.adminUrl });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain(
      `role ${account.name} exists: allowed it to log in, set its password to the configured one`,
    );
    expect(fixed.stdout).toMatch(
      new RegExp(`database ${account.name} exists: owner changed from \\w+ to ${account.name}`),
    );
    expectNoSecrets(fixed.stdout + fixed.stderr);
    expect((await run(['--create-tables', '--test'])).code).toBe(0);
  });

  it('explains admin problems in one line without printing a password', async () => {
    const { account, run, expectNoSecrets } = freshTarget();
    const badAdmin = new URL(account.adminUrl);
    badAdmin.password = 'wrong-admin-password';
    const denied = await run(['--create-role', '--admin-url', badAdmin.toString()]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('authentication failed for user');
    expect(denied.stderr).toContain(
      'Give the admin credentials in --admin-url or POSTGRES_ADMIN_URL. (DATABASE_UNAVAILABLE)',
    );
    expect(denied.stdout + denied.stderr).not.toContain('wrong-admin-password');
    expectNoSecrets(denied.stdout + denied.stderr);

    const noPassword = new URL(account.adminUrl);
    noPassword.password = '';
    const asked = await run(['--create-role', '--admin-url', noPassword.toString()]);
    expect(asked.code).toBe(1);
    expect(asked.stderr.trim()).toBe(
      `gatekeeper: admin connection ${noPassword.username}@${account.host}:${account.port}/postgres: the server asks for a password and none was given. Give the admin credentials in --admin-url or POSTGRES_ADMIN_URL. (DATABASE_UNAVAILABLE)`,
    );

    const noRole = await run(['--create-db', '--admin-url', account.adminUrl]);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr.trim()).toBe(
      `gatekeeper: role ${account.name} does not exist: create it first (setup-postgres --create-role)`,
    );

    const nothing = await run([]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('choose what to do: --create-role');
  });

  it('defaults the admin connection to the postgres superuser, over the local socket when there is one', () => {
    const local = loadConfig({ POSTGRES_HOST: 'localhost', POSTGRES_PORT: '5433' }).database;
    expect(defaultAdminUrl(local, () => false)).toBe('postgresql://postgres@localhost:5433/postgres');
    expect(defaultAdminUrl(local, (p) => p === '/var/run/postgresql/.s.PGSQL.5433')).toBe(
      'postgresql://postgres@%2Fvar%2Frun%2Fpostgresql:5433/postgres',
    );
    const remote = loadConfig({ DATABASE_URL: 'postgresql://app:pw@db.example.com:6543/app' }).database;
    expect(defaultAdminUrl(remote, () => true)).toBe('postgresql://postgres@db.example.com:6543/postgres');
  });
});
