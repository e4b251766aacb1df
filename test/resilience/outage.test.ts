/**
 * PostgreSQL going away under a register/login load (issue 12): a restart, an outage of seconds, a
 * read-only window, a table lock, a black-holed connection. What must hold each time: every request
 * is answered within the request deadline (none hangs), a failure is a 503 with Retry-After (never a
 * 500), the service recovers by itself (no restart), and no acknowledged registration is lost.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrimary, type PgServer } from '../support/pg-cluster.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { describeCounts, runLoad, type LoadResult } from './support/load.js';
import { printTable } from './support/report.js';
import {
  describeProbes,
  hold,
  logins,
  maxLatency,
  missingUsers,
  probe,
  probeLoop,
  registerAll,
  registrations,
  unexpectedStatuses,
  waitUntil,
  type ProbeAnswer,
} from './support/scenario.js';
import { USER_PASSWORD, startResilienceService, type ResilienceService } from './support/service.js';

const DEADLINE_S = 3;
const LOCK_TIMEOUT_S = 1;
const HEALTH_TIMEOUT_S = 2;
const STATEMENT_TIMEOUT_S = 2;
/** Scheduling slack on 2 shared cores, on top of each bound. */
const MARGIN_MS = 1500;
const RECOVERY_BOUND_MS = 30_000;

const SERVICE_ENV = {
  GATEKEEPER_REQUEST_DEADLINE_SECONDS: String(DEADLINE_S),
  GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS: String(LOCK_TIMEOUT_S),
  GATEKEEPER_DATABASE_STATEMENT_TIMEOUT_SECONDS: String(STATEMENT_TIMEOUT_S),
  GATEKEEPER_HEALTH_TIMEOUT_SECONDS: String(HEALTH_TIMEOUT_S),
  // Logins must reach the users table (the lock scenario), not a per-process cache.
  GATEKEEPER_USER_CACHE_SECONDS: '0',
  GATEKEEPER_LOGIN_IP_MAX_FAILURES: '100000',
  GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: '1000',
};

const LOGIN_USERS = Array.from({ length: 6 }, (_, i) => `outage_user_${i}`);

interface Outcome {
  load: LoadResult;
  registerProbes: ProbeAnswer[];
  healthProbes: ProbeAnswer[];
  recoveryMs: number;
  lost: string[];
}

describe('PostgreSQL outages under load', { timeout: 120_000 }, () => {
  let primary: PgServer;
  let service: ResilienceService;
  let databaseUrl: string;
  const rows: Array<Record<string, string | number>> = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    primary = await startPrimary();
    cleanups.push(() => primary.destroy());
    await primary.query('CREATE DATABASE gk_outage');
    databaseUrl = primary.url('gk_outage');
    service = await startResilienceService({ databaseUrl, env: SERVICE_ENV });
    cleanups.push(() => service.stop('SIGKILL'));
    await registerAll(service.baseUrl, LOGIN_USERS);
  });

  afterAll(async () => {
    if (rows.length) printTable('outage scenarios (deadline 3 s; lost = acknowledged but absent)', rows);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  /**
   * Runs the load on `target`, applies `fault` after a moment, then waits until a registration
   * succeeds again (recovery, measured from the fault's end) and stops the load.
   */
  async function underLoad(
    name: string,
    target: ResilienceService,
    fault: () => Promise<void>,
    options: { operations?: 'mix' | 'logins' } = {},
  ): Promise<Outcome> {
    const stop = new AbortController();
    const base = target.baseUrl;
    const prefix = `${name.replace(/\W/g, '')}_${Date.now() % 100000}`;
    const operations =
      options.operations === 'logins' ? [logins(LOGIN_USERS)] : [registrations(prefix), logins(LOGIN_USERS)];
    const loading = runLoad({
      baseUrls: [base],
      operations,
      concurrency: 6,
      until: stop.signal,
      requestTimeoutMs: DEADLINE_S * 1000 + MARGIN_MS,
    });
    let probeSeq = 0;
    const registerProbes = probeLoop(
      () =>
        probe(
          base,
          {
            method: 'POST',
            path: '/auth/register',
            body: { username: `${prefix}_probe_${probeSeq++}`, password: USER_PASSWORD },
          },
          DEADLINE_S * 1000 + MARGIN_MS,
        ),
      stop.signal,
    );
    const healthProbes = probeLoop(
      () => probe(base, { method: 'GET', path: '/health' }, HEALTH_TIMEOUT_S * 1000 + MARGIN_MS),
      stop.signal,
    );
    await hold(700);
    let recoveryMs = -1;
    try {
      await fault();
      recoveryMs = await waitUntil(
        `${name}: a registration succeeds again`,
        async () =>
          (
            await probe(base, {
              method: 'POST',
              path: '/auth/register',
              body: { username: `${prefix}_recovery_${probeSeq++}`, password: USER_PASSWORD },
            })
          ).status === 201,
        RECOVERY_BOUND_MS,
        100,
      );
      await hold(500);
    } finally {
      stop.abort();
    }
    const load = await loading;
    const acked = [
      ...(load.operations.register?.acknowledged ?? []),
      ...(await registerProbes).filter((a) => a.status === 201).map((a) => (a.body as { username: string }).username),
    ];
    const lost = await missingUsers(databaseUrl, acked);
    const outcome: Outcome = {
      load,
      registerProbes: await registerProbes,
      healthProbes: await healthProbes,
      recoveryMs,
      lost,
    };
    const probes503 = outcome.registerProbes.filter((a) => a.status === 503);
    rows.push({
      scenario: name,
      sent: load.totals.sent + outcome.registerProbes.length,
      answered: describeCounts(load.totals.answered),
      'no answer': describeCounts(load.totals.errors),
      'max ms': Math.round(maxLatency(load)),
      'probe 503 w/ Retry-After': `${probes503.filter((a) => a.retryAfter !== null).length}/${probes503.length}`,
      health: describeProbes(outcome.healthProbes),
      'recovery ms': recoveryMs,
      acked: acked.length,
      lost: lost.length,
    });
    return outcome;
  }

  /** The guarantees every scenario shares. */
  function expectAnsweredWithinDeadline(outcome: Outcome): void {
    expect(unexpectedStatuses(outcome.load, [200, 201, 503]), 'only 200/201 or 503').toEqual({});
    expect(
      outcome.load.totals.errors,
      'every request answered within GATEKEEPER_REQUEST_DEADLINE_SECONDS + margin (no timeout, no reset)',
    ).toEqual({});
    expect(maxLatency(outcome.load)).toBeLessThanOrEqual(DEADLINE_S * 1000 + MARGIN_MS);
    for (const answer of outcome.registerProbes) {
      expect([201, 503], JSON.stringify(answer)).toContain(answer.status);
      if (answer.status === 503) expect(answer.retryAfter, 'a 503 says when to retry').not.toBeNull();
    }
    expect(outcome.lost, 'acknowledged registrations missing from the database').toEqual([]);
  }

  it('(a) a restart of PostgreSQL: 503s with Retry-After at most, recovery without a service restart', async () => {
    const outcome = await underLoad('restart', service, async () => {
      await primary.stop('fast');
      await primary.start();
    });
    expectAnsweredWithinDeadline(outcome);
    expect(service.running()).toBe(true);
  });

  it('(b) an outage of a few seconds: 503s with Retry-After, answered within the deadline, then recovery', async () => {
    const outcome = await underLoad('outage 3 s', service, async () => {
      await primary.stop('fast');
      await hold(3000);
      await primary.start();
    });
    expectAnsweredWithinDeadline(outcome);
    expect(outcome.load.totals.answered[503] ?? 0, 'the outage was seen').toBeGreaterThan(0);
    expect(outcome.healthProbes.some((a) => a.status === 503)).toBe(true);
    expect(service.running()).toBe(true);
  });

  it('(c) a read-only window: writes 503 (never 500), /health names the read-only server, every ack kept', async () => {
    const setReadOnly = async (on: boolean) => {
      const client = new pg.Client({ connectionString: primary.url() });
      await client.connect();
      try {
        // Our own session must stay writable to turn it off again.
        await client.query('SET default_transaction_read_only = off');
        await client.query(`ALTER SYSTEM SET default_transaction_read_only = ${on ? 'on' : 'off'}`);
        await client.query('SELECT pg_reload_conf()');
      } finally {
        await client.end();
      }
    };
    let duringWindow: ProbeAnswer[] = [];
    const outcome = await underLoad('read-only 3 s', service, async () => {
      await setReadOnly(true);
      try {
        const stop = new AbortController();
        const health = probeLoop(
          () => probe(service.baseUrl, { method: 'GET', path: '/health' }, HEALTH_TIMEOUT_S * 1000 + MARGIN_MS),
          stop.signal,
        );
        await hold(3000);
        stop.abort();
        duringWindow = await health;
      } finally {
        await setReadOnly(false);
      }
    });
    expectAnsweredWithinDeadline(outcome);
    expect(outcome.load.totals.answered[503] ?? 0, 'writes refused while read-only').toBeGreaterThan(0);
    const late = duringWindow.slice(Math.floor(duringWindow.length / 2));
    expect(late.length).toBeGreaterThan(0);
    for (const answer of late) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      expect(JSON.stringify(answer.body)).toMatch(/read-only/);
    }
    const afterMs = await waitUntil(
      '/health ok after the read-only window',
      async () => (await probe(service.baseUrl, { method: 'GET', path: '/health' })).status === 200,
      10_000,
    );
    expect(afterMs).toBeLessThan(10_000);
  });

  it('(d) a table lock held 8 s: logins 503 within the lock timeout, /health within its own, log names the lock', async () => {
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    cleanups.push(() => locker.end());
    const outcome = await underLoad(
      'LOCK users 8 s',
      service,
      async () => {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
        await hold(8000);
        await locker.query('COMMIT');
      },
      { operations: 'logins' },
    );
    expect(unexpectedStatuses(outcome.load, [200, 201, 503])).toEqual({});
    expect(outcome.load.totals.errors).toEqual({});
    expect(outcome.load.totals.answered[503] ?? 0, 'logins refused while locked').toBeGreaterThan(0);
    // Waiting for the lock ends at lock_timeout, not at some 30 s default: every answer comes fast.
    expect(maxLatency(outcome.load)).toBeLessThanOrEqual(LOCK_TIMEOUT_S * 1000 + MARGIN_MS + 500);
    for (const answer of outcome.healthProbes) {
      expect(answer.status).not.toBe(0);
      expect(answer.ms).toBeLessThanOrEqual(HEALTH_TIMEOUT_S * 1000 + MARGIN_MS);
    }
    expect(service.output()).toMatch(/GATEKEEPER_DATABASE_LOCK_TIMEOUT_SECONDS/);
    expect(outcome.lost).toEqual([]);
  });

  it('(e) a black-holed connection: every request answered 503 within the deadline, recovery by itself', async () => {
    const proxy: TcpProxy = await startTcpProxy(primary.port);
    cleanups.push(() => proxy.close());
    const proxied = await startResilienceService({ databaseUrl: proxy.through(databaseUrl), env: SERVICE_ENV });
    cleanups.push(() => proxied.stop('SIGKILL'));
    let duringHole: ProbeAnswer[] = [];
    const outcome = await underLoad('black hole 5 s', proxied, async () => {
      proxy.blackhole();
      try {
        const stop = new AbortController();
        const health = probeLoop(
          () => probe(proxied.baseUrl, { method: 'GET', path: '/health' }, HEALTH_TIMEOUT_S * 1000 + MARGIN_MS),
          stop.signal,
        );
        await hold(5000);
        stop.abort();
        duringHole = await health;
      } finally {
        proxy.restore();
      }
    });
    expectAnsweredWithinDeadline(outcome);
    expect(outcome.load.totals.answered[503] ?? 0, 'the black hole was seen').toBeGreaterThan(0);
    expect(duringHole.length).toBeGreaterThan(0);
    for (const answer of duringHole) {
      expect(answer.status, 'health answered, not ok').toBe(503);
      expect(answer.ms).toBeLessThanOrEqual(HEALTH_TIMEOUT_S * 1000 + MARGIN_MS);
    }
    expect(outcome.recoveryMs).toBeGreaterThanOrEqual(0);
    expect(proxied.running()).toBe(true);
  });
});
