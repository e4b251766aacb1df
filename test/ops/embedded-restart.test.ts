/**
 * A crashed embedded PostgreSQL is brought back (issue point 15): after kill -9 of its
 * postmaster, /health answers 200 again without restarting Gatekeeper, and each restart
 * attempt is one log line.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postmasterRuns } from '../../src/compose/embedded-supervisor.js';
import { get, startService, type ServiceProcess } from '../support/process.js';

const postmasterPid = (dataDir: string) =>
  Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);

describe('the embedded PostgreSQL under supervision', { timeout: 180_000 }, () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gk-supervised-'));
    service = await startService({ GATEKEEPER_DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('restarts a killed postmaster on the same port; /health is 200 again without restarting Gatekeeper', async () => {
    const base = service!.baseUrl;
    expect((await get(base, '/health')).status).toBe(200);
    const killed = postmasterPid(dataDir);
    process.kill(killed, 'SIGKILL');

    // Polls with a deadline: the check runs every 2 s and a restart takes a few seconds more. The
    // pool may reconnect before the supervisor's "running again" line is written: wait for both.
    const restarted = /embedded PostgreSQL is running again on port \d+/;
    let status = 0;
    for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
      status = (await get(base, '/health')).status;
      const back = status === 200 && postmasterRuns(dataDir) && postmasterPid(dataDir) !== killed;
      if (back && restarted.test(service!.output())) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status, service!.output()).toBe(200);
    expect(postmasterPid(dataDir)).not.toBe(killed);
    expect(service!.output()).toMatch(/restarting it \(attempt 1 of 5\)/);
    expect(service!.output()).toMatch(restarted);
    expect((await get(base, '/health/live')).status).toBe(200);
    expect(service!.child.exitCode).toBeNull();
  });
});
