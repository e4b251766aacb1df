/**
 * Answers to requests Node's HTTP parser refuses before Fastify sees them (a malformed
 * request line, headers over Node's limit, a request that never finishes): the same
 * `{detail, code}` body and security headers as every other response, instead of
 * Fastify's default `{"error", "message", "statusCode"}` without them.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';
import { securityHeadersFor } from './security-headers.js';

interface Refusal {
  status: number;
  code: ErrorCode;
  detail: string;
}

function refusalFor(err: NodeJS.ErrnoException): Refusal {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'BAD_REQUEST',
        detail: 'The request headers are too large (at most 16 KB together); send fewer or shorter headers.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'BAD_REQUEST', detail: 'The request was not received in time.' };
    default:
      return { status: 400, code: 'BAD_REQUEST', detail: 'The request is not valid HTTP/1.1.' };
  }
}

/**
 * Fastify's clientErrorHandler: writes the answer on the raw socket and closes it (the
 * parser cannot continue after such an error). Nothing of the request is echoed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection, or one already answered or closing: nobody to tell.
  if (err.code === 'ECONNRESET' || !socket.writable) return;
  const { status, code, detail } = refusalFor(err);
  const body = JSON.stringify({ detail, code });
  const headers: Record<string, string | number> = {
    ...securityHeadersFor('/', 'encrypted' in socket && socket.encrypted === true),
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.join('')}\r\n${body}`);
}
