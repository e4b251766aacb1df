/**
 * docs/POSTGRES.md, followed as a newcomer would on a fresh PostgreSQL 15+ (the
 * run's server plays the part): the seed's manual setup and its PostgreSQL 15
 * pitfall, then setup-postgres, the service, and moving the users of an embedded
 * instance over with migrate-users, after which every one of them logs in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isEmbeddedRunning } from '../../src/store/postgres/embedded.js';
import {
  asAdmin,
  runGatekeeper,
  scratchAccount,
  serve,
  spawnGatekeeper,
  type ServedGatekeeper,
} from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';
import { get, post } from '../support/process.js';
import { embeddedWithUsers, type PlainUser } from './fixtures.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function account(prefix: string) {
  const scratch = scratchAccount(prefix);
  cleanups.push(scratch.drop);
  const databaseUrl = `postgresql://${scratch.name}:${scratch.password}@${scratch.host}:${scratch.port}/${scratch.name}`;
  return { ...scratch, databaseUrl };
}

async function started(env: Record<string, string>): Promise<ServedGatekeeper> {
  const service = await serve(env);
  cleanups.push(() => service.stop());
  return service;
}

// Commands run in-process; the process itself (bin, terminal, serve) is spawned. A real server: CI machines are slow and shared.
describe('docs/POSTGRES.md, step by step', { timeout: 180_000 }, () => {
  it('manual setup: the seed GRANT alone fails on PostgreSQL 15+ with one line naming the fix; the owner fix starts it', async () => {
    const target = account('gk_manual');
    const [version] = await asAdmin(['SHOW server_version_num']);
    const major = Math.floor(Number(version?.rows[0]?.server_version_num) / 10000);
    // The seed's "Option 2", word for word (names made unique for the test run).
    await asAdmin([
      `CREATE DATABASE ${target.name}`,
      `CREATE USER ${target.name} WITH PASSWORD '${target.password}'`,
      `GRANT ALL PRIVILEGES ON DATABASE ${target.name} TO ${target.name}`,
    ]);
    const env = { DATABASE_URL: target.databaseUrl };
    if (major >= 15) {
      const failed = await spawnGatekeeper(['serve'], { env });
      expect(failed.code).toBe(1);
      expect(failed.stderr.trim()).toBe(
        `gatekeeper: cannot start: PostgreSQL at ${target.host}:${target.port}: permission denied for schema public. ` +
          `On PostgreSQL 15+ the role needs to own the database: ALTER DATABASE ${target.name} OWNER TO ${target.name}; ` +
          '(or run gatekeeper setup-postgres --all).',
      );
      expect(failed.stdout + failed.stderr).not.toContain(target.password);
    }
    await asAdmin([`ALTER DATABASE ${target.name} OWNER TO ${target.name}`]);
    const service = await started(env);
    expect(service.output()).toContain(
      `users stored in PostgreSQL ${target.name}@${target.host}:${target.port}/${target.name}`,
    );
    expect((await get(service.baseUrl, '/health')).status).toBe(200);
    expect(await service.stop()).toBe(0);
  });

  it('setup-postgres --all and --test, then migrate-users from an embedded data dir: every user logs in with their old password', async () => {
    const target = account('gk_guide');
    const setupEnv = {
      POSTGRES_HOST: target.host,
      POSTGRES_PORT: target.port,
      POSTGRES_USER: target.name,
      POSTGRES_PASSWORD: target.password,
      POSTGRES_DB: target.name,
    };
    const setup = await runGatekeeper(['setup-postgres', '--all', '--admin-url', target.adminUrl], { env: setupEnv });
    expect(setup.code, setup.stderr).toBe(0);
    const test = await runGatekeeper(['setup-postgres', '--test'], { env: setupEnv });
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toContain('connection OK');

    // The users of an instance that ran on the embedded default.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gk-guide-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const users: PlainUser[] = [
      { username: 'alice', password: 'Al1ce-Secret!', role: 'admin', email: 'alice@example.com', yapcoinBalance: 42 },
      { username: 'Bob', password: 'B0b-Secret!!', metadata: { team: 'blue', langs: ['de', 'en'] } },
      { username: 'carol', password: 'C4rol-Secret!', role: 'guest', profilePictureUrl: 'https://example.com/c.png' },
      { username: 'dave', password: 'D4ve-Secret!', createdAt: new Date('2023-05-06T07:08:09.123Z') },
    ];
    const inactive: PlainUser = { username: 'eve', password: 'Ev3-Secret!!', isActive: false };
    const embedded = await embeddedWithUsers(dataDir, [...users, inactive]);
    await embedded.stop(); // migrate-users starts it by itself, and stops it again

    const migrated = await runGatekeeper([
      'migrate-users',
      '--from',
      `embedded:${dataDir}`,
      '--to',
      target.databaseUrl,
    ]);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(`from: embedded PostgreSQL in ${dataDir}`);
    expect(migrated.stdout.trim().split('\n').at(-1)).toBe('copied 5, skipped 0, failed 0');
    expect(migrated.stdout + migrated.stderr).not.toContain(target.password);
    expect(migrated.stdout + migrated.stderr).not.toContain('$argon2');
    expect(await isEmbeddedRunning(dataDir)).toBe(false);

    const service = await started({ DATABASE_URL: target.databaseUrl, GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW' });
    for (const user of users) {
      const login = await post(service.baseUrl, '/auth/login', { username: user.username, password: user.password });
      expect(login.status, user.username).toBe(200);
      const { access_token } = (await login.json()) as { access_token: string };
      const me = (await (await get(service.baseUrl, '/auth/me', access_token)).json()) as Record<string, unknown>;
      expect(me).toMatchObject({
        username: user.username,
        role: user.role ?? 'regular',
        email: user.email ?? null,
        profile_picture_url: user.profilePictureUrl ?? null,
        yapcoin_balance: user.yapcoinBalance ?? 0,
        metadata: user.metadata ?? {},
        is_active: true,
      });
      if (user.createdAt) expect(me.created_at).toBe(user.createdAt.toISOString());
    }
    const eve = await post(service.baseUrl, '/auth/login', { username: 'eve', password: inactive.password });
    expect(eve.status).toBe(401); // still inactive: the flag moved with her
  });

  it('debug mode: POSTGRES_ECHO=true logs every statement with secrets redacted; /health answers', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const service = await started({
      DATABASE_URL: db.url,
      POSTGRES_ECHO: 'true',
      GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
    });
    const password = 'Ech0-Secret!';
    expect((await post(service.baseUrl, '/auth/register', { username: 'echoed', password })).status).toBe(201);
    const health = (await (await get(service.baseUrl, '/health')).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', backend: 'postgres', database: { reachable: true } });
    const output = service.output();
    expect(output).toContain('SQL: INSERT INTO users');
    expect(output).toContain('[redacted]');
    expect(output).not.toContain(password);
    expect(output).not.toContain('$argon2');
  });
});
