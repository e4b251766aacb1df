/**
 * Races through HTTP against two service instances on one PostgreSQL database (issue 12): what one
 * instance cannot serialise in memory the database must. Each burst is fired at once, spread over
 * both instances; the answers and the rows afterwards must agree with the contract, never a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrimary, type PgServer } from '../support/pg-cluster.js';
import { describeCounts, send, type Answer, type LoadRequest } from './support/load.js';
import { printTable } from './support/report.js';
import { RESILIENCE_ADMIN, USER_PASSWORD, startResilienceService, type ResilienceService } from './support/service.js';

const DATABASE = 'gk_races';
/**
 * Every burst comes from one client address: the conflict throttle (429 after 20 "taken" answers per
 * address) and the hash queue's fair share per address (503 OVERLOADED past a quarter of
 * GATEKEEPER_HASH_QUEUE_MAX) would answer for the database under test; both are made roomy.
 */
const ENV = {
  GATEKEEPER_REGISTER_IP_MAX_CONFLICTS: '100000',
  GATEKEEPER_LOGIN_IP_MAX_FAILURES: '100000',
  GATEKEEPER_HASH_QUEUE_MAX: '400',
};

describe('races between requests on two instances of one database', { timeout: 120_000 }, () => {
  let primary: PgServer;
  const instances: ResilienceService[] = [];
  let admin: string;
  const urlOf = (i: number) => instances[i % instances.length]!.baseUrl;

  async function call(i: number, req: LoadRequest): Promise<Answer> {
    const outcome = await send(urlOf(i), req, 30_000);
    if (!('status' in outcome)) throw new Error(`${req.method} ${req.path}: no answer (${outcome.error})`);
    return outcome;
  }
  /** All at once: the requests are built first, then sent together, alternating instances. */
  const burst = (requests: LoadRequest[]) => Promise.all(requests.map((req, i) => call(i, req)));
  const statuses = (answers: Answer[]) => answers.map((a) => a.status);
  const codes = (answers: Answer[]) =>
    describeCounts(
      answers.reduce<Record<string, number>>((acc, a) => {
        const key = `${a.status} ${(a.body as { code?: string } | null)?.code ?? ''}`.trim();
        acc[key] = (acc[key] ?? 0) + 1;
        return acc;
      }, {}),
    );
  async function register(username: string, extra: Record<string, unknown> = {}): Promise<void> {
    const answer = await call(0, {
      method: 'POST',
      path: '/auth/register',
      body: { username, password: USER_PASSWORD, ...extra },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }
  async function login(
    username: string,
    password = USER_PASSWORD,
  ): Promise<{ access_token: string; refresh_token: string }> {
    const answer = await call(0, { method: 'POST', path: '/auth/login', body: { username, password } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { access_token: string; refresh_token: string };
  }
  const query = <R>(sql: string, params: unknown[] = []) => primary.query<R>(sql, params, DATABASE);

  beforeAll(async () => {
    primary = await startPrimary();
    await primary.query(`CREATE DATABASE ${DATABASE}`);
    const databaseUrl = primary.url(DATABASE);
    // One first (it migrates and bootstraps the admin), then the second on the migrated database.
    instances.push(await startResilienceService({ databaseUrl, env: ENV }));
    instances.push(await startResilienceService({ databaseUrl, env: ENV }));
    admin = (await login(RESILIENCE_ADMIN.username, RESILIENCE_ADMIN.password)).access_token;
  });
  afterAll(async () => {
    for (const instance of instances) await instance.stop().catch(() => instance.kill9());
    await primary?.destroy();
  });

  it('50 registrations of one username at once: exactly one 201, the others 409 USERNAME_TAKEN, one row', async () => {
    const answers = await burst(
      Array.from({ length: 50 }, (_, i) => ({
        method: 'POST' as const,
        path: '/auth/register',
        // Spelled differently: uniqueness is case-insensitive.
        body: { username: i % 2 ? 'Contested_Name' : 'contested_name', password: USER_PASSWORD },
      })),
    );
    const rows = await query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE lower(username) = 'contested_name'`);
    printTable('50 registrations of one username', [{ answers: codes(answers), rows: Number(rows[0]!.n) }]);
    expect(statuses(answers).filter((s) => s === 201)).toHaveLength(1);
    expect(
      answers.filter((a) => a.status === 409 && (a.body as { code: string }).code === 'USERNAME_TAKEN'),
    ).toHaveLength(49);
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('email changes of 10 users to one address at once: at most one wins, the others 409 EMAIL_TAKEN', async () => {
    const users = Array.from({ length: 10 }, (_, i) => `mailer_${i}`);
    for (const username of users) await register(username, { email: `${username}@example.com` });
    const tokens = [];
    for (const username of users) tokens.push((await login(username)).access_token);
    const answers = await burst(
      tokens.map((token) => ({
        method: 'PUT' as const,
        path: '/auth/me',
        token,
        body: { email: 'Shared@Example.com', current_password: USER_PASSWORD },
      })),
    );
    const holders = await query<{ username: string }>(
      `SELECT username FROM users WHERE lower(email) = 'shared@example.com'`,
    );
    printTable('10 email changes to one address', [{ answers: codes(answers), 'rows with it': holders.length }]);
    const won = answers.filter((a) => a.status === 200);
    expect(won.length).toBeLessThanOrEqual(1);
    expect(answers.filter((a) => a.status === 409 && (a.body as { code: string }).code === 'EMAIL_TAKEN')).toHaveLength(
      answers.length - won.length,
    );
    expect(holders).toHaveLength(won.length);
    if (won.length === 1) expect(holders[0]!.username).toBe((won[0]!.body as { username: string }).username);
  });

  it('200 balance changes of one user at once: the final balance is the sum of the acknowledged ones', async () => {
    await register('coin_holder');
    const seed = await call(0, {
      method: 'POST',
      path: '/auth/users/coin_holder/yapcoins',
      token: admin,
      body: { delta: 20 },
    });
    expect(seed.status).toBe(200);
    // Takes larger than gives, from a small start: the balance hits zero, so INSUFFICIENT_BALANCE races too.
    const deltas = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? -7 : 3));
    const answers = await burst(
      deltas.map((delta) => ({
        method: 'POST' as const,
        path: '/auth/users/coin_holder/yapcoins',
        token: admin,
        body: { delta },
      })),
    );
    const applied = deltas.filter((_, i) => answers[i]!.status === 200).reduce((sum, d) => sum + d, 0);
    const [row] = await query<{ yapcoin_balance: number }>(
      `SELECT yapcoin_balance FROM users WHERE username = 'coin_holder'`,
    );
    const reported = answers
      .filter((a) => a.status === 200)
      .map((a) => (a.body as { yapcoin_balance: number }).yapcoin_balance);
    printTable('200 balance changes of one user', [
      {
        answers: codes(answers),
        'expected balance': 20 + applied,
        'db balance': row!.yapcoin_balance,
        'lowest reported': Math.min(...reported),
      },
    ]);
    expect(row!.yapcoin_balance).toBe(20 + applied);
    expect(Math.min(...reported)).toBeGreaterThanOrEqual(0);
    expect(answers.filter((a) => a.status === 409).length, 'the balance never reached zero').toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status, JSON.stringify(a.body)).toBe(409);
      expect((a.body as { code: string }).code).toBe('INSUFFICIENT_BALANCE');
    }
  });

  it('the last two admins demote each other at once: never zero admins, one refused', async () => {
    const created = await call(0, {
      method: 'POST',
      path: '/auth/users',
      token: admin,
      body: { username: 'second_admin', password: USER_PASSWORD, role: 'admin' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const rows: Array<Record<string, string | number>> = [];
    // A few rounds: which side wins (and whether the loser is refused as LAST_ADMIN or because the
    // winner's demotion already revoked its token) is timing; the invariant holds in every round.
    for (let round = 1; round <= 4; round += 1) {
      const first = (await login(RESILIENCE_ADMIN.username, RESILIENCE_ADMIN.password)).access_token;
      const second = (await login('second_admin')).access_token;
      const answers = await burst([
        { method: 'PUT', path: '/auth/users/second_admin', token: first, body: { role: 'regular' } },
        { method: 'PUT', path: `/auth/users/${RESILIENCE_ADMIN.username}`, token: second, body: { role: 'regular' } },
      ]);
      const admins = await query<{ username: string }>(
        `SELECT username FROM users WHERE role = 'admin' AND is_active IS NOT FALSE ORDER BY username`,
      );
      rows.push({ round, answers: codes(answers), 'admins after': admins.map((a) => a.username).join(',') });
      expect(admins.length).toBeGreaterThanOrEqual(1);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      const refused = answers.find((a) => a.status !== 200)!;
      // The contract's refusal, or the loser's token revoked by the winner's demotion (401/403).
      expect([401, 403, 409]).toContain(refused.status);
      if (refused.status === 409) expect((refused.body as { code: string }).code).toBe('LAST_ADMIN');
      // Restore two admins for the next round, by whoever is still one.
      const survivor = admins[0]!.username;
      const token = (
        await login(survivor, survivor === RESILIENCE_ADMIN.username ? RESILIENCE_ADMIN.password : USER_PASSWORD)
      ).access_token;
      const other = survivor === RESILIENCE_ADMIN.username ? 'second_admin' : RESILIENCE_ADMIN.username;
      const restored = await call(0, { method: 'PUT', path: `/auth/users/${other}`, token, body: { role: 'admin' } });
      expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    }
    printTable('the last two admins demote each other', rows);
    admin = (await login(RESILIENCE_ADMIN.username, RESILIENCE_ADMIN.password)).access_token;
  });

  // Within GATEKEEPER_REFRESH_REUSE_GRACE_SECONDS (default 10) of the one rotation that wins, the other
  // 19 presentations get the session's current pair instead of revoking the family (issue 14): all
  // 20 answer 200 with the same pair, and the session stays, one and live.
  it('one refresh token presented 20 times at once: all 200, one pair, one live session', async () => {
    await register('refresher');
    const tokens = await login('refresher');
    const answers = await burst(
      Array.from({ length: 20 }, () => ({
        method: 'POST' as const,
        path: '/auth/refresh',
        body: { refresh_token: tokens.refresh_token },
      })),
    );
    const live = await query<{ n: string }>(
      `SELECT count(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE u.username = 'refresher' AND s.revoked_at IS NULL AND s.expires_at > now()`,
    );
    const pairs = new Set(
      answers.filter((a) => a.status === 200).map((a) => (a.body as { refresh_token: string }).refresh_token),
    );
    // Whether the pair handed out still works: the session survived the burst or not.
    let pairWorks = 'n/a';
    if (pairs.size > 0) {
      const [pair] = [...pairs];
      const again = await call(1, { method: 'POST', path: '/auth/refresh', body: { refresh_token: pair } });
      pairWorks = String(again.status);
    }
    printTable('one refresh token presented 20 times at once', [
      {
        answers: codes(answers),
        'distinct refresh tokens returned': pairs.size,
        'live sessions': Number(live[0]!.n),
        'a returned token refreshed again': pairWorks,
      },
    ]);
    expect(statuses(answers)).toEqual(Array(20).fill(200));
    expect(pairs.size).toBe(1);
    expect(Number(live[0]!.n)).toBe(1);
    expect(pairWorks).toBe('200');
  });
});
