/**
 * Keeps the service's own embedded PostgreSQL running. Without it, a postmaster that
 * died (killed, out of memory) left every request at 503 until Gatekeeper itself was
 * restarted. The check is cheap (read postmaster.pid, signal 0 to its pid, no child
 * process), so it can run every few seconds; a restart reuses the same data directory
 * and port, so the URL (and with it the pool) stays valid and reconnects by itself.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { EmbeddedPostgres } from '../store/postgres/embedded.js';

export interface SupervisorOptions {
  /** How often the postmaster is checked; default 2 s. */
  checkMs?: number;
  /** Restart attempts per outage before giving up; default 5, waiting 1 s, 2 s, 4 s … between them. */
  attempts?: number;
  /** One line per event (never a password). */
  log?: (line: string, level: 'warn' | 'error' | 'info') => void;
}

/** A supervised embedded server: the current one, whether it has been given up on, and how to stop. */
export interface Supervisor {
  current(): EmbeddedPostgres;
  /** False once every restart attempt of an outage failed: /health/live then answers 503. */
  alive(): boolean;
  /** Stops supervising (before the server is stopped on purpose). */
  stop(): void;
}

/** True while the postmaster named in `<dataDir>/pg/postmaster.pid` runs (a zombie does not count). */
export function postmasterRuns(dataDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user (root runs PostgreSQL as an unprivileged one).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false);
  } catch {
    return true; // no /proc (not Linux): signal 0 already answered
  }
}

/**
 * Supervises `first`; `restart` starts the server again on the same directory and port.
 * @example const supervisor = superviseEmbedded(server, () => startEmbeddedPostgres({ dataDir, port }));
 */
export function superviseEmbedded(
  first: EmbeddedPostgres,
  restart: () => Promise<EmbeddedPostgres>,
  options: SupervisorOptions = {},
): Supervisor {
  const attempts = options.attempts ?? 5;
  const log = options.log ?? (() => undefined);
  let server = first;
  let givenUp = false;
  let stopped = false;
  let busy = false;

  const recover = async (): Promise<void> => {
    for (let attempt = 1; attempt <= attempts && !stopped; attempt++) {
      log(
        `embedded PostgreSQL on port ${server.port} is not running; restarting it (attempt ${attempt} of ${attempts})`,
        'warn',
      );
      try {
        server = await restart();
        log(`embedded PostgreSQL is running again on port ${server.port}`, 'info');
        return;
      } catch (err) {
        log(`restarting embedded PostgreSQL failed: ${err instanceof Error ? err.message : String(err)}`, 'warn');
        if (attempt < attempts) await delay(1000 * 2 ** (attempt - 1));
      }
    }
    if (stopped) return;
    givenUp = true;
    log(
      `gave up restarting embedded PostgreSQL after ${attempts} attempts (its log: ${path.join(server.dataDir, 'postgres.log')}); restart Gatekeeper`,
      'error',
    );
  };

  const timer = setInterval(() => {
    if (busy || givenUp || stopped || postmasterRuns(server.dataDir)) return;
    busy = true;
    void recover().finally(() => (busy = false));
  }, options.checkMs ?? 2000);
  timer.unref();

  return {
    current: () => server,
    alive: () => !givenUp,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
