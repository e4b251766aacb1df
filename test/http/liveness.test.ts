/** /health/live answers 503 once the process needs a restart (an embedded database given up on). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper, type BuiltGatekeeper as Gatekeeper } from '../../src/compose/build-gatekeeper.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { CHEAP_HASH, json, testConfig } from '../support/app.js';

describe('GET /health/live', () => {
  let alive = true;
  let gk: Gatekeeper;
  beforeAll(async () => {
    const store = new MemoryStore();
    gk = await buildGatekeeper(testConfig(), {
      hashParams: CHEAP_HASH,
      store: { store, location: 'memory', alive: () => alive, close: () => store.close() },
    });
  });
  afterAll(async () => {
    await gk?.close();
  });

  it('is 200 while the store is alive and 503 once it has been given up on', async () => {
    expect((await gk.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    alive = false;
    const res = await gk.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.statusCode).toBe(503);
    expect(json(res)).toEqual({ status: 'unavailable' });
  });
});
