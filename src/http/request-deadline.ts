/**
 * GATEKEEPER_REQUEST_DEADLINE_SECONDS: a request still being handled when its deadline passes (a
 * lock, a silent connection, a queue) is answered 503 OVERLOADED with Retry-After, and whatever its
 * handler answers later is dropped (src/http/error-handler.ts).
 *
 * Not Fastify's `handlerTimeout`: Fastify stops that timer when the request stream emits `close`,
 * which Node 20 does as soon as a request body has been read, so over a real socket every POST
 * lost its deadline (found by the resilience suite's black-hole scenario; `inject` does not show it).
 * The timer here stops when the response closes, that is when it was sent or the client went away.
 */
import type { FastifyInstance } from 'fastify';

/** The `code` of the error a passed deadline sends through the error handler. */
export const REQUEST_DEADLINE_PASSED = 'GATEKEEPER_REQUEST_DEADLINE_PASSED';

class RequestDeadlinePassed extends Error {
  readonly code = REQUEST_DEADLINE_PASSED;
  constructor(ms: number) {
    super(`request not handled within ${ms} ms`);
  }
}

/** Adds the deadline to every route of `app` (and of the plugins registered in it); 0 or less: none. */
export function addRequestDeadline(app: FastifyInstance, seconds: number): void {
  const ms = Math.round(seconds * 1000);
  if (!(ms > 0)) return;
  app.addHook('onRequest', (request, reply, done) => {
    const timer = setTimeout(() => {
      // Answered already, or streaming an answer: nothing to add (a second response would throw).
      if (reply.sent || reply.raw.headersSent) return;
      void reply.send(new RequestDeadlinePassed(ms));
    }, ms);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}
