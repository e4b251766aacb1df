/**
 * A PgBouncer 1.18 of a test's own in front of one PostgreSQL, stock settings (in particular no
 * ignore_startup_parameters: a client that sends `options` is refused, as in production), in
 * session or transaction pool mode, on a free 127.0.0.1 port. Run as the same unprivileged
 * account as the servers (PgBouncer refuses root too) via its own `-u`, so the PID we hold is
 * PgBouncer's and stopping it is a signal to that PID.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, makeAccountDir, pollUntil, queryOnce, serverAccount, writeAccountFile } from './pg-cluster.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface PgBouncer {
  readonly port: number;
  readonly mode: 'session' | 'transaction';
  /** postgresql://user:password@127.0.0.1:port/database through the bouncer. */
  url(database: string): string;
  stop(): Promise<void>;
}

const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** userlist.txt quoting: a double quote inside a field is doubled. */
const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;

export async function startPgBouncer(options: {
  server: { port: number; host?: string; user: string; password: string };
  mode: 'session' | 'transaction';
  /** default_pool_size; default 10. */
  poolSize?: number;
}): Promise<PgBouncer> {
  const { server, mode } = options;
  const dir = await makeAccountDir('gatekeeper-pgbouncer-');
  const port = await freePort();
  const logFile = path.join(dir, 'pgbouncer.log');
  // A plain password in userlist.txt lets PgBouncer both check a client's SCRAM exchange and answer
  // the server's SCRAM challenge itself (a SCRAM verifier alone cannot log in to the server).
  await writeAccountFile(path.join(dir, 'userlist.txt'), `${quoted(server.user)} ${quoted(server.password)}\n`);
  const ini = [
    '[databases]',
    `* = host=${server.host ?? '127.0.0.1'} port=${server.port}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    `pool_mode = ${mode}`,
    `default_pool_size = ${options.poolSize ?? 10}`,
    'max_client_conn = 1000',
    `logfile = ${logFile}`,
    `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
    '',
  ].join('\n');
  const iniFile = path.join(dir, 'pgbouncer.ini');
  await writeAccountFile(iniFile, ini, 0o644);

  const { name } = serverAccount();
  const child = spawn(PGBOUNCER, [...(name ? ['-u', name] : []), iniFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
    if (child.pid) running.delete(child.pid);
  });
  if (child.pid) running.add(child.pid);

  const url = (database: string) =>
    `postgresql://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  const stop = async () => {
    if (gone) return;
    // SIGTERM: immediate shutdown (1.18), what a crashed or restarted bouncer looks like to clients.
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await pollUntil(
      `PgBouncer on port ${port}`,
      async () => {
        if (gone) throw new Error(`exited: ${output}`);
        await queryOnce(url('postgres'), 'SELECT 1');
      },
      READY_TIMEOUT_MS,
    );
  } catch (err) {
    const log = await fs.readFile(logFile, 'utf8').catch(() => '');
    await stop();
    throw new Error(
      `${(err as Error).message}\npgbouncer output:\n${output}\n${log.split('\n').slice(-20).join('\n')}`,
    );
  }
  return { port, mode, url, stop };
}
