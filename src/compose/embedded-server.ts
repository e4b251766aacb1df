/**
 * The embedded PostgreSQL of a data directory, started for this process or
 * borrowed from a Gatekeeper service already running on that directory. A
 * borrowed server is left running afterwards: stopping it would pull the database
 * from under the service. Only a server this process started is stopped again.
 */
import { superviseEmbedded } from './embedded-supervisor.js';

/** A running embedded server and how to let go of it. */
export interface EmbeddedServer {
  url: string;
  version: string;
  port: number;
  /** False once a supervised server died and could not be restarted (always true unsupervised). */
  alive(): boolean;
  /** Stops the server if this process started it (or owns it); otherwise does nothing. */
  release(): Promise<void>;
}

/** Where a supervised server reports its restarts. */
export type EmbeddedLog = (line: string, level: 'warn' | 'error' | 'info') => void;

/**
 * `own`: the service's server, stopped on release even if it was found running
 * (the service is its owner). `borrow`: a one-shot command's, stopped on release
 * only if this command had to start it.
 */
export type EmbeddedMode = 'own' | 'borrow';

/**
 * `own` servers are supervised: restarted on the same directory and port if the
 * postmaster dies (src/compose/embedded-supervisor.ts).
 * @example const db = await startEmbedded('./data', 'borrow'); try { … } finally { await db.release(); }
 */
export async function startEmbedded(dataDir: string, mode: EmbeddedMode, log?: EmbeddedLog): Promise<EmbeddedServer> {
  // Loaded on demand: the other backends never need the embedded binaries.
  const { isEmbeddedRunning, startEmbeddedPostgres } = await import('../store/postgres/embedded.js');
  const alreadyRunning = mode === 'borrow' && (await isEmbeddedRunning(dataDir));
  const server = await startEmbeddedPostgres({ dataDir });
  const base = { url: server.url, version: server.version, port: server.port };
  if (mode === 'borrow') {
    return { ...base, alive: () => true, release: alreadyRunning ? async () => undefined : () => server.stop() };
  }
  const supervisor = superviseEmbedded(server, () => startEmbeddedPostgres({ dataDir, port: server.port }), {
    ...(log ? { log } : {}),
  });
  return {
    ...base,
    alive: supervisor.alive,
    release: async () => {
      supervisor.stop();
      await supervisor.current().stop();
    },
  };
}

/** @example const db = await borrowEmbedded('./data'); try { … } finally { await db.release(); } */
export function borrowEmbedded(dataDir: string): Promise<EmbeddedServer> {
  return startEmbedded(dataDir, 'borrow');
}
