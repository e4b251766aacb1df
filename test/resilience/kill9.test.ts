/**
 * kill -9 of the service in the middle of writes (issue 12): no handler runs, connections drop
 * mid-transaction. What the clients were told must hold afterwards:
 * - every 2xx is in the database (no lost write);
 * - nothing is half-written (a user row is whole and can log in; a session has its refresh token; a
 *   password change is all or nothing: exactly one of the old and the new password works);
 * - nothing is applied twice (a yapcoin balance — the API's counter, POST /auth/users/{u}/yapcoins —
 *   lies between the acknowledged increments and the acknowledged plus the unanswered ones);
 * and a restarted service on the same database says the same through the API.
 * Then the embedded default: its service and its postmaster both kill -9'd (a stale postmaster.pid
 * and shared memory of a dead server), the restart on the same data directory comes up and keeps
 * every acknowledged registration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPrimary, type PgServer } from '../support/pg-cluster.js';
import { runLoad, send, loadRows, type Answer, type LoadRequest, type Operation } from './support/load.js';
import { printTable } from './support/report.js';
import {
  RESILIENCE_ADMIN,
  USER_PASSWORD,
  embeddedPostmasterPid,
  processAlive,
  startResilienceService,
  stopOrphanPostmaster,
  waitForExit,
  type ResilienceService,
} from './support/service.js';

const NEW_PASSWORD = 'N3w-Secret!x';
/** Throttling would turn the verification logins (one wrong password per changed user) into 429s. */
const LENIENT_THROTTLE = { GATEKEEPER_LOGIN_IP_MAX_FAILURES: '100000', GATEKEEPER_LOGIN_ACCOUNT_MAX_FAILURES: '1000' };

async function call(baseUrl: string, req: LoadRequest): Promise<Answer> {
  const outcome = await send(baseUrl, req, 15_000);
  if (!('status' in outcome)) throw new Error(`${req.method} ${req.path}: no answer (${outcome.error})`);
  return outcome;
}

async function loginStatus(baseUrl: string, username: string, password: string): Promise<number> {
  return (await call(baseUrl, { method: 'POST', path: '/auth/login', body: { username, password } })).status;
}

async function tokenOf(baseUrl: string, username: string, password: string): Promise<string> {
  const answer = await call(baseUrl, { method: 'POST', path: '/auth/login', body: { username, password } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return (answer.body as { access_token: string }).access_token;
}

/** Resolves once `predicate` holds, polling every 20 ms; rejects past the deadline. */
async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !predicate();) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('kill -9 of the service during writes', { timeout: 240_000 }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('on a PostgreSQL server: every acknowledged write survives, none is half-written or doubled', async () => {
    const primary: PgServer = await startPrimary();
    cleanups.push(() => primary.destroy());
    await primary.query('CREATE DATABASE gk_kill9');
    const databaseUrl = primary.url('gk_kill9');
    let service: ResilienceService = await startResilienceService({ databaseUrl, env: LENIENT_THROTTLE });
    cleanups.push(() => service.stop('SIGKILL'));
    const base = service.baseUrl;
    const admin = await tokenOf(base, RESILIENCE_ADMIN.username, RESILIENCE_ADMIN.password);

    // The state the load changes: users who will change their password (each once, with the token of
    // a login made now) and users whose balance the admin raises by 1 at a time.
    const changers = Array.from({ length: 40 }, (_, i) => `changer_${i}`);
    const counters = Array.from({ length: 4 }, (_, i) => `counter_${i}`);
    const changerTokens = new Map<string, string>();
    for (const username of [...changers, ...counters]) {
      const answer = await call(base, {
        method: 'POST',
        path: '/auth/register',
        body: { username, password: USER_PASSWORD },
      });
      expect(answer.status).toBe(201);
    }
    for (const username of changers) changerTokens.set(username, await tokenOf(base, username, USER_PASSWORD));

    let nextChanger = 0;
    const register: Operation = {
      name: 'register',
      weight: 3,
      request: ({ seq }) => ({
        method: 'POST',
        path: '/auth/register',
        body: { username: `reg_${seq}`, password: USER_PASSWORD },
        key: `reg_${seq}`,
      }),
    };
    const changePassword: Operation = {
      name: 'change-password',
      request: () => {
        const username = changers[nextChanger++];
        if (!username) return null;
        return {
          method: 'POST',
          path: '/auth/change-password',
          token: changerTokens.get(username)!,
          body: { current_password: USER_PASSWORD, new_password: NEW_PASSWORD },
          key: username,
        };
      },
    };
    const addCoin: Operation = {
      name: 'yapcoins +1',
      weight: 3,
      request: ({ seq }) => {
        const username = counters[seq % counters.length]!;
        return {
          method: 'POST',
          path: `/auth/users/${username}/yapcoins`,
          token: admin,
          body: { delta: 1 },
          key: username,
        };
      },
    };

    // kill -9 once every kind of write has been acknowledged a few times: the kill lands in the middle
    // of a steady stream of writes, not before it started.
    const acked: Record<string, number> = {};
    for (const op of [register, changePassword, addCoin]) {
      op.onAnswer = (answer) => {
        if (answer.status >= 200 && answer.status < 300) acked[op.name] = (acked[op.name] ?? 0) + 1;
      };
    }
    const killedSignal = new AbortController();
    // Two loads side by side: the balance changes are fast and the Argon2 ones slow, so workers of
    // their own keep balance changes in flight when the kill comes.
    const hashingLoad = runLoad({
      baseUrls: [base],
      operations: [register, changePassword],
      concurrency: 8,
      until: killedSignal.signal,
      requestTimeoutMs: 10_000,
    });
    const counterLoad = runLoad({
      baseUrls: [base],
      operations: [addCoin],
      concurrency: 4,
      until: killedSignal.signal,
      requestTimeoutMs: 10_000,
    });
    await until(
      'writes of every kind acknowledged',
      () => (acked.register ?? 0) >= 30 && (acked['change-password'] ?? 0) >= 8 && (acked['yapcoins +1'] ?? 0) >= 30,
      60_000,
    );
    const exit = await service.kill9();
    killedSignal.abort();
    const [hashing, counting] = await Promise.all([hashingLoad, counterLoad]);
    const result = {
      operations: { ...hashing.operations, ...counting.operations },
      totals: {
        sent: hashing.totals.sent + counting.totals.sent,
        answered: [hashing, counting].flatMap((r) => Object.entries(r.totals.answered)),
      },
    };
    expect(exit).toBe('SIGKILL');
    printTable('kill -9 during writes (PostgreSQL server): the load', [...loadRows(hashing), ...loadRows(counting)]);

    // Restart on the same database: it must come up, and say what the database says.
    service = await startResilienceService({ databaseUrl, env: LENIENT_THROTTLE });
    const after = service.baseUrl;
    const adminAfter = await tokenOf(after, RESILIENCE_ADMIN.username, RESILIENCE_ADMIN.password);

    const reg = result.operations.register!;
    const users = await primary.query<{ username: string; password_hash: string; role: string; is_active: boolean }>(
      `SELECT username, password_hash, role, is_active FROM users WHERE username LIKE 'reg\\_%'`,
      [],
      'gk_kill9',
    );
    const present = new Set(users.map((u) => u.username));
    const lostRegistrations = reg.acknowledged.filter((name) => !present.has(name));
    const phantoms = users.filter(
      (u) => !reg.acknowledged.includes(u.username) && !reg.indeterminate.includes(u.username),
    );
    const broken = users.filter(
      (u) => !u.password_hash.startsWith('$argon2id$') || u.role !== 'regular' || !u.is_active,
    );
    const orphanSessions = await primary.query<{ n: string }>(
      `SELECT count(*) AS n FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id)`,
      [],
      'gk_kill9',
    );
    // Through the API: every acknowledged registration is a user the admin sees, and (a sample, Argon2
    // costs) every present one (acknowledged or not) can log in with its password.
    let apiMissing = 0;
    for (const name of reg.acknowledged) {
      const answer = await call(after, { method: 'GET', path: `/auth/users/${name}`, token: adminAfter });
      if (answer.status !== 200) apiMissing += 1;
    }
    const loginSample = [...reg.indeterminate.filter((n) => present.has(n)), ...reg.acknowledged.slice(0, 10)];
    let loginFailures = 0;
    for (const name of loginSample) if ((await loginStatus(after, name, USER_PASSWORD)) !== 200) loginFailures += 1;

    // Password changes: all or nothing, and an acknowledged one really revoked the old token.
    const pw = result.operations['change-password']!;
    let changeViolations = 0;
    let oldTokenStillWorks = 0;
    const changeRows: Array<Record<string, string | number>> = [];
    const outcome = { acknowledged: 0, indeterminateNew: 0, indeterminateOld: 0, untouched: 0 };
    for (const username of changers) {
      const oldWorks = (await loginStatus(after, username, USER_PASSWORD)) === 200;
      const newWorks = (await loginStatus(after, username, NEW_PASSWORD)) === 200;
      if (oldWorks === newWorks) changeViolations += 1;
      if (pw.acknowledged.includes(username)) {
        outcome.acknowledged += 1;
        if (!newWorks || oldWorks) changeViolations += 1;
        const me = await call(after, { method: 'GET', path: '/auth/me', token: changerTokens.get(username)! });
        if (me.status !== 401) oldTokenStillWorks += 1;
      } else if (pw.indeterminate.includes(username)) {
        if (newWorks) outcome.indeterminateNew += 1;
        else outcome.indeterminateOld += 1;
      } else {
        outcome.untouched += 1;
        if (!oldWorks) changeViolations += 1;
      }
    }
    changeRows.push(outcome);

    // Balances: the acknowledged increments at least, never more than acknowledged + unanswered.
    const coins = result.operations['yapcoins +1']!;
    const balanceRows: Array<Record<string, string | number>> = [];
    let balanceViolations = 0;
    for (const username of counters) {
      const ackN = coins.acknowledged.filter((n) => n === username).length;
      const unknownN = coins.indeterminate.filter((n) => n === username).length;
      const [row] = await primary.query<{ yapcoin_balance: number }>(
        'SELECT yapcoin_balance FROM users WHERE username = $1',
        [username],
        'gk_kill9',
      );
      const viaApi = await call(after, { method: 'GET', path: `/auth/users/${username}`, token: adminAfter });
      const apiBalance = (viaApi.body as { yapcoin_balance: number }).yapcoin_balance;
      const balance = row!.yapcoin_balance;
      const ok = balance >= ackN && balance <= ackN + unknownN && apiBalance === balance;
      if (!ok) balanceViolations += 1;
      balanceRows.push({
        user: username,
        acknowledged: ackN,
        unanswered: unknownN,
        'db balance': balance,
        'api balance': apiBalance,
        ok: ok ? 'yes' : 'NO',
      });
    }

    printTable('kill -9 (PostgreSQL server): registrations after restart', [
      {
        acknowledged: reg.acknowledged.length,
        unanswered: reg.indeterminate.length,
        'unanswered present': reg.indeterminate.filter((n) => present.has(n)).length,
        lost: lostRegistrations.length,
        phantom: phantoms.length,
        'rows not whole': broken.length,
        'sessions w/o refresh token': Number(orphanSessions[0]!.n),
        'api missing': apiMissing,
        'login failures (sample)': `${loginFailures}/${loginSample.length}`,
      },
    ]);
    printTable('kill -9 (PostgreSQL server): password changes after restart', [
      { ...outcome, 'both/neither work': changeViolations, 'old token still works': oldTokenStillWorks },
    ]);
    printTable('kill -9 (PostgreSQL server): yapcoin balances after restart', balanceRows);

    expect(lostRegistrations).toEqual([]);
    expect(phantoms.map((u) => u.username)).toEqual([]);
    expect(broken.map((u) => u.username)).toEqual([]);
    expect(Number(orphanSessions[0]!.n)).toBe(0);
    expect(apiMissing).toBe(0);
    expect(loginFailures).toBe(0);
    expect(changeViolations).toBe(0);
    expect(oldTokenStillWorks).toBe(0);
    expect(balanceViolations).toBe(0);
    // The kill really interrupted something: at least one request went unanswered, of some kind.
    expect(result.totals.sent).toBeGreaterThan(result.totals.answered.reduce((sum, [, n]) => sum + n, 0));
    // No answer was a 500 (what did come back before the kill was a contract answer).
    expect(result.totals.answered.filter(([status]) => Number(status) >= 500)).toEqual([]);
    await service.stop();
  });

  it('on the embedded default: service and postmaster kill -9d, the restart comes up and keeps every registration', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gk-kill9-embedded-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    cleanups.push(() => stopOrphanPostmaster(dataDir));
    let service = await startResilienceService({ dataDir, startTimeoutMs: 120_000 });
    cleanups.push(() => service.stop('SIGKILL'));

    let acked = 0;
    const stop = new AbortController();
    const register: Operation = {
      name: 'register',
      request: ({ seq }) => ({
        method: 'POST',
        path: '/auth/register',
        body: { username: `emb_${seq}`, password: USER_PASSWORD },
        key: `emb_${seq}`,
      }),
      onAnswer: (answer) => {
        if (answer.status === 201) acked += 1;
      },
    };
    const load = runLoad({ baseUrls: [service.baseUrl], operations: [register], concurrency: 8, until: stop.signal });
    await until('registrations acknowledged', () => acked >= 40, 60_000);
    const postmaster = embeddedPostmasterPid(dataDir);
    expect(postmaster, 'the embedded postmaster.pid').not.toBeNull();
    await service.kill9();
    stop.abort();
    const result = await load;
    // The postmaster outlives its killed owner (an orphan the next start would adopt); kill it too,
    // so the restart meets a stale postmaster.pid, not a running server.
    expect(processAlive(postmaster!)).toBe(true);
    process.kill(postmaster!, 'SIGKILL');
    expect(await waitForExit(postmaster!)).toBe(true);
    printTable('kill -9 during registrations (embedded): the load', loadRows(result));

    const restartStarted = Date.now();
    service = await startResilienceService({ dataDir, startTimeoutMs: 120_000 });
    const restartMs = Date.now() - restartStarted;
    const admin = await tokenOf(service.baseUrl, RESILIENCE_ADMIN.username, RESILIENCE_ADMIN.password);
    const reg = result.operations.register!;
    const missing: string[] = [];
    for (const name of reg.acknowledged) {
      const answer = await call(service.baseUrl, { method: 'GET', path: `/auth/users/${name}`, token: admin });
      if (answer.status !== 200) missing.push(name);
    }
    let unansweredPresent = 0;
    for (const name of reg.indeterminate) {
      const answer = await call(service.baseUrl, { method: 'GET', path: `/auth/users/${name}`, token: admin });
      if (answer.status === 200) unansweredPresent += 1;
    }
    const total = await totalCount(service.baseUrl, admin);
    const postmasterAfter = embeddedPostmasterPid(dataDir);
    printTable('kill -9 (embedded): after the restart', [
      {
        acknowledged: reg.acknowledged.length,
        unanswered: reg.indeterminate.length,
        'unanswered present': unansweredPresent,
        lost: missing.length,
        'emb_ users listed': total,
        'restart ms': restartMs,
        'new postmaster': postmasterAfter !== null && postmasterAfter !== postmaster ? 'yes' : 'no',
      },
    ]);
    expect(missing).toEqual([]);
    // Every user there was either acknowledged or unanswered: none came from nowhere.
    expect(total).toBe(reg.acknowledged.length + unansweredPresent);
    expect(postmasterAfter).not.toBe(postmaster);
    expect(await service.stop()).toBe(0);
  });
});

/** X-Total-Count of the admin's user search for the embedded scenario's users. */
async function totalCount(baseUrl: string, token: string): Promise<number> {
  const response = await fetch(`${baseUrl}/auth/users?q=emb_&limit=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.text();
  return Number(response.headers.get('x-total-count'));
}
