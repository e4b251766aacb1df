/** The embedded server's TCP side (see ../embedded.ts): free ports on 127.0.0.1, and the first connection. */
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

/** `port` (0: any free one) if it can be bound on 127.0.0.1 right now, else null. */
export function bindable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** The error for a port someone else holds. */
export function portInUse(port: number): Error {
  return new Error(`port ${port} on 127.0.0.1 is already in use`);
}

/** Waits until the server accepts connections, creates the database if missing, returns the server version. */
export async function prepareDatabase(adminUrl: string, port: number, database: string): Promise<string> {
  for (const deadline = Date.now() + 60_000; ;) {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string; exists: boolean }>(
        "SELECT current_setting('server_version') AS version, EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
        [database],
      );
      // 42P04 duplicate_database: another Gatekeeper created it between our check and CREATE.
      if (!rows[0]?.exists) {
        await client.query(`CREATE DATABASE ${database}`).catch((e: { code?: string }) => {
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
