import { describe, expect, it } from 'vitest';
import { isGatekeeperError } from '../../src/errors.js';
import { WorkQueue } from '../../src/security/work-queue.js';

describe('WorkQueue fair share', () => {
  it('a key holds at most max(1, floor(maxQueued / 4)) tickets; others are still admitted', () => {
    const queue = new WorkQueue(1, 8);
    expect(queue.share).toBe(2);
    const held = [queue.reserve([{ key: 'ip:a' }]), queue.reserve([{ key: 'ip:a' }])];
    let refused: unknown;
    try {
      queue.reserve([{ key: 'ip:a' }]);
    } catch (err) {
      refused = err;
    }
    expect(isGatekeeperError(refused, 'OVERLOADED')).toBe(true);
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBe(1);
    // Another address is not refused for the first one's share.
    const other = queue.reserve([{ key: 'ip:b' }]);
    expect(queue.heldBy('ip:a')).toBe(2);
    held[0]!.release();
    held[0]!.release(); // idempotent
    expect(queue.heldBy('ip:a')).toBe(1);
    queue.reserve([{ key: 'ip:a' }]).release();
    other.release();
    expect(queue.heldBy('ip:b')).toBe(0);
  });

  it('a claim added later with its own share refuses and leaves the earlier claims to release()', () => {
    const queue = new WorkQueue(1, 0);
    expect(queue.share).toBe(1);
    const ticket = queue.reserve([{ key: 'ip:a' }]);
    ticket.claim({ key: 'account:x', share: 3 });
    expect(() => queue.reserve([{ key: 'ip:b' }, { key: 'ip:a' }])).toThrow(/busy/);
    // The refused reservation gave back what it had charged.
    expect(queue.heldBy('ip:b')).toBe(0);
    ticket.release();
    expect(queue.heldBy('ip:a') + queue.heldBy('account:x')).toBe(0);
  });

  it('runs jobs through the ticket within the global bound', async () => {
    const queue = new WorkQueue(1, 1);
    const ticket = queue.reserve([{ key: 'k' }]);
    await expect(ticket.run(async () => 42)).resolves.toBe(42);
    ticket.release();
  });
});
