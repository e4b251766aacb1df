/**
 * Issue 5, point 2: a flood of 500 concurrent logins at level MEDIUM (128 MiB per
 * Argon2 hash) against one real process. The hash queue runs at most
 * GATEKEEPER_HASH_CONCURRENCY hashes and lets GATEKEEPER_HASH_QUEUE_MAX wait; the
 * rest are refused at once with 503 OVERLOADED and Retry-After. So memory stays
 * near concurrency × 128 MiB above idle, nothing hangs, and /health/live keeps
 * answering. The peak is read from the kernel (VmHWM), not estimated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatekeeper } from '../../src/compose/build-gatekeeper.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { CHEAP_HASH, STRONG_PASSWORD, expectError, register, testConfig } from '../support/app.js';
import { ROOT, SERVICE_ENTRY, post } from '../support/process.js';

const FLOOD = 500;
const CONCURRENCY = 2;
const QUEUE_MAX = 16;
const MEDIUM_MIB = 128;
const HAS_PROC = existsSync('/proc/self/status');

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** VmRSS and VmHWM (peak resident set) of a process, in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `npm start` with its log going nowhere: a log piped to this busy test process
 * would fill the pipe and stall the service's synchronous writes, which is the
 * test's doing, not the service's.
 */
async function startQuietService(env: Record<string, string>): Promise<{ child: ChildProcess; baseUrl: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, SERVICE_ENTRY, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    stdio: 'ignore',
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/health/live`)).ok) return { child, baseUrl };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the service did not start within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a flood of concurrent logins at level MEDIUM', () => {
  let service: { child: ChildProcess; baseUrl: string };

  beforeAll(async () => {
    service = await startQuietService({
      GATEKEEPER_BACKEND: 'memory',
      GATEKEEPER_SECRET_KEY: 'flood-test-secret-key-that-is-long-enough-0123',
      GATEKEEPER_PASSWORD_SECURITY_LEVEL: 'MEDIUM',
      GATEKEEPER_HASH_CONCURRENCY: String(CONCURRENCY),
      GATEKEEPER_HASH_QUEUE_MAX: String(QUEUE_MAX),
      LOG_LEVEL: 'warn',
    });
  });
  afterAll(async () => {
    const child = service?.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it(
    'refuses the excess with 503 OVERLOADED and Retry-After, keeps /health/live answering, and bounds memory',
    { timeout: 90_000 },
    async () => {
      const { baseUrl, child } = service;
      const idle = HAS_PROC ? memoryOf(child.pid!) : null;
      const registered = await post(baseUrl, '/auth/register', { username: 'flooded', password: STRONG_PASSWORD });
      expect(registered.status).toBe(201);

      let flooding = true;
      const liveness: number[] = [];
      const probe = (async () => {
        while (flooding) {
          const started = performance.now();
          const res = await fetch(`${baseUrl}/health/live`, { signal: AbortSignal.timeout(5_000) });
          expect(res.status).toBe(200);
          liveness.push(performance.now() - started);
          await new Promise((r) => setTimeout(r, 25));
        }
      })();

      const started = performance.now();
      const responses = await Promise.all(
        Array.from({ length: FLOOD }, async () => {
          const res = await fetch(`${baseUrl}/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'flooded', password: STRONG_PASSWORD }),
            signal: AbortSignal.timeout(60_000), // a hang fails the test instead of stalling it
          });
          const body = (await res.json()) as { code?: string };
          return { status: res.status, code: body.code, retryAfter: res.headers.get('retry-after') };
        }),
      );
      const floodSeconds = (performance.now() - started) / 1000;
      flooding = false;
      await probe;

      const ok = responses.filter((r) => r.status === 200);
      const refused = responses.filter((r) => r.status === 503);
      expect(ok.length + refused.length).toBe(FLOOD);
      // One client (one address, one account) holds at most its fair share of the queue at a time,
      // max(1, floor(QUEUE_MAX / 4)) jobs: at least that many are admitted; most of the rest are refused at once.
      expect(ok.length).toBeGreaterThanOrEqual(Math.max(1, Math.floor(QUEUE_MAX / 4)));
      expect(refused.length).toBeGreaterThan(FLOOD / 2);
      for (const r of refused) {
        expect(r.code).toBe('OVERLOADED');
        expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      // Every probe answered. The first ones wait behind the burst of 500 connections arriving at
      // once (about a second of event-loop work on two shared cores); after that they take milliseconds
      // while the hashes run on the thread pool.
      expect(liveness.length).toBeGreaterThan(3);
      expect(Math.max(...liveness)).toBeLessThan(3_000);
      expect(median(liveness)).toBeLessThan(50);

      // The service is still fine afterwards.
      expect((await post(baseUrl, '/auth/login', { username: 'flooded', password: STRONG_PASSWORD })).status).toBe(200);

      if (idle) {
        const after = memoryOf(child.pid!);
        const growth = after.peak - idle.rss;
        console.log(
          `[hash flood] ${FLOOD} logins at MEDIUM, concurrency ${CONCURRENCY}, queue ${QUEUE_MAX}: ` +
            `${ok.length} × 200, ${refused.length} × 503 in ${floodSeconds.toFixed(1)} s; ` +
            `RSS idle ${idle.rss.toFixed(0)} MiB, peak ${after.peak.toFixed(0)} MiB (+${growth.toFixed(0)} MiB); ` +
            `/health/live median ${median(liveness).toFixed(0)} ms, max ${Math.max(...liveness).toFixed(0)} ms`,
        );
        // Argon2's own memory for the hashes running at once, plus room for 500 sockets and their buffers.
        expect(growth).toBeLessThan(CONCURRENCY * MEDIUM_MIB + 192);
      }
    },
  );
});

describe('while the hash queue is full', () => {
  /** A memory store that counts the reads a login or a registration starts with. */
  function countingStore() {
    const inner = new MemoryStore();
    let reads = 0;
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (property === 'getUserByLogin' || property === 'getUserByUsername') reads += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { opened: { store, location: 'memory', close: () => inner.close() }, reads: () => reads };
  }

  it('logins and registrations get 503 OVERLOADED before any database work', async () => {
    const { opened, reads } = countingStore();
    const config = testConfig({ GATEKEEPER_HASH_CONCURRENCY: '1', GATEKEEPER_HASH_QUEUE_MAX: '0' });
    const gk = await buildGatekeeper(config, { store: opened, hashParams: CHEAP_HASH });
    try {
      await register(gk.app, 'queued_out');
      let release!: () => void;
      const busy = gk.hasher.queue.run(() => new Promise<void>((r) => (release = r)));
      const before = reads();
      const login = await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'queued_out', password: STRONG_PASSWORD },
      });
      expectError(login, 503, 'OVERLOADED');
      expect(login.headers['retry-after']).toBe('1');
      const registration = await gk.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { username: 'queued_out_2', password: STRONG_PASSWORD },
      });
      expectError(registration, 503, 'OVERLOADED');
      expect(reads()).toBe(before);
      release();
      await busy;
      const after = await gk.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'queued_out', password: STRONG_PASSWORD },
      });
      expect(after.statusCode).toBe(200);
    } finally {
      await gk.close();
      await opened.close();
    }
  });
});
