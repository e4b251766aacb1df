/**
 * The request logger is made lazily (src/logger.ts): requests that log nothing pay
 * nothing for it, and requests that do log get the same lines as before, request id
 * and redaction included.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger, unredactedLogger } from '../../src/logger.js';
import { REDACT_PATHS } from '../../src/redaction.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  let children = 0;
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      onChild: () => {
        children += 1;
      },
    },
    sink,
  );
  return { log, lines, children: () => children };
}

describe('lazyChildLogger', () => {
  it('makes no pino child until something is logged at an enabled level', () => {
    const { log, lines, children } = capture('warn');
    const request = lazyChildLogger(log, { reqId: 'req-1' }, {});
    request.info({ note: 'below the level' }, 'quiet');
    request.debug('quieter');
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
    expect(request.level).toBe('warn');
  });

  it('logs with the request id and the parent redaction once used, and makes the child once', () => {
    const { log, lines, children } = capture();
    const request = lazyChildLogger(log, { reqId: 'req-2' }, {});
    request.warn({ body: { password: 'pw-secret' } }, 'first');
    request.error(new Error('boom'));
    request.info('plain %s', 'message');
    expect(children()).toBe(1);
    expect(lines.map((l) => l['reqId'])).toEqual(['req-2', 'req-2', 'req-2']);
    expect(lines[0]).toMatchObject({ msg: 'first', body: { password: '[redacted]' }, level: 40 });
    expect(lines[1]).toMatchObject({ level: 50, err: { message: 'boom' } });
    expect(lines[2]).toMatchObject({ msg: 'plain message' });
    expect(JSON.stringify(lines)).not.toContain('pw-secret');
  });

  it('passes child() and level changes through to the real child', () => {
    const { log, lines } = capture();
    const request = lazyChildLogger(log, { reqId: 'req-3' }, {});
    request.child({ step: 'inner' }).info('nested');
    request.level = 'error';
    request.warn('dropped');
    expect(lines).toEqual([expect.objectContaining({ reqId: 'req-3', step: 'inner', msg: 'nested' })]);
    expect(log.level).toBe('info');
  });
});

describe('unredactedLogger', () => {
  it('writes fixed-shape lines without the wildcard redaction, leaving the parent redacting', () => {
    const { log, lines } = capture();
    unredactedLogger(log).info({ reqId: 'r', method: 'GET', url: '/auth/me', status: 200 }, 'request');
    log.info({ body: { password: 'pw-secret' } }, 'parent');
    expect(lines[0]).toMatchObject({ reqId: 'r', method: 'GET', url: '/auth/me', status: 200, msg: 'request' });
    expect(lines[1]).toMatchObject({ body: { password: '[redacted]' } });
  });
});
