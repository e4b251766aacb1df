/**
 * Encryption at rest for small secrets (TOTP secrets): AES-256-GCM under a key derived with
 * HKDF-SHA256 from the service's key material, so the material itself is never used as a key
 * and other uses of it (the HS256 signing secret) stay independent. The record it belongs to
 * (the user id) is the additional authenticated data: a ciphertext copied onto another user's
 * row does not decrypt. Sealed form: `v1.<key id>.<iv>.<ciphertext+tag>` (base64url), where the
 * key id (a hash of the derived key) says which key sealed it, so a changed key is recognised.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const INFO = 'gatekeeper/totp-secret/v1';
const SALT = 'gatekeeper';

export class SecretBox {
  readonly #key: Buffer;
  /** 8 hex digits of SHA-256 of the derived key: names the key without revealing it. */
  readonly keyId: string;

  /** @example const box = new SecretBox(process.env.GATEKEEPER_SECRET_KEY!); */
  constructor(keyMaterial: string) {
    if (keyMaterial.length === 0) throw new TypeError('SecretBox needs key material');
    this.#key = Buffer.from(hkdfSync('sha256', keyMaterial, SALT, INFO, 32));
    this.keyId = createHash('sha256').update(this.#key).digest('hex').slice(0, 8);
  }

  seal(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return ['v1', this.keyId, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The plaintext, or null when `sealed` is malformed, sealed under another key or for another record. */
  open(sealed: string, boundTo: string): string | null {
    const [version, keyId, ivText, bodyText] = sealed.split('.');
    if (version !== 'v1' || keyId !== this.keyId || ivText === undefined || bodyText === undefined) return null;
    const body = Buffer.from(bodyText, 'base64url');
    if (body.length < 16) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(ivText, 'base64url'));
      decipher.setAAD(Buffer.from(boundTo));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
