/**
 * "Safe on the internet, round two", point 5: one client flooding logins (right password,
 * a hundred at once) keeps only its fair share of the hash queue: another address's login
 * in the middle of the flood succeeds, the flooder alone gets 503 OVERLOADED with
 * Retry-After, and those expected refusals log one short line each, never a stack trace.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, STRONG_PASSWORD, register, startGatekeeper, type TestGatekeeper } from '../support/app.js';

describe.each(BACKENDS)('fair share of the hash queue (%s store)', (backend) => {
  const lines: string[] = [];
  let gk: TestGatekeeper;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    // One hash at a time and 8 waiting: a share is max(1, floor(8 / 4)) = 2 jobs per address and per account.
    gk = await startGatekeeper(
      backend,
      { GATEKEEPER_HASH_CONCURRENCY: '1', GATEKEEPER_HASH_QUEUE_MAX: '8' },
      { logger: pino({ level: 'info' }, sink) },
    );
    await register(gk.app, 'flooder');
    await register(gk.app, 'bystander');
  });
  afterAll(async () => {
    await gk?.close();
  });

  const loginFrom = (username: string, ip: string) =>
    gk.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: STRONG_PASSWORD },
      remoteAddress: ip,
    });

  /** Waits, a turn of the event loop at a time, until `ready()` (no fixed sleep racing the event). */
  async function until(ready: () => boolean): Promise<void> {
    for (let turns = 0; !ready(); turns += 1) {
      if (turns > 100_000) throw new Error('gave up waiting');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('a flood of 100 logins from one address does not starve another address, and logs no stack trace', async () => {
    lines.length = 0;
    // Hold the one hashing slot, so the flood piles up in the queue exactly as a slow hash would make it.
    let release!: () => void;
    const busy = gk.hasher.queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    let settled = 0;
    const flood = Array.from({ length: 100 }, () =>
      loginFrom('flooder', '203.0.113.66').finally(() => {
        settled += 1;
      }),
    );
    // Every flood request has been admitted or refused: whatever is left waits in the queue.
    await until(() => settled + gk.hasher.queue.queued >= 100);
    let answered = false;
    const bystander = loginFrom('bystander', '198.51.100.20').finally(() => {
      answered = true;
    });
    // The bystander is answered at once (refused) or waits in the queue behind the flood.
    await until(() => answered || gk.hasher.queue.queued > 100 - settled);
    release();
    await busy;
    const [victim, ...flooded] = await Promise.all([bystander, ...flood]);
    expect(victim!.statusCode, victim!.body).toBe(200);
    const statuses = flooded.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const refused = flooded.filter((r) => r.statusCode === 503);
    expect(refused.length).toBeGreaterThan(50);
    for (const r of refused) {
      expect(JSON.parse(r.body)).toMatchObject({ code: 'OVERLOADED' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const log = lines.join('');
    expect(log).not.toContain('"stack"');
    expect(log).not.toContain('    at ');
    const overloadLines = lines.filter((l) => l.includes('OVERLOADED'));
    expect(overloadLines.length).toBeLessThanOrEqual(refused.length);
    for (const line of overloadLines) expect(line.length).toBeLessThan(400);
  });
});
