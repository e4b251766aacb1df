import { describe, expect, it } from 'vitest';
import { CLIENT_ID_PATTERN, redirectUriProblem } from '../../src/core/oauth-clients.js';
import { GatekeeperError } from '../../src/errors.js';
import { clientCredentialsOf } from '../../src/http/client-credentials.js';
import { REDACT_PATHS } from '../../src/redaction.js';
import {
  hashClientSecret,
  newClientId,
  newClientSecret,
  verifyClientSecret,
} from '../../src/security/client-secrets.js';

const basic = (joined: string) => `Basic ${Buffer.from(joined, 'utf8').toString('base64')}`;

describe('clientCredentialsOf (RFC 6749 §2.3.1)', () => {
  it('form-decodes the Basic user and password after base64', () => {
    expect(clientCredentialsOf(basic('orders+service:s3cr%3At%26%C3%BC'), {})).toEqual({
      clientId: 'orders service',
      clientSecret: 's3cr:t&ü',
    });
    // The first colon separates: an encoded secret never holds a raw one, a raw one may.
    expect(clientCredentialsOf(basic('gk_a:b:c'), {})).toEqual({ clientId: 'gk_a', clientSecret: 'b:c' });
    expect(clientCredentialsOf(`basic  ${Buffer.from('gk_a:b').toString('base64')}`, {})).toEqual({
      clientId: 'gk_a',
      clientSecret: 'b',
    });
  });

  it('an unreadable Basic header is no credentials (a failed authentication for the caller)', () => {
    for (const header of [basic('no-colon'), basic(':secret'), basic('gk_a:%zz'), 'Basic !!!', 'Basic']) {
      expect(clientCredentialsOf(header, {}), header).toBeNull();
    }
  });

  it('takes client_secret_post, treats empty parameters as absent, and ignores other schemes', () => {
    expect(clientCredentialsOf(undefined, { client_id: 'gk_a', client_secret: 's' })).toEqual({
      clientId: 'gk_a',
      clientSecret: 's',
    });
    expect(clientCredentialsOf(undefined, { client_id: 'gk_a' })).toEqual({ clientId: 'gk_a', clientSecret: '' });
    expect(clientCredentialsOf(undefined, { client_id: '', client_secret: '' })).toBeNull();
    expect(clientCredentialsOf(basic('gk_a:s'), { client_id: '' })).toEqual({ clientId: 'gk_a', clientSecret: 's' });
    expect(clientCredentialsOf('Bearer abc.def.ghi', {})).toBeNull();
    expect(clientCredentialsOf(undefined, {})).toBeNull();
  });

  it('refuses two methods at once with BAD_REQUEST', () => {
    expect(() => clientCredentialsOf(basic('gk_a:s'), { client_id: 'gk_a' })).toThrow(GatekeeperError);
    expect(() => clientCredentialsOf(basic('gk_a:s'), { client_secret: 's' })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
  });
});

describe('client secrets', () => {
  it('ids and secrets are random, of the documented shape', () => {
    const ids = new Set(Array.from({ length: 50 }, newClientId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(CLIENT_ID_PATTERN);
    expect(newClientSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newClientSecret()).not.toBe(newClientSecret());
  });

  it('verifies against the stored SHA-256 only for the exact secret', () => {
    const secret = newClientSecret();
    const hash = hashClientSecret(secret);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyClientSecret(secret, hash)).toBe(true);
    expect(verifyClientSecret(`${secret} `, hash)).toBe(false);
    expect(verifyClientSecret('', hash)).toBe(false);
    expect(verifyClientSecret(secret, 'not-a-hash')).toBe(false);
  });

  it('the log redaction covers the secret and the token of an introspection request', () => {
    expect(REDACT_PATHS).toEqual(expect.arrayContaining(['*.client_secret', '*.token']));
  });
});

describe('redirectUriProblem', () => {
  it.each([
    'https://app.example/callback',
    'https://app.example/cb?x=1',
    'http://localhost:3000/cb',
    'http://127.0.0.1/cb',
    'http://[::1]:8080/cb',
    'com.example.app:/oauth2redirect',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeNull();
  });

  it.each([
    '',
    '/relative/cb',
    'https://app.example/cb#fragment',
    'https://app.example/cb#',
    'http://app.example/cb',
    'javascript:alert(1)',
    'data:text/html,hi',
    `https://app.example/${'a'.repeat(2000)}`,
  ])('refuses %j', (uri) => {
    expect(redirectUriProblem(uri)).not.toBeNull();
  });
});
