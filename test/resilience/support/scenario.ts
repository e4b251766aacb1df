/**
 * What the outage, failover and instances scenarios share: the register and login operations of
 * their load, a probe that keeps the headers the load driver does not (Retry-After), polling with a
 * deadline, and the lost-write check (acknowledged registrations missing from the database).
 */
import pg from 'pg';
import { send, type LoadRequest, type LoadResult, type Operation } from './load.js';
import { USER_PASSWORD } from './service.js';

/** Registrations of fresh usernames (`<prefix>_<seq>`), the write whose acknowledgement we check. */
export function registrations(prefix: string, weight = 1): Operation {
  return {
    name: 'register',
    weight,
    request: ({ seq }) => ({
      method: 'POST',
      path: '/auth/register',
      body: { username: `${prefix}_${seq}`, password: USER_PASSWORD },
      key: `${prefix}_${seq}`,
    }),
  };
}

/** Logins of users registered beforehand, with the right password (no throttling involved). */
export function logins(usernames: string[], weight = 1): Operation {
  return {
    name: 'login',
    weight,
    request: ({ seq }) => ({
      method: 'POST',
      path: '/auth/login',
      body: { username: usernames[seq % usernames.length]!, password: USER_PASSWORD },
    }),
  };
}

export interface ProbeAnswer {
  /** HTTP status, or 0 when no answer came (then `error` says why). */
  status: number;
  retryAfter: string | null;
  ms: number;
  body: unknown;
  error?: string;
}

/** One request with a deadline, keeping Retry-After; never throws. */
export async function probe(baseUrl: string, req: LoadRequest, timeoutMs = 10_000): Promise<ProbeAnswer> {
  const answer = await send(baseUrl, req, timeoutMs);
  if ('error' in answer) return { status: 0, retryAfter: null, ms: answer.latencyMs, body: null, error: answer.error };
  return { status: answer.status, retryAfter: answer.retryAfter, ms: answer.latencyMs, body: answer.body };
}

/** Repeats `probeOnce` every `intervalMs` until `stop` aborts, collecting every answer. */
export async function probeLoop(
  probeOnce: () => Promise<ProbeAnswer>,
  stop: AbortSignal,
  intervalMs = 200,
): Promise<ProbeAnswer[]> {
  const answers: ProbeAnswer[] = [];
  while (!stop.aborted) {
    answers.push(await probeOnce());
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return answers;
}

/** Polls `check` until it returns true; resolves with the ms it took, rejects past the deadline. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves after `ms`: for holding a fault open for a scenario's window (not for racing an event). */
export const hold = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The usernames among `names` that the database at `url` does not have. */
export async function missingUsers(url: string, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ username: string }>(
      'SELECT username FROM users WHERE username = ANY($1::text[])',
      [names],
    );
    const present = new Set(rows.map((row) => row.username));
    return names.filter((name) => !present.has(name));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Registers `usernames` before a scenario's load (each must get 201). */
export async function registerAll(baseUrl: string, usernames: string[]): Promise<void> {
  for (const username of usernames) {
    const answer = await probe(baseUrl, {
      method: 'POST',
      path: '/auth/register',
      body: { username, password: USER_PASSWORD },
    });
    if (answer.status !== 201)
      throw new Error(`registering ${username}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

/** The statuses a load got, over all operations, that are not in `allowed`. */
export function unexpectedStatuses(result: LoadResult, allowed: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, stats] of Object.entries(result.operations)) {
    for (const [status, n] of Object.entries(stats.answered)) {
      if (!allowed.includes(Number(status))) out[`${name} ${status}`] = n;
    }
  }
  return out;
}

/** The largest latency (ms) the load saw on answered requests. */
export function maxLatency(result: LoadResult): number {
  return Math.max(0, ...Object.values(result.operations).flatMap((stats) => stats.latenciesMs));
}

/** "503×4 (Retry-After on all)" style summary of probe answers. */
export function describeProbes(answers: ProbeAnswer[]): string {
  const counts: Record<string, number> = {};
  for (const a of answers)
    counts[a.status === 0 ? (a.error ?? 'none') : String(a.status)] =
      (counts[a.status === 0 ? (a.error ?? 'none') : String(a.status)] ?? 0) + 1;
  return (
    Object.entries(counts)
      .map(([k, n]) => `${k}×${n}`)
      .join(' ') || '-'
  );
}
