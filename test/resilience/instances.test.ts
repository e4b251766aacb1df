/**
 * Three service instances on one database behind a round-robin client, through a stock PgBouncer in
 * session mode and then in transaction mode (GATEKEEPER_DATABASE_POOL_MODE=transaction), issue 12:
 * - three instances starting at once on an empty database all start, migrations applied once;
 * - a token issued by one works on all; a logout at one is refused at every instance within 1 s;
 * - login throttling is counted across instances (failures spread over them lock at the count);
 * - one instance kill -9'd mid-load loses no acknowledged write.
 * Every instance gets the same signing secret (support/service.ts), as a deployment shares its key.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrimary, type PgServer } from '../support/pg-cluster.js';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import { describeCounts, runLoad } from './support/load.js';
import { printTable } from './support/report.js';
import { hold, missingUsers, probe, registerAll, registrations, unexpectedStatuses } from './support/scenario.js';
import { USER_PASSWORD, startResilienceService, type ResilienceService } from './support/service.js';

const MAX_FAILURES = 5;
const REVOCATION_BOUND_MS = 1000;
/** The versions the build ships (NNNN_name.sql), each to be applied exactly once. */
const SHIPPED_VERSIONS = readdirSync(new URL('../../src/store/postgres/migrations/', import.meta.url))
  .filter((file) => /^\d+_.*\.sql$/.test(file))
  .map((file) => Number(file.split('_')[0]))
  .sort((a, b) => a - b);

let primary: PgServer;
const rows: Array<Record<string, string | number>> = [];

beforeAll(async () => {
  primary = await startPrimary();
});
afterAll(async () => {
  if (rows.length) printTable('three instances behind PgBouncer', rows);
  await primary?.destroy();
});

for (const mode of ['session', 'transaction'] as const) {
  describe(`three instances through PgBouncer in ${mode} mode`, { timeout: 90_000 }, () => {
    let bouncer: PgBouncer;
    let instances: ResilienceService[] = [];
    let directUrl: string;
    const row: Record<string, string | number> = { mode };
    const database = `gk_instances_${mode}`;
    const note = (key: string, value: string | number) => (row[key] = value);

    beforeAll(async () => {
      rows.push(row);
      await primary.query(`CREATE DATABASE ${database}`);
      directUrl = primary.url(database);
      bouncer = await startPgBouncer({
        server: { port: primary.port, user: 'gatekeeper', password: new URL(primary.url()).password },
        mode,
        poolSize: 20,
      });
    });
    afterAll(async () => {
      for (const instance of instances) await instance.stop('SIGKILL').catch(() => undefined);
      await bouncer?.stop();
    });

    it('three instances starting at once on an empty database all start; migrations applied once', async () => {
      const started = Date.now();
      const env = {
        // Session mode holds a server connection per client connection: 3 × (4 + a listener) < 20.
        POSTGRES_POOL_SIZE: '4',
        POSTGRES_MAX_OVERFLOW: '0',
        GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: String(MAX_FAILURES),
        GATEKEEPER_LOGIN_IP_MAX_FAILURES: '100000',
        ...(mode === 'transaction' ? { GATEKEEPER_DATABASE_POOL_MODE: 'transaction' } : {}),
      };
      const results = await Promise.allSettled(
        [0, 1, 2].map(() =>
          startResilienceService({ databaseUrl: bouncer.url(database), env, startTimeoutMs: 60_000 }),
        ),
      );
      instances = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      note('started', `${instances.length}/3 in ${Date.now() - started} ms`);
      const failures = results.flatMap((r) =>
        r.status === 'rejected'
          ? [
              String((r.reason as Error).message)
                .split('\n')
                .slice(-4)
                .join(' | '),
            ]
          : [],
      );
      if (failures.length) note('start failures', failures.length);
      expect
        .soft(
          failures,
          mode === 'transaction'
            ? 'instances failed to start under transaction pooling (migrations under a transaction pooler: the migrate branch of issue 12 may not be merged yet)'
            : 'instances failed to start',
        )
        .toEqual([]);
      // So the later checks still run in this mode when a racing start failed: the schema exists by
      // now, the missing instances start one at a time (the failure above is already recorded).
      while (instances.length < 3) {
        instances.push(
          await startResilienceService({ databaseUrl: bouncer.url(database), env, startTimeoutMs: 60_000 }),
        );
      }
      const applied = await primary.query<{ version: number }>(
        'SELECT version FROM gatekeeper_migrations ORDER BY version',
        [],
        database,
      );
      expect(applied.map((r) => r.version)).toEqual(SHIPPED_VERSIONS);
    });

    it('a token from one instance works on all; a logout at one is refused at every instance within 1 s', async () => {
      expect(instances).toHaveLength(3);
      const [a, b, c] = instances as [ResilienceService, ResilienceService, ResilienceService];
      await registerAll(a.baseUrl, [`shared_${mode}`]);
      const login = await probe(b.baseUrl, {
        method: 'POST',
        path: '/auth/login',
        body: { username: `shared_${mode}`, password: USER_PASSWORD },
      });
      expect(login.status).toBe(200);
      const token = (login.body as { access_token: string }).access_token;
      for (const instance of instances) {
        expect((await probe(instance.baseUrl, { method: 'GET', path: '/auth/me', token })).status).toBe(200);
      }
      const loggedOut = await probe(c.baseUrl, { method: 'POST', path: '/auth/logout', token });
      expect(loggedOut.status).toBe(200);
      const refusedAfter = await Promise.all(
        instances.map(async (instance) => {
          const begin = performance.now();
          // Polled past the bound too, so the table shows how late a slow instance is.
          while (performance.now() - begin < 5000) {
            const answer = await probe(instance.baseUrl, { method: 'GET', path: '/auth/me', token });
            if (answer.status === 401) return performance.now() - begin;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          return Infinity;
        }),
      );
      const worst = Math.max(...refusedAfter);
      note('revoked everywhere ms', Number.isFinite(worst) ? Math.round(worst) : '>5000');
      expect(
        worst,
        mode === 'transaction'
          ? 'revocation reaches other instances under transaction pooling only with the bus branch of issue 12 (LISTEN cannot go through a transaction pooler)'
          : 'revocation reaches every instance',
      ).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
    });

    it(`login failures spread over the instances lock the account at ${MAX_FAILURES}`, async () => {
      expect(instances).toHaveLength(3);
      const bases = instances.map((i) => i.baseUrl);
      const almost = `almost_${mode}`;
      const locked = `locked_${mode}`;
      await registerAll(bases[0]!, [almost, locked]);
      const attempt = (i: number, username: string, password: string) =>
        probe(bases[i % bases.length]!, { method: 'POST', path: '/auth/login', body: { username, password } });
      // One failure short of the count, spread round-robin: the right password still works.
      for (let i = 0; i < MAX_FAILURES - 1; i++) expect((await attempt(i, almost, 'Wr0ng-Password!')).status).toBe(401);
      expect((await attempt(MAX_FAILURES, almost, USER_PASSWORD)).status).toBe(200);
      // At the count: every instance refuses even the right password.
      for (let i = 0; i < MAX_FAILURES; i++) expect((await attempt(i, locked, 'Wr0ng-Password!')).status).toBe(401);
      const after = await Promise.all(bases.map((_, i) => attempt(i, locked, USER_PASSWORD)));
      note('after 5 failures', after.map((a) => a.status).join('/'));
      for (const answer of after) expect(answer.status).toBe(429);
    });

    it('one instance kill -9ed mid-load loses no acknowledged registration', async () => {
      expect(instances).toHaveLength(3);
      const victim = instances[1]!;
      const stop = new AbortController();
      const loading = runLoad({
        baseUrls: instances.map((i) => i.baseUrl),
        operations: [registrations(`inst_${mode}`)],
        concurrency: 6,
        until: stop.signal,
        requestTimeoutMs: 10_000,
      });
      try {
        await hold(1500);
        await victim.kill9();
        await hold(1500);
      } finally {
        stop.abort();
      }
      const load = await loading;
      const acked = load.operations.register!.acknowledged;
      const lost = await missingUsers(directUrl, acked);
      note('load sent', load.totals.sent);
      note('answered', describeCounts(load.totals.answered));
      note('no answer', describeCounts(load.totals.errors));
      note('acked', acked.length);
      note('lost', lost.length);
      expect(acked.length).toBeGreaterThan(0);
      expect(lost, 'acknowledged registrations missing').toEqual([]);
      expect(unexpectedStatuses(load, [201, 503])).toEqual({});
      // The survivors still serve.
      for (const instance of [instances[0]!, instances[2]!]) {
        expect((await probe(instance.baseUrl, { method: 'GET', path: '/health' })).status).toBe(200);
      }
    });
  });
}
