import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';

export type TestBackend = 'memory' | 'postgres';

/** The HTTP suites run against both stores; PostgreSQL is the real server of this test run. */
export const BACKENDS: TestBackend[] = ['memory', 'postgres'];

/** Cheap Argon2id parameters: the HTTP suites test behaviour, not hashing cost (unit tests cover the levels). */
export const CHEAP_HASH = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export const STRONG_PASSWORD = 'Sup3r-Secret!';

export interface TestGatekeeper extends Gatekeeper {
  config: Config;
  databaseUrl: string | null;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    GATEKEEPER_BACKEND: 'memory',
    GATEKEEPER_SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...env,
  });
}

/** buildGatekeeper's options a test may add (a clock, a key reload interval). */
export type GatekeeperOptions = Omit<NonNullable<Parameters<typeof buildGatekeeper>[1]>, 'store'>;

/** A Gatekeeper on a fresh store: memory, or a new database on the run's PostgreSQL. */
export async function startGatekeeper(
  backend: TestBackend,
  env: Record<string, string> = {},
  options: GatekeeperOptions = {},
): Promise<TestGatekeeper> {
  if (backend === 'memory') {
    const config = testConfig(env);
    return { ...(await buildGatekeeper(config, { hashParams: CHEAP_HASH, ...options })), config, databaseUrl: null };
  }
  const { createTestDatabase } = await import('./database.js');
  const database = await createTestDatabase();
  const config = testConfig({ GATEKEEPER_BACKEND: 'postgres', DATABASE_URL: database.url, ...env });
  const gatekeeper = await buildGatekeeper(config, { hashParams: CHEAP_HASH, ...options });
  return {
    ...gatekeeper,
    config,
    databaseUrl: database.url,
    close: async () => {
      await gatekeeper.close();
      await database.drop();
    },
  };
}

export function json(response: LightMyRequestResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export async function register(
  app: FastifyInstance,
  username: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const response = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { username, password: STRONG_PASSWORD, ...extra },
  });
  expect(response.statusCode, response.body).toBe(201);
  return json(response);
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export async function login(app: FastifyInstance, username: string, password = STRONG_PASSWORD): Promise<Tokens> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
  expect(response.statusCode, response.body).toBe(200);
  return json(response) as unknown as Tokens;
}

/** Creates an admin directly through the service (the first admin cannot come from self-registration). */
export async function adminTokens(gatekeeper: Gatekeeper, username = 'root_admin'): Promise<Tokens> {
  await gatekeeper.service.ensureAdmin({ username, password: STRONG_PASSWORD, email: null });
  return login(gatekeeper.app, username);
}

export function expectError(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode, response.body).toBe(status);
  const body = json(response);
  expect(body.code).toBe(code);
  expect(typeof body.detail).toBe('string');
}
