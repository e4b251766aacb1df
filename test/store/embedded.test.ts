/**
 * The embedded PostgreSQL with real processes in temp dirs: first start, restart, crash of Gatekeeper
 * (orphaned postmaster), crash of the postmaster itself (stale postmaster.pid), and the root case.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmbeddedRunning, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/postgres/embedded.js';

const tempDirs: string[] = [];
const children: ChildProcess[] = [];

async function newDataDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gk-embedded-'));
  tempDirs.push(dir);
  return path.join(dir, 'data');
}

function postmasterPid(dataDir: string): number | null {
  const file = path.join(dataDir, 'pg', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : null;
}

/** Alive and not a zombie (a killed postmaster may wait a moment for init to reap it). */
function isAlive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number): Promise<void> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await delay(100);
  expect(isAlive(pid)).toBe(false);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

// Whatever happened in the tests: no postgres and no temp dir left behind.
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) {
    const pid = postmasterPid(path.join(dir, 'data'));
    if (pid && isAlive(pid)) {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown
      for (let i = 0; i < 50 && isAlive(pid); i++) await delay(100);
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  let db: EmbeddedPostgres;
  const logLines: string[] = [];
  const log = (line: string) => logLines.push(line);

  beforeAll(async () => {
    dataDir = await newDataDir();
  });

  it('first start creates the cluster, private credentials and a usable gatekeeper database', async () => {
    db = await startEmbeddedPostgres({ dataDir, log });

    expect(db.version).toMatch(/^17\./);
    expect(db.dataDir).toBe(dataDir);
    expect(db.url).toMatch(new RegExp(`^postgresql://gatekeeper:[^@]+@127\\.0\\.0\\.1:${db.port}/gatekeeper$`));
    expect(db.adminUrl).toBe(db.url.replace(/\/gatekeeper$/, '/postgres'));
    const [row] = await query<{ one: number; db: string; version: string }>(
      db.url,
      "SELECT 1 AS one, current_database() AS db, current_setting('server_version') AS version",
    );
    expect(row).toEqual({ one: 1, db: 'gatekeeper', version: db.version });

    const credentials = path.join(dataDir, 'credentials.json');
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    const { password, port } = JSON.parse(readFileSync(credentials, 'utf8')) as { password: string; port: number };
    expect(port).toBe(db.port);
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'postgres.log'))).toBe(true);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(password);
    expect(logLines.join('\n')).not.toContain(encodeURIComponent(password));

    await query(db.url, 'CREATE TABLE kept (name text); INSERT INTO kept VALUES ($$before restart$$)');
  });

  it('stop() shuts the server down, and the next start keeps the data and the port', async () => {
    const port = db.port;
    await db.stop();
    expect(await isEmbeddedRunning(dataDir)).toBe(false);
    await db.stop(); // harmless when already stopped

    db = await startEmbeddedPostgres({ dataDir, log });
    expect(db.port).toBe(port);
    expect(await query(db.url, 'SELECT name FROM kept')).toEqual([{ name: 'before restart' }]);
    expect(await isEmbeddedRunning(dataDir)).toBe(true);
  });

  it('after kill -9 of the Gatekeeper process, the orphaned postmaster is reused with its data', async () => {
    await db.stop();
    // A separate Node process plays Gatekeeper: it starts PostgreSQL, then dies without stopping it.
    const moduleUrl = new URL('../../src/store/postgres/embedded.ts', import.meta.url).href;
    const script = `const { startEmbeddedPostgres } = await import(${JSON.stringify(moduleUrl)});
      const db = await startEmbeddedPostgres({ dataDir: process.env.GK_DATA_DIR });
      console.log('started ' + db.port); setInterval(() => {}, 1000);`;
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd,
      env: { ...process.env, GK_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
      child.on('exit', (code) => reject(new Error(`the Gatekeeper stand-in exited early (code ${code})`)));
    });
    const pid = postmasterPid(dataDir);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    expect(pid && isAlive(pid)).toBe(true);
    expect(await isEmbeddedRunning(dataDir)).toBe(true);
    db = await startEmbeddedPostgres({ dataDir, log });
    expect(postmasterPid(dataDir)).toBe(pid);
    expect(await query(db.url, 'SELECT name FROM kept')).toEqual([{ name: 'before restart' }]);
  });

  it('a stale postmaster.pid (postmaster killed with SIGKILL) does not prevent the next start', async () => {
    const pid = postmasterPid(dataDir);
    expect(pid).not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    await waitUntilDead(pid!);
    expect(postmasterPid(dataDir)).toBe(pid); // the file stays behind
    expect(await isEmbeddedRunning(dataDir)).toBe(false);

    db = await startEmbeddedPostgres({ dataDir, log });
    const newPid = postmasterPid(dataDir);
    expect(newPid).not.toBe(pid);
    expect(isAlive(newPid!)).toBe(true);
    expect(await query(db.url, 'SELECT name FROM kept')).toEqual([{ name: 'before restart' }]);
  });

  it('a server whose owner process still runs is borrowed and left running; once the owner is gone it is adopted', async () => {
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(holder);
    await fs.writeFile(path.join(dataDir, 'owner.pid'), `${holder.pid}\n`);
    const borrowed = await startEmbeddedPostgres({ dataDir, log });
    expect(logLines.at(-2)).toContain(`sharing the PostgreSQL server of process ${holder.pid}`);
    await borrowed.stop();
    expect(await isEmbeddedRunning(dataDir)).toBe(true);

    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    db = await startEmbeddedPostgres({ dataDir, log });
    expect(readFileSync(path.join(dataDir, 'owner.pid'), 'utf8').trim()).toBe(String(process.pid));
  });

  it('PostgreSQL never runs as root: as root, an unprivileged user owns and runs the cluster', () => {
    const pid = postmasterPid(dataDir)!;
    const uidLine = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m);
    const uid = Number(uidLine?.[1]);
    expect(uid).toBeGreaterThan(0);
    expect(statSync(path.join(dataDir, 'pg')).uid).toBe(uid);
  });

  it('stops cleanly at the end', async () => {
    const pid = postmasterPid(dataDir)!;
    await db.stop();
    await waitUntilDead(pid);
    expect(await isEmbeddedRunning(dataDir)).toBe(false);
  });
});

describe('startEmbeddedPostgres errors', () => {
  it('a requested port that is taken fails with one line naming the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const attempt = startEmbeddedPostgres({ dataDir: await newDataDir(), port });
      await expect(attempt).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
      await expect(attempt).rejects.toThrow(/^[^\n]+$/);
    } finally {
      blocker.close();
    }
  });
});
