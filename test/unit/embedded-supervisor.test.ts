import { describe, expect, it } from 'vitest';
import { postmasterRuns, superviseEmbedded } from '../../src/compose/embedded-supervisor.js';
import type { EmbeddedPostgres } from '../../src/store/postgres/embedded.js';

/** A server whose data directory holds no postmaster.pid: to the supervisor it has died. */
const dead: EmbeddedPostgres = {
  url: 'postgresql://x@127.0.0.1:1/x',
  adminUrl: 'postgresql://x@127.0.0.1:1/postgres',
  port: 1,
  dataDir: '/nonexistent/gatekeeper-supervisor-test',
  version: '17',
  stop: async () => undefined,
};

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !condition();) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('superviseEmbedded', () => {
  it('sees a data directory without a running postmaster as down', () => {
    expect(postmasterRuns(dead.dataDir)).toBe(false);
  });

  it('gives up after the bounded attempts, logging each, and then reports not alive', async () => {
    const lines: string[] = [];
    let tries = 0;
    const supervisor = superviseEmbedded(
      dead,
      async () => {
        tries += 1;
        throw new Error('port 1 on 127.0.0.1 is already in use');
      },
      { checkMs: 10, attempts: 2, log: (line) => lines.push(line) },
    );
    try {
      expect(supervisor.alive()).toBe(true);
      await until(() => !supervisor.alive());
      expect(tries).toBe(2);
      expect(lines.filter((l) => /restarting it \(attempt \d of 2\)/.test(l))).toHaveLength(2);
      expect(lines.at(-1)).toMatch(/^gave up restarting embedded PostgreSQL after 2 attempts/);
    } finally {
      supervisor.stop();
    }
  });

  it('carries on with the restarted server', async () => {
    const restarted = { ...dead, dataDir: process.cwd() };
    const supervisor = superviseEmbedded(dead, async () => restarted, { checkMs: 10 });
    try {
      await until(() => supervisor.current() === restarted);
      expect(supervisor.alive()).toBe(true);
    } finally {
      supervisor.stop();
    }
  });
});
