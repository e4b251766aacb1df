/**
 * Requests Node's HTTP parser refuses before routing (a bad request line, 64 KB of
 * headers) are answered over a real socket with the API's {detail, code} body and the
 * same security headers as every other response.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startGatekeeper, type TestGatekeeper } from '../support/app.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `request` on a fresh connection and reads until the server closes it. */
function exchange(port: number, request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 10 s; got ${JSON.stringify(received)}`));
    }, 10_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    // The server may close while the rest of the request is still being written: the answer counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const [head = '', body = ''] = received.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.write(request);
  });
}

describe.each(BACKENDS)('answers of the HTTP parser (%s store)', (backend) => {
  let gk: TestGatekeeper;
  let port: number;
  let reference: Headers;

  beforeAll(async () => {
    gk = await startGatekeeper(backend);
    await gk.app.listen({ host: '127.0.0.1', port: 0 });
    port = (gk.app.server.address() as { port: number }).port;
    reference = (await fetch(`http://127.0.0.1:${port}/health/live`)).headers;
  });
  afterAll(async () => {
    await gk?.close();
  });

  const expectSecurityHeaders = (answer: RawAnswer) => {
    for (const name of [
      'content-security-policy',
      'x-content-type-options',
      'x-frame-options',
      'referrer-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
    ]) {
      expect(answer.headers[name], name).toBe(reference.get(name));
    }
  };

  it('answers a malformed request line with 400 BAD_REQUEST in the error shape', async () => {
    const answer = await exchange(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toContain('application/json');
    expect(JSON.parse(answer.body)).toEqual({ detail: expect.stringContaining('HTTP'), code: 'BAD_REQUEST' });
    expectSecurityHeaders(answer);
  });

  it('answers 64 KB of headers with 431 and a detail saying so', async () => {
    const big = `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    const answer = await exchange(port, big);
    expect(answer.status).toBe(431);
    const body = JSON.parse(answer.body) as { detail: string; code: string };
    expect(body.code).toBe('BAD_REQUEST');
    expect(body.detail).toMatch(/headers are too large/);
    expect(answer.body).not.toContain('aaaa');
    expectSecurityHeaders(answer);
  });
});
