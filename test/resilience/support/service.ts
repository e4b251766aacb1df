/**
 * Real Gatekeeper service processes for the resilience scenarios: the compiled dist/main.js, as
 * `npm start` runs it (test/support/process.ts), with settings that make a scenario cheap to run
 * (lowest Argon2 level, a fixed test secret so several instances on one database sign alike, a
 * bootstrap admin) and the two ways a process ends in production: a signal it may handle
 * (SIGTERM, a deploy) and one it cannot (kill -9, the OOM killer).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, type ServiceProcess } from '../../support/process.js';

/** The admin every service started here bootstraps (GATEKEEPER_ADMIN_*); idempotent across restarts. */
export const RESILIENCE_ADMIN = { username: 'resilience_admin', password: 'Res1lience-Admin!' } as const;

/** A password every scenario's users share: it passes the default (reynard) policy. */
export const USER_PASSWORD = 'Sup3r-Secret!';

/**
 * A test-only signing secret shared by every instance started here, so a token issued by one instance
 * is accepted by the others (instances without one agree on a generated secret stored in the
 * database, too: this only makes restarts and several databases independent of that).
 */
const TEST_SECRET_KEY = 'resilience-test-secret-key-long-enough-0123456789';

export interface ServiceOptions {
  /**
   * The database to serve (GATEKEEPER_BACKEND=postgres). Without it the service runs its embedded
   * PostgreSQL in `dataDir`.
   */
  databaseUrl?: string;
  /** GATEKEEPER_DATA_DIR: where the embedded PostgreSQL lives (required without databaseUrl). */
  dataDir?: string;
  /** More settings, applied last (e.g. POSTGRES_POOL_SIZE, GATEKEEPER_LOGIN_IP_MAX_FAILURES). */
  env?: Record<string, string>;
  /** How long to wait for the start line; default 90 s (an embedded first start runs initdb). */
  startTimeoutMs?: number;
}

export interface ResilienceService {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** True until the process has ended. */
  running(): boolean;
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit; past `timeoutMs` (default 30 s) it
   * kills -9 and throws, since a service that ignores SIGTERM is a finding, not something to hide.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** kill -9: no handler runs, no connection is closed cleanly; resolves with 'SIGKILL' once gone. */
  kill9(): Promise<number | string>;
}

/** The environment a service gets from these options (exported so a scenario can print or reuse it). */
export function serviceEnv(options: ServiceOptions): Record<string, string> {
  if (!options.databaseUrl && !options.dataDir) throw new Error('serviceEnv needs a databaseUrl or a dataDir');
  return {
    ...(options.databaseUrl
      ? { GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: options.databaseUrl }
      : { GATEKEEPER_BACKEND: 'embedded' }),
    ...(options.dataDir ? { GATEKEEPER_DATA_DIR: options.dataDir } : {}),
    GATEKEEPER_SECRET_KEY: TEST_SECRET_KEY,
    // The cheapest level the service offers by setting: scenarios measure the database path, not Argon2.
    GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW',
    GATEKEEPER_ADMIN_USERNAME: RESILIENCE_ADMIN.username,
    GATEKEEPER_ADMIN_PASSWORD: RESILIENCE_ADMIN.password,
    // The start line ("listening on …") is an info line; the access log stays off.
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...options.env,
  };
}

/**
 * Starts one service process and waits until it listens (PORT=0: the OS picks the port).
 * @example
 * const service = await startResilienceService({ databaseUrl: primary.url('gk') });
 * try { … } finally { await service.stop(); }
 */
export async function startResilienceService(options: ServiceOptions): Promise<ResilienceService> {
  const started: ServiceProcess = await startService(serviceEnv(options), options.startTimeoutMs ?? 90_000);
  return wrap(started);
}

function wrap(started: ServiceProcess): ResilienceService {
  const { child } = started;
  let ended = false;
  void started.exited.then(() => (ended = true));
  const waitExit = (timeoutMs: number) =>
    new Promise<number | string | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), timeoutMs);
      void started.exited.then((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  return {
    baseUrl: started.baseUrl,
    pid: child.pid!,
    output: started.output,
    exited: started.exited,
    running: () => !ended,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
      if (ended) return started.exited;
      child.kill(signal);
      const code = await waitExit(timeoutMs);
      if (code !== 'timeout') return code;
      child.kill('SIGKILL');
      await started.exited;
      throw new Error(`service ${child.pid} did not exit within ${timeoutMs} ms of ${signal}`);
    },
    async kill9() {
      if (!ended) child.kill('SIGKILL');
      return started.exited;
    },
  };
}

/**
 * The pid of the embedded postmaster of `dataDir` (line 1 of its postmaster.pid), or null when there
 * is no pid file. A kill -9'd service leaves its postmaster running (an orphan the next start adopts):
 * scenarios use this to kill it too (a stale pid file) and to stop it in cleanup.
 */
export function embeddedPostmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** True while a process with this pid exists (signal 0 delivers nothing, it only checks). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until `pid` has gone, at most `timeoutMs`; false when it still runs then. */
export async function waitForExit(pid: number, timeoutMs = 15_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (!processAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !processAlive(pid);
}

/**
 * Stops an embedded postmaster left behind by a killed service (SIGQUIT: immediate shutdown, as
 * pg_ctl -m immediate), for a scenario's cleanup; kill -9 if it does not go.
 */
export async function stopOrphanPostmaster(dataDir: string): Promise<void> {
  const pid = embeddedPostmasterPid(dataDir);
  if (pid === null || !processAlive(pid)) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return;
  }
  if (!(await waitForExit(pid, 10_000))) process.kill(pid, 'SIGKILL');
}

/** The RSS of a process in bytes, from /proc/<pid>/status (VmRSS), or null when it is gone. */
export function residentBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
