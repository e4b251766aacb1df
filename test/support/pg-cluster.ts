/**
 * Real PostgreSQL 15 servers of a test's own (a primary, streaming standbys) on free 127.0.0.1
 * ports, for what one shared throwaway server cannot show: restarts, outages, read-only windows,
 * crashes and failover. Password (SCRAM) auth for the superuser `gatekeeper`, no Unix socket (so
 * nothing lands in shared directories), and run as an unprivileged account when the tests run as
 * root, because postgres refuses root.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const BIN = {
  initdb: '/usr/local/bin/initdb',
  pgCtl: '/usr/local/bin/pg_ctl',
  postgres: '/usr/local/bin/postgres',
  basebackup: '/usr/bin/pg_basebackup',
};

const SUPERUSER = 'gatekeeper';
const READY_TIMEOUT_MS = 60_000;

export interface PgServer {
  readonly port: number;
  readonly dataDir: string;
  /** Superuser URL (user gatekeeper, generated password) to `database` (default postgres) on 127.0.0.1:port. */
  url(database?: string): string;
  /** One short-lived connection: runs `sql`, returns the rows. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** pg_ctl promote; resolves once pg_is_in_recovery() is false. */
  promote(): Promise<void>;
  inRecovery(): Promise<boolean>;
  /** Stops it (immediate) and removes its data directory. */
  destroy(): Promise<void>;
}

/** The account servers (and PgBouncer) run as: ourselves, or an unprivileged one when we are root. */
export interface ServerAccount {
  /** undefined when not root: run the programs directly. */
  name: string | undefined;
  uid: number;
  gid: number;
}

let account: ServerAccount | undefined;

export function serverAccount(): ServerAccount {
  if (account) return account;
  if (process.getuid?.() !== 0) {
    account = { name: undefined, uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
    return account;
  }
  const lookup = (name: string): ServerAccount | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
      const gid = Number(execFileSync('id', ['-g', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
      return { name, uid, gid };
    } catch {
      return undefined;
    }
  };
  account = lookup('postgres') ?? lookup('gatekeeper-pg');
  if (!account) {
    // CI images without the postgres package: a system account of our own, no home, no shell.
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'gatekeeper-pg']);
    account = lookup('gatekeeper-pg');
    if (!account) throw new Error('could not create the gatekeeper-pg account');
  }
  return account;
}

/** Runs a program as the server account and resolves with its stdout; rejects with its stderr. */
export function runAsServerAccount(
  program: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
  const { name } = serverAccount();
  const [file, argv] = name ? ['runuser', ['-u', name, '--', program, ...args]] : [program, args];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000, cwd: os.tmpdir() },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${path.basename(program)} failed (${error.code ?? error.signal}): ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** A directory under os.tmpdir() the server account owns (755 so we can read logs as root). */
export async function makeAccountDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(dir, 0o755);
  const { uid, gid, name } = serverAccount();
  if (name) chownSync(dir, uid, gid);
  return dir;
}

/** Writes a file the server account owns and only it can read (passwords). */
export async function writeAccountFile(file: string, content: string, mode = 0o600): Promise<void> {
  await fs.writeFile(file, content, { mode });
  const { uid, gid, name } = serverAccount();
  if (name) chownSync(file, uid, gid);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `attempt` succeeds or the deadline passes (then rejects with the last error). */
export async function pollUntil<T>(what: string, attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms (${String(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One short-lived connection that runs one statement. */
export async function queryOnce<R>(url: string, sql: string, params?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query(sql, params);
    return result.rows as R[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Servers still running when the test process ends (a crash, Ctrl-C) get SIGQUIT (immediate stop).
const running = new Set<string>();
process.once('exit', () => {
  for (const dataDir of running) {
    try {
      const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
});

const SERVER_SETTINGS = (port: number, maxConnections: number): Record<string, string> => ({
  port: String(port),
  listen_addresses: "'127.0.0.1'",
  unix_socket_directories: "''",
  max_connections: String(maxConnections),
  wal_level: 'replica',
  max_wal_senders: '10',
  wal_keep_size: "'256MB'",
  hot_standby: 'on',
  password_encryption: "'scram-sha-256'",
  // Throwaway servers: durability against an OS crash is not what these tests are about (a server
  // crash, stop immediate, keeps everything the OS was given); it saves seconds on 2 cores.
  fsync: 'off',
  full_page_writes: 'off',
  shared_buffers: "'32MB'",
  logging_collector: 'off',
  log_min_messages: 'warning',
});

const HBA = [
  '# gatekeeper tests: password auth over TCP on 127.0.0.1 only, replication included',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host replication all 127.0.0.1/32 scram-sha-256',
  '',
].join('\n');

function confLines(settings: Record<string, string>): string {
  return (
    '\n# gatekeeper tests\n' +
    Object.entries(settings)
      .map(([key, value]) => `${key} = ${value}`)
      .join('\n') +
    '\n'
  );
}

/** A setting value as postgresql.conf wants it: numbers and on/off bare, the rest quoted. */
function confValue(value: string): string {
  return /^(-?\d+(\.\d+)?|on|off|true|false)$/i.test(value) || /^'.*'$/.test(value)
    ? value
    : `'${value.replaceAll("'", "''")}'`;
}

export async function startPrimary(
  options: { maxConnections?: number; settings?: Record<string, string> } = {},
): Promise<PgServer> {
  const base = await makeAccountDir('gatekeeper-pg-');
  const dataDir = path.join(base, 'data');
  const password = randomBytes(18).toString('hex');
  const pwfile = path.join(base, 'pwfile');
  await writeAccountFile(pwfile, `${password}\n`);
  await runAsServerAccount(BIN.initdb, [
    '-D',
    dataDir,
    '-U',
    SUPERUSER,
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  await fs.rm(pwfile);
  const port = await freePort();
  const extra = Object.fromEntries(Object.entries(options.settings ?? {}).map(([k, v]) => [k, confValue(v)]));
  await fs.appendFile(
    path.join(dataDir, 'postgresql.conf'),
    confLines({ ...SERVER_SETTINGS(port, options.maxConnections ?? 100), ...extra }),
  );
  await fs.writeFile(path.join(dataDir, 'pg_hba.conf'), HBA);
  const server = makeServer({ base, dataDir, port, password });
  await server.start();
  return server;
}

export async function startStandby(primary: PgServer): Promise<PgServer> {
  const base = await makeAccountDir('gatekeeper-pg-standby-');
  const dataDir = path.join(base, 'data');
  const password = new URL(primary.url()).password;
  // A passfile rather than PGPASSWORD: pg_basebackup -R writes it into primary_conninfo as passfile=,
  // so the password never appears on a command line or in a setting a test could print.
  const passfile = path.join(base, 'pgpass');
  await writeAccountFile(passfile, `127.0.0.1:${primary.port}:*:${SUPERUSER}:${password}\n`);
  await runAsServerAccount(
    BIN.basebackup,
    ['-h', '127.0.0.1', '-p', String(primary.port), '-U', SUPERUSER, '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast'],
    { env: { PGPASSFILE: passfile } },
  );
  const port = await freePort();
  // Later lines win: the copied postgresql.conf names the primary's port.
  await fs.appendFile(path.join(dataDir, 'postgresql.conf'), confLines({ port: String(port) }));
  await fs.appendFile(
    path.join(dataDir, 'postgresql.auto.conf'),
    `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=${SUPERUSER} passfile=''${passfile}'' application_name=standby_${port}'\n`,
  );
  const server = makeServer({ base, dataDir, port, password });
  await server.start();
  return server;
}

function makeServer(init: { base: string; dataDir: string; port: number; password: string }): PgServer {
  const { base, dataDir, port, password } = init;
  const logFile = path.join(base, 'server.log');
  const url = (database = 'postgres') =>
    `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const logTail = async () => {
    const text = await fs.readFile(logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-20).join('\n');
  };
  const isRunning = () => existsSync(path.join(dataDir, 'postmaster.pid'));

  const server: PgServer = {
    port,
    dataDir,
    url,
    query: (sql, params, database) => queryOnce(url(database), sql, params),
    async start() {
      // -W: pg_ctl returns at once; readiness is a real connection below (the socket-less server gives
      // pg_ctl's own wait nothing better than the pid file).
      await runAsServerAccount(BIN.pgCtl, ['-D', dataDir, '-l', logFile, '-W', 'start']);
      running.add(dataDir);
      try {
        await pollUntil(`PostgreSQL on port ${port}`, () => queryOnce(url(), 'SELECT 1'), READY_TIMEOUT_MS);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nserver log:\n${await logTail()}`);
      }
    },
    async stop(mode = 'fast') {
      if (!isRunning()) return;
      await runAsServerAccount(BIN.pgCtl, ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
      running.delete(dataDir);
    },
    async promote() {
      await runAsServerAccount(BIN.pgCtl, ['-D', dataDir, '-w', '-t', '60', 'promote']);
      await pollUntil(
        `promotion of port ${port}`,
        async () => {
          if (await server.inRecovery()) throw new Error('still in recovery');
        },
        READY_TIMEOUT_MS,
      );
    },
    async inRecovery() {
      const [row] = await queryOnce<{ r: boolean }>(url(), 'SELECT pg_is_in_recovery() AS r');
      return row!.r;
    },
    async destroy() {
      await server.stop('immediate').catch(() => undefined);
      await fs.rm(base, { recursive: true, force: true });
    },
  };
  return server;
}

// Exported for the smoke run and for tests that want the binary paths (e.g. postgres --version).
export const PG_BINARIES = BIN;
