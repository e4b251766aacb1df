/**
 * A busy port (issue point 14): the start ends with one line naming the port and the
 * fix, exit 1, and the embedded PostgreSQL it started stopped again (not an orphan).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServiceToExit } from '../support/process.js';

/** The postmaster's pid if one still runs on this data directory, else null. */
function runningPostmaster(dataDir: string): number | null {
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

describe('npm start on a port another process holds', () => {
  let dataDir: string;
  let holder: Server;
  let port: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gk-busy-port-'));
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });
  afterAll(async () => {
    // Only if the test failed: the postmaster this test's service left behind.
    const orphan = dataDir ? runningPostmaster(dataDir) : null;
    if (orphan !== null) process.kill(orphan, 'SIGQUIT');
    await new Promise<void>((resolve) => holder?.close(() => resolve()));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['one process', '1'],
    ['cluster workers', '2'],
  ])(
    'exits 1 with one line naming the port and stops its embedded PostgreSQL (%s)',
    async (_name, workers) => {
      const { code, output } = await runServiceToExit(
        { PORT: String(port), GATEKEEPER_DATA_DIR: dataDir, GATEKEEPER_WORKERS: workers, LOG_LEVEL: 'warn' },
        120_000,
      );
      expect(code, output).toBe(1);
      expect(output).toContain(
        `gatekeeper: port ${port} on 127.0.0.1 is already in use: stop the other process or set PORT\n`,
      );
      expect(output).not.toMatch(/\n\s+at /); // no stack trace
      expect(output.match(/already in use/g), output).toHaveLength(1);
      expect(runningPostmaster(dataDir)).toBeNull();
    },
    150_000,
  );
});
