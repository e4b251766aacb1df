import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from '../../src/security/recovery-codes.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { isTotpCode, matchTotp, newTotpSecret, totpUrl } from '../../src/security/totp.js';

const MATERIAL = 'test-secret-key-that-is-long-enough-0123456789';

describe('SecretBox (AES-256-GCM under an HKDF-derived key)', () => {
  it('opens what it sealed, for the same record only, and not under another key', () => {
    const box = new SecretBox(MATERIAL);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.seal('JBSWY3DPEHPK3PXP', 'user-1')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'user-2')).toBeNull();
    expect(new SecretBox(`${MATERIAL}x`).open(sealed, 'user-1')).toBeNull();
    const [v, kid, iv, body] = sealed.split('.') as [string, string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(box.open([v, kid, iv, flipped.toString('base64url')].join('.'), 'user-1')).toBeNull();
    expect(box.open('garbage', 'user-1')).toBeNull();
    expect(box.open(`v1.${kid}.${iv}.AA`, 'user-1')).toBeNull();
  });

  it('the key id names the derived key, never the material', () => {
    const box = new SecretBox(MATERIAL);
    expect(box.keyId).toBe(new SecretBox(MATERIAL).keyId);
    expect(box.keyId).not.toBe(new SecretBox('another-key-material-0123456789abcdef').keyId);
    expect(MATERIAL).not.toContain(box.keyId);
  });
});

describe('TOTP (RFC 6238)', () => {
  const at = new Date('2026-12-01T10:00:15.000Z');
  const epoch = at.getTime() / 1000;

  it('matches the current step and one step either side, not two; gives the matched step', async () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const step = Math.floor(epoch / 30);
    expect(await matchTotp(secret, await generate({ secret, epoch }), at)).toBe(step);
    expect(await matchTotp(secret, await generate({ secret, epoch: epoch - 30 }), at)).toBe(step - 1);
    expect(await matchTotp(secret, await generate({ secret, epoch: epoch + 30 }), at)).toBe(step + 1);
    expect(await matchTotp(secret, await generate({ secret, epoch: epoch - 60 }), at)).toBeNull();
    expect(await matchTotp(secret, await generate({ secret, epoch: epoch + 60 }), at)).toBeNull();
    expect(await matchTotp(secret, '12345', at)).toBeNull();
    expect(await matchTotp(secret, 'abcdef', at)).toBeNull();
  });

  it('the otpauth URL carries issuer, account and secret', () => {
    const url = new URL(totpUrl('JBSWY3DPEHPK3PXP', 'Acme ID', 'ada'));
    expect(url.protocol).toBe('otpauth:');
    expect(url.searchParams.get('secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(url.searchParams.get('issuer')).toBe('Acme ID');
    expect(decodeURIComponent(url.pathname)).toContain('ada');
    expect(isTotpCode(' 123456 ')).toBe(true);
    expect(isTotpCode('abcd-efgh-jkmn')).toBe(false);
  });
});

describe('recovery codes', () => {
  it('ten distinct 60-bit codes in Crockford base32; typed forms hash alike', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){2}$/);
    const code = codes[0]!;
    expect(hashRecoveryCode(code.toUpperCase().replaceAll('-', ' '))).toBe(hashRecoveryCode(code));
    expect(normalizeRecoveryCode('O1IL-abcd')).toBe('0111abcd');
    expect(hashRecoveryCode(code)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(codes[1]!)).not.toBe(hashRecoveryCode(code));
  });
});
