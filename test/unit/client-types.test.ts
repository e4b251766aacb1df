/**
 * The typed client (src/client) and the OpenAPI document agree: types generated from the
 * app's document (openapi-typescript, in-process, memory store) list every path and method
 * the client calls. A client call the document lacks fails here. Also checks that the
 * response checker of the contract test (test/support/openapi-contract.ts) does refuse what
 * the document does not describe, so its silence in test/http/openapi-contract.test.ts means something.
 */
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatekeeperClient } from '../../src/client/client.js';
import { startGatekeeper, type TestGatekeeper } from '../support/app.js';
import { ContractChecker, type OpenApiDocument } from '../support/openapi-contract.js';

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** `METHOD /path/{param}` for every operation the generated `paths` interface declares (not `?: never`). */
function operationsOfGeneratedTypes(source: string): Set<string> {
  const file = ts.createSourceFile('openapi.d.ts', source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found = new Set<string>();
  for (const statement of file.statements) {
    if (!ts.isInterfaceDeclaration(statement) || statement.name.text !== 'paths') continue;
    for (const pathMember of statement.members) {
      if (!ts.isPropertySignature(pathMember) || !pathMember.type || !ts.isTypeLiteralNode(pathMember.type)) continue;
      const path = (pathMember.name as ts.StringLiteral).text;
      for (const member of pathMember.type.members) {
        if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
        const method = member.name.text;
        if (!METHODS.has(method) || member.type?.kind === ts.SyntaxKind.NeverKeyword) continue;
        found.add(`${method.toUpperCase()} ${path}`);
      }
    }
  }
  return found;
}

/** The client's calls: every public method run once against a fetch that records and answers 200. */
async function clientCalls(): Promise<{ methods: string[]; calls: Array<{ name: string; call: string }> }> {
  const calls: Array<{ name: string; call: string }> = [];
  const methods: string[] = [];
  let current = '';
  const client = new GatekeeperClient({
    baseUrl: 'http://gatekeeper.test',
    tokens: { access_token: 'access', refresh_token: 'refresh' },
    fetch: async (input, init) => {
      calls.push({ name: current, call: `${init.method ?? 'GET'} ${new URL(input).pathname}` });
      const tokens = {
        access_token: 'a',
        refresh_token: 'r',
        token_type: 'bearer',
        expires_in: 1,
        refresh_expires_in: 1,
      };
      return new Response(JSON.stringify(tokens), { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });
  const prototype = GatekeeperClient.prototype as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    if (name === 'constructor' || name === 'setTokens' || typeof descriptor?.value !== 'function') continue;
    current = name;
    methods.push(name);
    // Plausible arguments for every signature: a username or password first, then a password or a number.
    const method = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    await method.call(client, 'someone', 'Other-Secret1!');
    // logout clears the pair: sign in again for the next method.
    client.setTokens({ access_token: 'access', refresh_token: 'refresh' });
  }
  return { methods, calls };
}

/** The generated operation a concrete call belongs to (`{param}` matches one path segment). */
function templateOf(call: string, operations: Set<string>): string | undefined {
  return [...operations].find((operation) => {
    const pattern = operation
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${pattern}$`).test(call);
  });
}

describe('the typed client and the OpenAPI document', () => {
  let gatekeeper: TestGatekeeper;
  let document: OpenApiDocument;

  beforeAll(async () => {
    gatekeeper = await startGatekeeper('memory');
    const response = await gatekeeper.app.inject({ method: 'GET', url: '/openapi.json' });
    document = response.json() as OpenApiDocument;
  });
  afterAll(async () => {
    await gatekeeper?.close();
  });

  it('every path and method the client calls is an operation of the generated types', async () => {
    const operations = operationsOfGeneratedTypes(astToString(await openapiTS(document as never)));
    expect(operations.size).toBeGreaterThanOrEqual(20);
    expect(operations).toContain('GET /auth/users/{username}');

    const { methods, calls } = await clientCalls();
    // Every public method made at least one request (none escaped the comparison).
    expect(methods.length).toBeGreaterThanOrEqual(15);
    expect(methods.filter((name) => !calls.some((c) => c.name === name))).toEqual([]);
    const missing = calls.filter(({ call }) => templateOf(call, operations) === undefined);
    expect(missing).toEqual([]);
  });

  it('finds a call the document lacks (the check above can fail)', () => {
    const operations = new Set(['GET /auth/users/{username}', 'POST /auth/login']);
    expect(templateOf('GET /auth/users/alice', operations)).toBe('GET /auth/users/{username}');
    expect(templateOf('DELETE /auth/users/alice', operations)).toBeUndefined();
    expect(templateOf('GET /auth/users/alice/sessions', operations)).toBeUndefined();
  });
});

describe('the contract checker of test/support/openapi-contract.ts', () => {
  let gatekeeper: TestGatekeeper;
  let checker: ContractChecker;
  const json = { 'content-type': 'application/json; charset=utf-8' };
  const user = {
    id: '2f1d7e0c-6a55-4d47-9a8a-1a4d3c2b1a00',
    username: 'alice',
    role: 'regular',
    email: null,
    email_verified: false,
    profile_picture_url: null,
    yapcoin_balance: 0,
    is_active: true,
    created_at: '2026-11-27T21:50:20.123Z',
    updated_at: '2026-11-27T21:50:20.123Z',
    metadata: {},
    mfa_enabled: false,
  };
  const check = (method: string, path: string, status: number, headers: Record<string, string>, body: unknown) =>
    checker.check(method, new URL(`http://x${path}`), status, new Headers(headers), JSON.stringify(body)).problems;

  beforeAll(async () => {
    gatekeeper = await startGatekeeper('memory');
    checker = new ContractChecker(
      (await gatekeeper.app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApiDocument,
    );
  });
  afterAll(async () => {
    await gatekeeper?.close();
  });

  it('accepts an answer the document describes', () => {
    expect(check('GET', '/auth/me', 200, json, user)).toEqual([]);
    expect(check('GET', '/auth/users', 200, { ...json, 'x-total-count': '1' }, [user])).toEqual([]);
    expect(
      check(
        'GET',
        '/auth/me',
        401,
        { ...json, 'www-authenticate': 'Bearer' },
        { detail: 'No.', code: 'NOT_AUTHENTICATED' },
      ),
    ).toEqual([]);
  });

  it('refuses undocumented statuses, media types, bodies, missing headers and unknown routes', () => {
    expect(check('GET', '/auth/me', 418, json, user)).toHaveLength(1);
    expect(check('GET', '/auth/me', 200, { 'content-type': 'text/html' }, user)).toHaveLength(1);
    const { id: _id, ...withoutId } = user;
    expect(check('GET', '/auth/me', 200, json, withoutId)).toHaveLength(1);
    expect(check('GET', '/auth/me', 200, json, { ...user, role: 'emperor' })).toHaveLength(1);
    expect(check('GET', '/auth/me', 200, json, { ...user, created_at: 'yesterday' })).toHaveLength(1);
    expect(check('GET', '/auth/users', 200, json, [user])).toHaveLength(1);
    expect(check('GET', '/auth/me', 401, json, { detail: 'No.', code: 'NOT_AUTHENTICATED' })).toHaveLength(1);
    expect(
      check('GET', '/auth/me', 401, { ...json, 'www-authenticate': 'Bearer' }, { detail: 'No.', code: 'NOPE' }),
    ).toHaveLength(1);
    expect(check('POST', '/auth/login', 429, json, { detail: 'Wait.', code: 'TOO_MANY_ATTEMPTS' })).toHaveLength(1);
    expect(check('PATCH', '/auth/me', 200, json, user)).toHaveLength(1);
  });
});
