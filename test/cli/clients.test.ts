/**
 * `gatekeeper clients …` against a real database, checked through the API on the same
 * database: a client the CLI registers can introspect, a rotated secret replaces the old
 * one, a deleted client cannot authenticate, and a secret is printed once only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import { CHEAP_HASH, STRONG_PASSWORD } from '../support/app.js';
import { runGatekeeper } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const SECRET_KEY = 'cli-test-secret-key-that-is-long-enough-0123';

let db: TestDatabase;
let env: Record<string, string>;
/** The API on the same database, to check that what the CLI did is what the service sees. */
let api: Gatekeeper;
let accessToken: string;

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, GATEKEEPER_SECRET_KEY: SECRET_KEY };
  api = await buildGatekeeper(loadConfig({ ...env, LOG_LEVEL: 'silent' }), { hashParams: CHEAP_HASH });
  await api.service.ensureAdmin({ username: 'cli_root', password: STRONG_PASSWORD, email: null });
  const login = await api.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { username: 'cli_root', password: STRONG_PASSWORD },
  });
  accessToken = (JSON.parse(login.body) as { access_token: string }).access_token;
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const clients = (args: string[]) => runGatekeeper(['clients', ...args], { env });

/** POST /auth/introspect with HTTP Basic, as the verifier sends it; the status says whether the client authenticated. */
async function introspectStatus(clientId: string, secret: string): Promise<number> {
  const res = await api.app.inject({
    method: 'POST',
    url: '/auth/introspect',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: new URLSearchParams({ token: accessToken }).toString(),
  });
  return res.statusCode;
}

function created(stdout: string): { clientId: string; secret: string } {
  const clientId = /^client_id: (gk_[\w-]{22})$/m.exec(stdout)?.[1];
  const secret = /^client_secret: ([\w-]{43})$/m.exec(stdout)?.[1];
  expect(clientId, stdout).toBeDefined();
  expect(secret, stdout).toBeDefined();
  return { clientId: clientId!, secret: secret! };
}

// Commands run in-process against a real server: CI machines are slow and shared.
describe('gatekeeper clients', { timeout: 120_000 }, () => {
  it('create prints the client_id and the secret once, and the client can introspect', async () => {
    const result = await clients([
      'create',
      '--name',
      'Orders service',
      '--redirect-uri',
      'https://orders.example/cb',
      '--redirect-uri',
      'https://orders.example/other',
      '--grant-type',
      'authorization_code',
      '--first-party',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const { clientId, secret } = created(result.stdout);
    expect(result.stderr).toContain('shown only this once');
    expect(await introspectStatus(clientId, secret)).toBe(200);

    const shown = await clients(['show', clientId]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^name: +Orders service$/m);
    expect(shown.stdout).toMatch(/^type: +confidential$/m);
    expect(shown.stdout).toMatch(/^redirect_uris: +https:\/\/orders\.example\/cb https:\/\/orders\.example\/other$/m);
    expect(shown.stdout).toMatch(/^first_party: +yes$/m);
    expect(shown.stdout).toMatch(/^created_by: +gatekeeper-cli$/m);
    expect(shown.stdout + shown.stderr).not.toContain(secret);

    const listed = await clients(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^CLIENT_ID\s+NAME\s+TYPE\s+FIRST_PARTY\s+CREATED$/m);
    expect(listed.stdout).toContain(clientId);
    expect(listed.stdout + listed.stderr).not.toContain(secret);
  });

  it('create --public --json prints the API form with no secret; list --json never has one', async () => {
    const result = await clients(['create', '--name', 'Browser app', '--public', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const client = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(client).toMatchObject({
      name: 'Browser app',
      public: true,
      client_secret: null,
      created_by: 'gatekeeper-cli',
    });
    expect(result.stderr).not.toContain('shown only this once');

    const listed = await clients(['list', '--json']);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows.map((r) => r.client_id)).toContain(client.client_id);
    for (const row of rows) {
      expect(row).not.toHaveProperty('client_secret');
      expect(row).not.toHaveProperty('secret_hash');
    }
  });

  it('rotate-secret prints a new secret that replaces the old one', async () => {
    const { clientId, secret } = created((await clients(['create', '--name', 'Rotating'])).stdout);
    const rotated = await clients(['rotate-secret', clientId]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = created(rotated.stdout);
    expect(fresh.clientId).toBe(clientId);
    expect(fresh.secret).not.toBe(secret);
    expect(await introspectStatus(clientId, secret)).toBe(401);
    expect(await introspectStatus(clientId, fresh.secret)).toBe(200);
  });

  it('delete ends the client; unknown clients and bad input fail with the API code', async () => {
    const { clientId, secret } = created((await clients(['create', '--name', 'Doomed'])).stdout);
    const deleted = await clients(['delete', clientId]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await introspectStatus(clientId, secret)).toBe(401);

    for (const args of [
      ['delete', clientId],
      ['show', clientId],
      ['rotate-secret', clientId],
    ]) {
      const missing = await clients(args);
      expect(missing.code, args.join(' ')).toBe(1);
      expect(missing.stderr.trim()).toBe('gatekeeper: No client with that client_id. (CLIENT_NOT_FOUND)');
    }

    const badUri = await clients(['create', '--name', 'Bad', '--redirect-uri', 'http://evil.example/cb']);
    expect(badUri.code).toBe(1);
    expect(badUri.stderr).toContain('(VALIDATION_ERROR)');
    const badGrant = await clients(['create', '--name', 'Bad', '--grant-type', 'password']);
    expect(badGrant.code).toBe(1);
    expect(badGrant.stderr).toContain('(VALIDATION_ERROR)');

    const noName = await clients(['create']);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('missing --name');
  });

  it('what the CLI does is in the audit trail as done by gatekeeper-cli', async () => {
    const { clientId } = created((await clients(['create', '--name', 'Audited'])).stdout);
    await clients(['rotate-secret', clientId]);
    await clients(['delete', clientId]);
    const events = await api.store.listAuditEvents({ limit: 100 });
    const mine = events.filter((e) => e.detail.client_id === clientId).map((e) => [e.event, e.detail.by]);
    expect(mine).toEqual([
      ['client.delete', 'gatekeeper-cli'],
      ['client.rotate_secret', 'gatekeeper-cli'],
      ['client.create', 'gatekeeper-cli'],
    ]);
  });
});
