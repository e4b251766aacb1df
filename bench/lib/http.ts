/** Set-up requests (creating users, logging them in) made by the orchestrator before a measurement. */

export const PASSWORD = 'Bench-pass-1!';

export interface Tokens {
  access: string;
  refresh: string;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function expectOk(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
  return response;
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function usernames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** Registers users through POST /auth/register (so their hashes are the service's own level). */
export async function registerUsers(baseUrl: string, names: string[]): Promise<void> {
  await mapLimit(names, 4, async (username) => {
    await expectOk(
      await postJson(`${baseUrl}/auth/register`, { username, password: PASSWORD }),
      `register ${username}`,
    );
  });
}

export async function login(baseUrl: string, username: string, password = PASSWORD): Promise<Tokens> {
  const r = await expectOk(await postJson(`${baseUrl}/auth/login`, { username, password }), `login ${username}`);
  const body = (await r.json()) as { access_token: string; refresh_token: string };
  return { access: body.access_token, refresh: body.refresh_token };
}

/** Logs in every name `times` times (each login is a session of its own). */
export async function loginAll(baseUrl: string, names: string[], times = 1): Promise<Tokens[]> {
  const jobs = names.flatMap((n) => Array.from({ length: times }, () => n));
  return mapLimit(jobs, 4, (username) => login(baseUrl, username));
}

export async function getText(url: string, headers: Record<string, string> = {}): Promise<string> {
  return (await expectOk(await fetch(url, { headers }), `GET ${url}`)).text();
}
