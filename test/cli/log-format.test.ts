/**
 * Start-up output for people and for programs: one readable line per entry on a
 * terminal (LOG_FORMAT=auto, the default) or with LOG_FORMAT=text; JSON lines when
 * stdout is not a terminal or with LOG_FORMAT=json.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatLogLine, resolveLogFormat } from '../../src/logger.js';
import { startService, type ServiceProcess } from '../support/process.js';

describe('LOG_FORMAT', { timeout: 120_000 }, () => {
  let service: ServiceProcess | undefined;
  afterEach(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    service = undefined;
  });

  const startLineOf = (output: string) => output.split('\n').find((line) => line.includes('listening on http://'));

  it('text: the start line is one readable line, not JSON', async () => {
    service = await startService({ GATEKEEPER_BACKEND: 'memory', LOG_FORMAT: 'text', LOG_LEVEL: 'info' });
    const line = startLineOf(service.output());
    expect(line).toMatch(/^\d\d:\d\d:\d\d INFO {2}Gatekeeper \S+ listening on http:\/\/127\.0\.0\.1:\d+ /);
    expect(service.output()).toMatch(/^\d\d:\d\d:\d\d WARN {2}GATEKEEPER_BACKEND=memory/m);
    expect(service.output()).not.toContain('{"level"');
  });

  it('auto on a pipe (not a terminal): JSON lines, as a log collector reads them', async () => {
    service = await startService({ GATEKEEPER_BACKEND: 'memory', LOG_LEVEL: 'info' });
    const line = startLineOf(service.output());
    expect(JSON.parse(line ?? '')).toMatchObject({ level: 30, msg: expect.stringContaining('listening on') });
  });

  it('auto is text on a terminal and JSON otherwise; json and text are taken as they are', () => {
    expect(resolveLogFormat('auto', true)).toBe('text');
    expect(resolveLogFormat('auto', undefined)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('text', false)).toBe('text');
  });

  it('the text line keeps an error message and extra fields, one line each', () => {
    const line = formatLogLine(
      JSON.stringify({ level: 50, time: 0, pid: 1, hostname: 'h', msg: 'failed', err: { message: 'boom' }, code: 3 }),
    );
    expect(line).toMatch(/^\d\d:\d\d:\d\d ERROR failed \(boom\) code=3\n$/);
  });
});
