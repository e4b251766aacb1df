import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/auth/audit-trail.js';
import { RefusalAudit } from '../../src/auth/refusal-audit.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { testClock } from '../support/clock.js';

describe('RefusalAudit', () => {
  it('writes the first refusal of a key at once, counts the rest, and writes the count when the interval ends', async () => {
    const store = new MemoryStore();
    const clock = testClock();
    const refusals = new RefusalAudit(new AuditTrail(store), clock.now, 60);
    const entry = () => ({
      event: 'login.failure' as const,
      at: clock.now(),
      ip: '192.0.2.1',
      username: 'u',
      userId: null,
      detail: { reason: 'throttled' },
    });
    for (let i = 0; i < 10; i += 1) await refusals.record('account:u', entry());
    await refusals.record('account:v', { ...entry(), username: 'v' });
    const rows = () => store.listAuditEvents({ limit: 100 });
    expect((await rows()).map((r) => r.detail['refusals'])).toEqual([1, 1]);
    await refusals.flushDue(); // the interval has not ended yet
    expect(await rows()).toHaveLength(2);
    clock.advance(60);
    await refusals.flushDue();
    const written = await rows();
    expect(written).toHaveLength(3);
    expect(written.filter((r) => r.username === 'u').reduce((s, r) => s + (r.detail['refusals'] as number), 0)).toBe(
      10,
    );
    await refusals.close();
    // After close every refusal is written as it comes.
    await refusals.record('account:u', entry());
    expect(await rows()).toHaveLength(4);
  });
});
