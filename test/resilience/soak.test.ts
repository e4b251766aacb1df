/**
 * A bounded mixed soak (issue 12): registrations, logins, refreshes, /auth/me, logouts and wrong
 * passwords against one service on a PostgreSQL server for RESILIENCE_SOAK_SECONDS (default 180, what
 * CI runs; set it lower for a quick local run). Every few seconds it samples the service's RSS
 * (/proc/<pid>/status) and its database connections (pg_stat_activity of the soak's database).
 * Asserts: no answer outside the expected ones (wrong passwords are 401, nothing else is an error),
 * no transport error, RSS not growing beyond a generous bound, connections within the pool and flat.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startPrimary, type PgServer } from '../support/pg-cluster.js';
import { describeCounts, loadRows, runLoad, send, type Operation } from './support/load.js';
import { printTable } from './support/report.js';
import { USER_PASSWORD, residentBytes, startResilienceService, type ResilienceService } from './support/service.js';

const SOAK_SECONDS = Number(process.env.RESILIENCE_SOAK_SECONDS ?? 180);
const SAMPLE_EVERY_MS = 3000;
const DATABASE = 'gk_soak';
/** Wrong passwords per account, kept under the account throttle (5 in the window) so none locks. */
const WRONG_PER_ACCOUNT = 3;
const MB = 1024 * 1024;

interface Session {
  username: string;
  access: string;
  refresh: string;
}

interface Sample {
  at: number;
  rss: number;
  connections: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

describe('a mixed soak against one service', { timeout: (SOAK_SECONDS + 120) * 1000 }, () => {
  let primary: PgServer | undefined;
  let service: ResilienceService | undefined;
  afterAll(async () => {
    await service?.stop().catch(() => service?.kill9());
    await primary?.destroy();
  });

  it(`${SOAK_SECONDS} s of mixed traffic: no unexpected answer, RSS and connections flat`, async () => {
    primary = await startPrimary();
    await primary.query(`CREATE DATABASE ${DATABASE}`);
    // Every request comes from 127.0.0.1: the per-address login throttle (50 failures) would end the
    // wrong-password traffic after a minute; the per-account one stays at its default and is respected.
    service = await startResilienceService({
      databaseUrl: primary.url(DATABASE),
      env: { GATEKEEPER_LOGIN_IP_MAX_FAILURES: '1000000' },
    });
    const base = service.baseUrl;
    const health = await send(base, { method: 'GET', path: '/health' });
    const poolMax = (health as { body: { database?: { pool?: { max?: number } } } }).body.database?.pool?.max;
    expect(typeof poolMax, JSON.stringify(health)).toBe('number');

    // The state the operations share: registered accounts, and signed-in sessions checked out by one
    // operation at a time (a refresh and a logout of the same session at once would be a client bug).
    const accounts: string[] = [];
    // Every login attempt is charged to the account before the password is checked (cleared on
    // success): wrong passwords go to accounts of their own, never logged into, so concurrent good
    // logins do not add up with them to the account limit.
    const targets: string[] = [];
    const wrongCount = new Map<string, number>();
    const sessions: Session[] = [];
    const take = (): Session | null =>
      sessions.length ? sessions.splice(Math.floor(Math.random() * sessions.length), 1)[0]! : null;
    const checkedOut = new Map<number, Session>();
    const pending = new Map<string, Session>();
    let ticket = 0;

    const expected: Record<string, number> = {
      register: 201,
      login: 200,
      refresh: 200,
      me: 200,
      logout: 200,
      'wrong password': 401,
    };
    const operations: Operation[] = [
      {
        name: 'register',
        weight: 1,
        request: ({ seq }) => ({
          method: 'POST',
          path: '/auth/register',
          body: { username: `soak_${seq}`, password: USER_PASSWORD },
          key: `soak_${seq}`,
        }),
        onAnswer: (answer, req) => {
          if (answer.status !== 201) return;
          // One registration in four becomes a wrong-password target.
          if ((accounts.length + targets.length) % 4 === 3) targets.push(req.key!);
          else accounts.push(req.key!);
        },
      },
      {
        name: 'login',
        weight: 2,
        request: () => {
          // Keep the number of open sessions bounded: logins balance logouts.
          if (accounts.length === 0 || sessions.length > 200) return null;
          const username = accounts[Math.floor(Math.random() * accounts.length)]!;
          return { method: 'POST', path: '/auth/login', body: { username, password: USER_PASSWORD }, key: username };
        },
        onAnswer: (answer, req) => {
          if (answer.status !== 200) return;
          const body = answer.body as { access_token: string; refresh_token: string };
          sessions.push({ username: req.key!, access: body.access_token, refresh: body.refresh_token });
        },
      },
      {
        name: 'refresh',
        weight: 2,
        request: () => {
          const session = take();
          if (!session) return null;
          const id = `${ticket++}`;
          pending.set(id, session);
          return { method: 'POST', path: '/auth/refresh', body: { refresh_token: session.refresh }, key: id };
        },
        onAnswer: (answer, req) => {
          const session = pending.get(req.key!)!;
          pending.delete(req.key!);
          if (answer.status !== 200) return;
          const body = answer.body as { access_token: string; refresh_token: string };
          sessions.push({ ...session, access: body.access_token, refresh: body.refresh_token });
        },
      },
      {
        name: 'me',
        weight: 6,
        request: () => {
          const session = take();
          if (!session) return null;
          const id = ticket++;
          checkedOut.set(id, session);
          return { method: 'GET', path: '/auth/me', token: session.access, key: `${id}` };
        },
        onAnswer: (answer, req) => {
          const session = checkedOut.get(Number(req.key))!;
          checkedOut.delete(Number(req.key));
          if (answer.status === 200) sessions.push(session);
        },
      },
      {
        name: 'logout',
        weight: 1,
        request: () => {
          const session = take();
          if (!session) return null;
          return {
            method: 'POST',
            path: '/auth/logout',
            token: session.access,
            body: { refresh_token: session.refresh },
          };
        },
      },
      {
        name: 'wrong password',
        weight: 1,
        request: () => {
          const username = targets.find((name) => (wrongCount.get(name) ?? 0) < WRONG_PER_ACCOUNT);
          if (!username) return null;
          wrongCount.set(username, (wrongCount.get(username) ?? 0) + 1);
          return { method: 'POST', path: '/auth/login', body: { username, password: 'Wr0ng-Password!' } };
        },
      },
    ];

    const samples: Sample[] = [];
    const byApplication = new Map<string, number>();
    const sample = async () => {
      const rows = await primary!.query<{ application_name: string; n: string }>(
        `SELECT application_name, count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
          GROUP BY application_name`,
        [DATABASE],
      );
      let connections = 0;
      for (const row of rows) {
        connections += Number(row.n);
        byApplication.set(row.application_name, Math.max(byApplication.get(row.application_name) ?? 0, Number(row.n)));
      }
      samples.push({ at: Date.now(), rss: residentBytes(service!.pid) ?? Number.NaN, connections });
    };
    const stop = new AbortController();
    const sampler = (async () => {
      while (!stop.signal.aborted) {
        await sample();
        await new Promise<void>((resolve) => {
          // Woken early by the end of the load; the listener goes with each pause (no pile-up).
          const wake = () => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            stop.signal.removeEventListener('abort', wake);
            resolve();
          }, SAMPLE_EVERY_MS);
          stop.signal.addEventListener('abort', wake, { once: true });
        });
      }
    })();
    const result = await runLoad({
      baseUrls: [base],
      operations,
      concurrency: 6,
      durationMs: SOAK_SECONDS * 1000,
      requestTimeoutMs: 10_000,
    });
    stop.abort();
    await sampler;
    await sample();

    const third = Math.max(1, Math.floor(samples.length / 3));
    const first = samples.slice(0, third);
    const last = samples.slice(-third);
    const rssFirst = median(first.map((s) => s.rss));
    const rssLast = median(last.map((s) => s.rss));
    const connFirst = median(first.map((s) => s.connections));
    const connLast = median(last.map((s) => s.connections));
    const connMax = Math.max(...samples.map((s) => s.connections));
    const unexpected: Record<string, number> = {};
    for (const [name, stats] of Object.entries(result.operations)) {
      for (const [status, n] of Object.entries(stats.answered)) {
        if (Number(status) !== expected[name]) unexpected[`${name} ${status}`] = n;
      }
      for (const [code, n] of Object.entries(stats.errors)) unexpected[`${name} ${code}`] = n;
    }
    const rssBound = rssFirst * 1.3 + 20 * MB;

    printTable(`soak ${SOAK_SECONDS} s: requests`, loadRows(result));
    printTable(`soak ${SOAK_SECONDS} s: resources (${samples.length} samples every ${SAMPLE_EVERY_MS / 1000} s)`, [
      {
        figure: 'RSS median MB',
        'first third': (rssFirst / MB).toFixed(1),
        'last third': (rssLast / MB).toFixed(1),
        bound: (rssBound / MB).toFixed(1),
      },
      {
        figure: 'connections median',
        'first third': connFirst,
        'last third': connLast,
        bound: `${connFirst + 2} (max ${connMax} ≤ ${poolMax! + 2})`,
      },
    ]);
    printTable(`soak ${SOAK_SECONDS} s: summary`, [
      {
        requests: result.totals.sent,
        'req/s': (result.totals.sent / (result.durationMs / 1000)).toFixed(1),
        'by status': describeCounts(result.totals.answered),
        unexpected: describeCounts(unexpected),
        'peak connections by application': [...byApplication].map(([app, n]) => `${app || '(none)'}=${n}`).join(' '),
      },
    ]);

    expect(unexpected).toEqual({});
    expect(result.operations.register!.acknowledged.length).toBeGreaterThan(0);
    expect(result.operations.refresh!.answered[200] ?? 0).toBeGreaterThan(0);
    expect(result.operations['wrong password']!.answered[401] ?? 0).toBeGreaterThan(0);
    expect(samples.every((s) => Number.isFinite(s.rss))).toBe(true);
    expect(rssLast).toBeLessThanOrEqual(rssBound);
    // The pool's max, plus the notification bus's own connections (one LISTEN, one sender).
    expect(connMax).toBeLessThanOrEqual(poolMax! + 2);
    expect(connLast).toBeLessThanOrEqual(connFirst + 2);
  });
});
