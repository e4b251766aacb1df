/**
 * The embedded PostgreSQL of a data directory, for one CLI command. When a
 * Gatekeeper service is already running on that directory its server is borrowed
 * and left running afterwards: stopping it would pull the database from under the
 * service. Only a server this command started is stopped again.
 */
import { isEmbeddedRunning, startEmbeddedPostgres } from '../store/postgres/embedded.js';

export interface BorrowedEmbedded {
  url: string;
  version: string;
  port: number;
  /** Stops the server if this command started it; otherwise does nothing. */
  release(): Promise<void>;
}

/** @example const db = await borrowEmbedded('./data'); try { … } finally { await db.release(); } */
export async function borrowEmbedded(dataDir: string): Promise<BorrowedEmbedded> {
  const alreadyRunning = await isEmbeddedRunning(dataDir);
  const server = await startEmbeddedPostgres({ dataDir });
  return {
    url: server.url,
    version: server.version,
    port: server.port,
    release: alreadyRunning ? async () => undefined : () => server.stop(),
  };
}
