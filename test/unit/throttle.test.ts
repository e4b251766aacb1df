import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THROTTLE_POLICY,
  ipKey,
  lockedUntil,
  retryAfterSeconds,
  throttleKeys,
  type FailureCounter,
} from '../../src/security/throttle.js';

const t0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const counter = (count: number, lastSecond = 0, firstSecond = 0): FailureCounter => ({
  count,
  firstAt: at(firstSecond),
  lastAt: at(lastSecond),
});

describe('login throttle policy', () => {
  it('has the documented defaults: 900 s window, 5 failures per account, 50 per address', () => {
    expect(DEFAULT_THROTTLE_POLICY).toEqual({ windowSeconds: 900, accountMaxFailures: 5, ipMaxFailures: 50 });
  });

  it('keys are the lower-cased account name and the address', () => {
    expect(throttleKeys('Alice@Example.com', '203.0.113.7')).toEqual({
      account: 'account:alice@example.com',
      ip: 'ip:203.0.113.7',
    });
    expect(throttleKeys('bob', null).ip).toBeNull();
    expect(throttleKeys('bob', '').ip).toBeNull();
  });

  it('does not lock below the threshold', () => {
    expect(lockedUntil(counter(4), 5, 900)).toBeNull();
  });

  it('locks from the threshold on, doubling the delay with every further failure', () => {
    expect(lockedUntil(counter(5, 10), 5, 900)).toEqual(at(11));
    expect(lockedUntil(counter(6, 10), 5, 900)).toEqual(at(12));
    expect(lockedUntil(counter(7, 10), 5, 900)).toEqual(at(14));
    expect(lockedUntil(counter(10, 10), 5, 900)).toEqual(at(42));
  });

  it('never locks for longer than the window, nor beyond the end of the window', () => {
    // 2^100 seconds would be forever: the delay is capped at the window…
    expect(lockedUntil(counter(105, 0), 5, 900)).toEqual(at(900));
    // …and the counter expires when its window closes, which ends the lock too.
    expect(lockedUntil(counter(105, 600), 5, 900)).toEqual(at(900));
  });

  it('retryAfterSeconds() takes the later of the account and address locks, rounded up, or null', () => {
    const policy = { windowSeconds: 900, accountMaxFailures: 5, ipMaxFailures: 50 };
    expect(retryAfterSeconds(policy, {}, at(0))).toBeNull();
    expect(retryAfterSeconds(policy, { account: counter(6, 0) }, at(0.5))).toBe(2);
    expect(retryAfterSeconds(policy, { account: counter(6, 0) }, at(2))).toBeNull();
    expect(retryAfterSeconds(policy, { account: counter(6, 0), ip: counter(53, 0) }, at(1))).toBe(7);
    expect(retryAfterSeconds(policy, { ip: counter(49, 0) }, at(0))).toBeNull();
  });
});

describe('address counting keys', () => {
  it('count IPv6 addresses of one /64 under one key, and other prefixes apart', () => {
    const a = throttleKeys('alice', '2001:db8:1:2::7').ip;
    const b = throttleKeys('alice', '2001:db8:1:2:ffff:ffff:ffff:1').ip;
    const c = throttleKeys('alice', '2001:db8:1:3::7').ip;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(ipKey('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(ipKey('::ffff:203.0.113.7')).toBe('ip:203.0.113.7');
  });
});
