import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isEmbeddedRunning } from '../../src/store/postgres/embedded.js';
import { runGatekeeper, serve, type ServedGatekeeper } from '../support/cli.js';
import { get, post } from '../support/process.js';

let dataDir: string | undefined;
let service: ServedGatekeeper | undefined;
afterAll(async () => {
  await service?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// Commands run in-process; the process itself (bin, terminal, serve) is spawned. A real server: CI machines are slow and shared.
describe('gatekeeper users on the embedded default', { timeout: 180_000 }, () => {
  it('borrows the embedded server of a running service and leaves it running; alone, it stops what it started', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gk-cli-embedded-'));
    const env = { GATEKEEPER_DATA_DIR: dataDir, GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'LOW' };
    service = await serve(env);

    const created = await runGatekeeper(['users', 'create', 'nell', '--role', 'admin'], {
      env,
      input: 'N3ll-Secret!\n',
    });
    expect(created.code, created.stderr).toBe(0);
    // The service's database is still there, and it sees the new user at once.
    expect((await get(service.baseUrl, '/health')).status).toBe(200);
    expect((await post(service.baseUrl, '/auth/login', { username: 'nell', password: 'N3ll-Secret!' })).status).toBe(
      200,
    );

    expect(await service.stop()).toBe(0);
    expect(await isEmbeddedRunning(dataDir)).toBe(false);
    const listed = await runGatekeeper(['users', 'list'], { env });
    expect(listed.stdout).toMatch(/^nell\s+admin\s+yes/m);
    expect(await isEmbeddedRunning(dataDir)).toBe(false);
  });
});
