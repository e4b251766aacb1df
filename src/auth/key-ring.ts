/**
 * The asymmetric signing keys of a running instance, loaded from the store so that
 * every instance on one database signs and verifies with the same keys (issue 5,
 * point 4). The newest active key signs; retired keys keep verifying until the
 * tokens they signed have expired. A rotation made elsewhere (another instance,
 * `gatekeeper keys rotate`) is picked up when a token with an unknown `kid`
 * arrives, and by a periodic reload before signing.
 */
import type { CryptoKey } from 'jose';
import { generateSigningKey, loadSigningKey, stillVerifies, type LoadedSigningKey } from '../security/signing-keys.js';
import type { SigningKeys } from '../security/tokens.js';
import { type Store } from '../store/store.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../core/algorithms.js';

export interface KeyRingOptions {
  store: Store;
  algorithm: SigningAlgorithm;
  /** Access-token lifetime: how long a retired key must still verify. */
  accessTokenSeconds: number;
  /** Seconds between reloads from the store before signing or publishing; default 60. */
  refreshSeconds?: number;
  now?: () => Date;
  log?: { warn(obj: object, msg: string): void };
}

/** An unknown `kid` reloads the keys at most this often, so forged headers cannot hammer the database. */
const UNKNOWN_KID_RELOAD_MS = 1000;

export class KeyRing implements SigningKeys {
  readonly algorithm: SigningAlgorithm;
  readonly #options: KeyRingOptions;
  readonly #now: () => Date;
  readonly #refreshMs: number;
  #keys = new Map<string, LoadedSigningKey>();
  #active: LoadedSigningKey | undefined;
  #loadedAt = -Infinity;
  #loading: Promise<void> | null = null;

  private constructor(options: KeyRingOptions) {
    this.algorithm = options.algorithm;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#refreshMs = (options.refreshSeconds ?? 60) * 1000;
  }

  /**
   * Loads the keys of `algorithm`, first creating one if the store has none (of
   * several instances starting together on an empty table, the first writer wins).
   * @example const keys = await KeyRing.open({ store, algorithm: 'EdDSA', accessTokenSeconds: 1800 });
   */
  static async open(options: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(options);
    await ring.reload();
    return ring;
  }

  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    if (this.#now().getTime() - this.#loadedAt >= this.#refreshMs) await this.#reloadKeepingKeys();
    const active = this.#active;
    if (!active) throw new Error('the key ring has no active key'); // reload() always sets one
    return { kid: active.kid, key: active.privateKey };
  }

  async verificationKey(kid: string | undefined): Promise<CryptoKey | null> {
    if (kid === undefined) return null;
    if (!this.#keys.has(kid) && this.#now().getTime() - this.#loadedAt >= UNKNOWN_KID_RELOAD_MS) {
      await this.#reloadKeepingKeys();
    }
    const key = this.#keys.get(kid);
    return key && this.#verifies(key) ? key.publicKey : null;
  }

  async jwks(): Promise<{ keys: object[] }> {
    if (this.#now().getTime() - this.#loadedAt >= this.#refreshMs) await this.#reloadKeepingKeys();
    return { keys: [...this.#keys.values()].filter((k) => this.#verifies(k)).map((k) => k.publicJwk) };
  }

  /** Reads the keys from the store again (one reload at a time; concurrent callers share it). */
  reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const { store, algorithm, accessTokenSeconds } = this.#options;
    const now = this.#now();
    let records = await store.listSigningKeys(algorithm);
    if (!records.some((r) => r.retiredAt === null)) {
      await store.addSigningKeyIfNone(await generateSigningKey(algorithm, now));
      records = await store.listSigningKeys(algorithm);
    }
    const keys = new Map<string, LoadedSigningKey>();
    for (const record of records) {
      if (!stillVerifies(record, accessTokenSeconds, now)) continue;
      // Keys already imported are reused: importing costs more than the query.
      keys.set(record.kid, this.#keys.get(record.kid) ?? (await loadSigningKey(record)));
    }
    // A key imported while active may have been retired since: take the stored state.
    for (const record of records) {
      const key = keys.get(record.kid);
      if (key) key.retiredAt = record.retiredAt;
    }
    const active = [...keys.values()].find((k) => k.retiredAt === null);
    if (!active) throw new Error(`no active ${algorithm} signing key in the store`);
    this.#keys = keys;
    this.#active = active;
    this.#loadedAt = now.getTime();
  }

  /** Reload, but keep serving the current keys if the store cannot be read right now. */
  async #reloadKeepingKeys(): Promise<void> {
    try {
      await this.reload();
    } catch (err) {
      if (!this.#active) throw err;
      this.#options.log?.warn({ err }, 'could not reload signing keys; using the ones loaded before');
    }
  }

  #verifies(key: LoadedSigningKey): boolean {
    return stillVerifies(key, this.#options.accessTokenSeconds, this.#now());
  }
}

export interface RotationResult {
  algorithm: SigningAlgorithm;
  /** The new signing key. */
  kid: string;
  /** The key it replaced, which keeps verifying until its tokens have expired; null if there was none. */
  previousKid: string | null;
}

/**
 * Adds a new signing key and retires the current one (`gatekeeper keys rotate`).
 * Every instance signs with the new key after its next reload (at most a minute);
 * tokens signed with the old key stay valid until they expire. Recorded in the
 * audit trail as `key.rotate`.
 * @throws TypeError for HS256, which has one shared secret and no key ring.
 * @example const { kid } = await rotateSigningKey(store, 'EdDSA');
 */
export async function rotateSigningKey(
  store: Store,
  algorithm: string,
  options: { now?: Date; by?: string | null } = {},
): Promise<RotationResult> {
  const asymmetric = SIGNING_ALGORITHMS.find((a) => a === algorithm);
  if (asymmetric === undefined) {
    throw new TypeError(
      `key rotation needs GATEKEEPER_JWT_ALGORITHM set to ${SIGNING_ALGORITHMS.join(', ')} (got ${algorithm}); ` +
        'with HS256, change GATEKEEPER_SECRET_KEY instead',
    );
  }
  const now = options.now ?? new Date();
  const key = await generateSigningKey(asymmetric, now);
  const previous = await store.rotateSigningKey(key);
  await store.recordAuditEvent({
    at: now,
    event: 'key.rotate',
    username: null,
    userId: null,
    ip: null,
    detail: { algorithm: asymmetric, kid: key.kid, previous_kid: previous?.kid ?? null, by: options.by ?? null },
  });
  return { algorithm: asymmetric, kid: key.kid, previousKid: previous?.kid ?? null };
}
