/**
 * Failover under a registration load (issue 12): a primary with a synchronous streaming standby,
 * the service given both in a multi-host URL with target_session_attrs=read-write. The primary
 * crashes (stop immediate), the standby is promoted: every acknowledged registration must be on the
 * new primary (synchronous replication: an acknowledged commit is on the standby), and the service
 * must follow to the new primary by itself, within a bound measured and printed here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startPrimary, startStandby, type PgServer } from '../support/pg-cluster.js';
import { describeCounts, runLoad } from './support/load.js';
import { printTable } from './support/report.js';
import {
  hold,
  maxLatency,
  missingUsers,
  probe,
  registrations,
  unexpectedStatuses,
  waitUntil,
} from './support/scenario.js';
import { USER_PASSWORD, startResilienceService, type ResilienceService } from './support/service.js';

const FOLLOW_BOUND_MS = 20_000;
const DEADLINE_S = 3;

describe('failover to a promoted standby', { timeout: 120_000 }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('keeps every acknowledged registration and follows the new primary by itself', async () => {
    const primary: PgServer = await startPrimary();
    cleanups.push(() => primary.destroy());
    const standby: PgServer = await startStandby(primary);
    cleanups.push(() => standby.destroy());
    // Synchronous replication: a commit is acknowledged once the standby has it, so a crash of the
    // primary cannot take an acknowledged registration with it.
    await primary.query("ALTER SYSTEM SET synchronous_standby_names = '*'");
    await primary.query('SELECT pg_reload_conf()');
    await waitUntil(
      'the standby is synchronous',
      async () =>
        (await primary.query<{ s: string }>('SELECT sync_state AS s FROM pg_stat_replication'))[0]?.s === 'sync',
      10_000,
    );
    await primary.query('CREATE DATABASE gk_failover');
    const multiHost = new URL(primary.url('gk_failover'));
    const databaseUrl =
      `postgresql://gatekeeper:${multiHost.password}@127.0.0.1:${primary.port},127.0.0.1:${standby.port}` +
      `/gk_failover?target_session_attrs=read-write`;

    let service: ResilienceService;
    try {
      service = await startResilienceService({
        databaseUrl,
        env: { GATEKEEPER_REQUEST_DEADLINE_SECONDS: String(DEADLINE_S), GATEKEEPER_HEALTH_TIMEOUT_SECONDS: '2' },
        startTimeoutMs: 30_000,
      });
    } catch (err) {
      // The message names the feature, not only the symptom (the password is not in it: the service
      // never prints it, and we print only the last lines of its output).
      const tail = String((err as Error).message)
        .split('\n')
        .slice(-6)
        .join('\n');
      throw new Error(
        'the service does not start on a multi-host DATABASE_URL (host1:port1,host2:port2 with ' +
          'target_session_attrs=read-write): multi-host support (issue 12, branch of /work/wt/hosts) is ' +
          `not in this build yet.\nLast output:\n${tail}`,
      );
    }
    cleanups.push(() => service.stop('SIGKILL'));

    const stop = new AbortController();
    const loading = runLoad({
      baseUrls: [service.baseUrl],
      operations: [registrations('failover')],
      concurrency: 6,
      until: stop.signal,
      requestTimeoutMs: DEADLINE_S * 1000 + 1500,
    });
    let followMs = -1;
    let promoteMs = -1;
    let seq = 0;
    try {
      await hold(1500);
      const crashAt = Date.now();
      await primary.stop('immediate');
      await standby.promote();
      promoteMs = Date.now() - crashAt;
      followMs = await waitUntil(
        'a registration succeeds on the new primary',
        async () =>
          (
            await probe(service.baseUrl, {
              method: 'POST',
              path: '/auth/register',
              body: { username: `failover_follow_${seq++}`, password: USER_PASSWORD },
            })
          ).status === 201,
        FOLLOW_BOUND_MS,
        100,
      );
      await hold(1000);
    } finally {
      stop.abort();
    }
    const load = await loading;
    const acked = load.operations.register!.acknowledged;
    const lost = await missingUsers(standby.url('gk_failover'), acked);
    printTable('failover: primary crashed (immediate), standby promoted', [
      {
        sent: load.totals.sent,
        answered: describeCounts(load.totals.answered),
        'no answer': describeCounts(load.totals.errors),
        'max ms': Math.round(maxLatency(load)),
        'crash→promoted ms': promoteMs,
        'promoted→201 ms': followMs,
        acked: acked.length,
        lost: lost.length,
      },
    ]);
    expect(await standby.inRecovery()).toBe(false);
    expect(lost, 'acknowledged registrations missing on the new primary').toEqual([]);
    expect(unexpectedStatuses(load, [201, 503]), 'failures are 503s').toEqual({});
    expect(followMs).toBeGreaterThanOrEqual(0);
    expect(followMs).toBeLessThanOrEqual(FOLLOW_BOUND_MS);
    expect(service.running()).toBe(true);
  });
});
