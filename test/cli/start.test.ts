import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isEmbeddedRunning } from '../../src/store/postgres/embedded.js';
import { get, post, runServiceToExit, startService, type ServiceProcess } from '../support/process.js';

const PASSWORD = 'Sup3r-Secret!';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('npm start on the embedded default', () => {
  const running: ServiceProcess[] = [];
  let dataDir: string;

  afterAll(async () => {
    for (const service of running) {
      if (service.child.exitCode === null && service.child.signalCode === null) {
        service.child.kill('SIGTERM');
        await service.exited;
      }
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<ServiceProcess> {
    const service = await startService({
      GATEKEEPER_DATA_DIR: dataDir,
      GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
      LOG_LEVEL: 'info',
    });
    running.push(service);
    return service;
  }

  it('keeps users and sessions across a clean restart and across kill -9', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gk-start-'));
    const first = await start();
    expect(first.output()).toMatch(/users stored in embedded PostgreSQL 17[\d.]* in .*gk-start-/);
    expect(first.output()).toContain('DATABASE_URL');
    // No relay configured: the log says where the mails go, so a newcomer can open their links.
    await first.waitFor(/Mails are written to .*gk-start-[^ ]*outbox \(no GATEKEEPER_SMTP_URL set\)/, 10_000);

    expect((await post(first.baseUrl, '/auth/register', { username: 'survivor', password: PASSWORD })).status).toBe(
      201,
    );
    const login = await post(first.baseUrl, '/auth/login', { username: 'survivor', password: PASSWORD });
    const tokens = (await login.json()) as { access_token: string; refresh_token: string };
    expect(login.status).toBe(200);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).not.toContain(PASSWORD);

    const second = await start();
    const me = await get(second.baseUrl, '/auth/me', tokens.access_token);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { username: string }).username).toBe('survivor');
    expect((await post(second.baseUrl, '/auth/login', { username: 'survivor', password: PASSWORD })).status).toBe(200);

    // A crash: no shutdown at all. The embedded PostgreSQL outlives the process; the next start must cope.
    second.child.kill('SIGKILL');
    await second.exited;
    const third = await start();
    expect((await get(third.baseUrl, '/auth/me', tokens.access_token)).status).toBe(200);
    const refreshed = await post(third.baseUrl, '/auth/refresh', { refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);
    const health = (await (await get(third.baseUrl, '/health')).json()) as { backend: string; status: string };
    expect(health).toMatchObject({ status: 'ok', backend: 'embedded-postgres' });
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 120_000); // three starts of the service and its embedded PostgreSQL: slow on a busy CI machine
});

describe('npm start with GATEKEEPER_WORKERS', () => {
  it('serves one port from several worker processes sharing the embedded database, and stops them all', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gk-workers-'));
    const service = await startService({
      GATEKEEPER_DATA_DIR: dataDir,
      GATEKEEPER_WORKERS: '2',
      GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
      LOG_LEVEL: 'info',
    });
    try {
      await service.waitFor(/2 workers\./);
      // Each worker logs its own "Server listening" line; lines of different processes may arrive in any order.
      const workerPids = () =>
        new Set([...service.output().matchAll(/"pid":(\d+)[^\n]*Server listening/g)].map((m) => m[1]));
      for (let i = 0; i < 100 && workerPids().size < 2; i += 1) await new Promise((r) => setTimeout(r, 50));
      expect(workerPids().size).toBe(2);
      expect((await post(service.baseUrl, '/auth/register', { username: 'shared', password: PASSWORD })).status).toBe(
        201,
      );
      // Whichever worker answers, it sees the same users and sessions.
      for (let i = 0; i < 6; i += 1) {
        const login = await post(service.baseUrl, '/auth/login', { username: 'shared', password: PASSWORD });
        expect(login.status).toBe(200);
        const { access_token } = (await login.json()) as { access_token: string };
        expect((await get(service.baseUrl, '/auth/me', access_token)).status).toBe(200);
      }
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      expect(await isEmbeddedRunning(dataDir)).toBe(false);
    } finally {
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000); // a primary, several workers and an embedded PostgreSQL
});

describe('npm start failures and warnings', () => {
  it('a wrong setting stops the start with one line naming the variable (exit 2)', async () => {
    const { code, output } = await runServiceToExit({ PORT: 'abc', GATEKEEPER_BACKEND: 'memory' });
    expect(code).toBe(2);
    expect(output).toContain('PORT must be a whole number');
    expect(output).toContain('"abc"');
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('an unreachable database gives one line with the cause and the fix, no stack and no password (exit 1)', async () => {
    const port = await closedPort();
    const { code, output } = await runServiceToExit({
      DATABASE_URL: `postgresql://reynard:TopSecretPw@127.0.0.1:${port}/reynard`,
      POSTGRES_POOL_TIMEOUT: '5',
    });
    expect(code).toBe(1);
    expect(output).toMatch(/connection refused/i);
    expect(output).toContain('Is PostgreSQL running');
    expect(output).not.toContain('TopSecretPw');
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('GATEKEEPER_BACKEND=memory starts with a warning that users are lost on restart', async () => {
    const service = await startService({ GATEKEEPER_BACKEND: 'memory', LOG_LEVEL: 'info' });
    try {
      expect(service.output()).toMatch(/lost when the process stops/);
      expect(service.output()).toContain('users stored in process memory');
      await service.waitFor(/Mails are kept in process memory/, 10_000);
    } finally {
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    }
  });
});
