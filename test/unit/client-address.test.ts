import { describe, expect, it } from 'vitest';
import { clientAddressKey, isClientAddress } from '../../src/core/client-address.js';
import { proxyTrust } from '../../src/http/client-address.js';

describe('clientAddressKey: the counting key of a client address', () => {
  it('keeps IPv4 as it is', () => {
    expect(clientAddressKey('203.0.113.7')).toBe('203.0.113.7');
  });

  it('groups IPv6 by its /64, however the address is written', () => {
    expect(clientAddressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(clientAddressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('leaves anything that is not an address unchanged', () => {
    expect(clientAddressKey('unknown')).toBe('unknown');
  });
});

describe('isClientAddress', () => {
  it('accepts plain addresses and refuses the rest', () => {
    for (const ok of ['127.0.0.1', '::1', '2001:db8::1', '::ffff:10.0.0.1']) expect(isClientAddress(ok)).toBe(true);
    for (const bad of ['<script>', '1.2.3.4:80', 'fe80::1%eth0', `fe80::1%${'a'.repeat(8000)}`, '', '01.2.3.4'])
      expect(isClientAddress(bad)).toBe(false);
  });
});

describe('proxyTrust', () => {
  it('is off for false', () => {
    expect(proxyTrust(false)).toBe(false);
  });

  it('trusts exactly the given number of hops from the socket', () => {
    const trust = proxyTrust(2);
    expect(trust && [trust('10.0.0.1', 0), trust('10.0.0.2', 1), trust('10.0.0.3', 2)]).toEqual([true, true, false]);
  });

  it('trusts listed addresses and blocks, including IPv4-mapped socket addresses', () => {
    const trust = proxyTrust(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    if (!trust) throw new Error('expected a trust function');
    expect(trust('10.200.0.1', 0)).toBe(true);
    expect(trust('::ffff:127.0.0.1', 0)).toBe(true);
    expect(trust('fd12::1', 1)).toBe(true);
    expect(trust('11.0.0.1', 0)).toBe(false);
    expect(trust('<script>', 1)).toBe(false);
  });
});
