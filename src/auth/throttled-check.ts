/**
 * One throttled check of something only the account's owner knows (a password, a TOTP or
 * recovery code), charged to the account's login budget (login-throttle.ts) like a login:
 * whatever endpoint a guesser uses (login, its MFA step, change-password, MFA setup or
 * disable), the guesses come out of one counter, so alternating between them gains nothing.
 */
import type { AuditEventType } from '../core/audit-events.js';
import { GatekeeperError } from '../errors.js';
import { throttleKeys } from '../security/throttle.js';
import type { WorkTicket } from '../security/work-queue.js';
import type { UserRecord } from '../store/store.js';
import type { RequestContext } from './actor.js';
import { subjectOf } from './audit-trail.js';
import type { UseCaseDeps } from './deps.js';
import type { ChargedAttempt } from './login-throttle.js';

export interface ThrottledCheck {
  /** The audit event of a failure (and of a refusal while locked). */
  event: AuditEventType;
  /** Audited with every failure and refusal (e.g. `{action: 'change-password'}`). */
  detail: Record<string, unknown>;
  /** The reason audited when `verify` says no (e.g. 'wrong-password', 'wrong-code'). */
  failureReason: string;
  /** Thrown when `verify` says no and the address is not throttled. */
  wrong: () => GatekeeperError;
  /** Password checks pass their hash-queue ticket: a throttled address gets a small share of it. */
  ticket?: WorkTicket;
  /**
   * Whether a success clears the account's counter (default true). False for the password step
   * of an MFA login: only the second factor's success ends the story, else a guesser who knows
   * the password could reset the counter between code guesses.
   */
  clearOnSuccess?: boolean;
}

/**
 * Charges the attempt (TOO_MANY_ATTEMPTS while locked), runs `verify`, and on a failure
 * records it (audited) and throws `wrong()`, or TOO_MANY_ATTEMPTS for a throttled address.
 */
export async function throttledCheck(
  deps: UseCaseDeps,
  user: UserRecord,
  context: RequestContext,
  check: ThrottledCheck,
  verify: () => Promise<boolean>,
): Promise<ChargedAttempt> {
  const { throttle, hasher, audit } = deps;
  const ip = context.ip ?? null;
  const keys = throttleKeys(user.username, ip);
  const base = { event: check.event, at: deps.now(), ip, ...subjectOf(user) };
  check.ticket?.claim({ key: keys.account });
  const attempt = await throttle.charge(keys, { ...base, detail: { ...check.detail, reason: 'throttled' } });
  if (attempt.addressThrottled) {
    check.ticket?.claim({ key: `throttled-${keys.ip}`, share: Math.max(1, Math.floor(hasher.queue.share / 4)) });
  }
  if (await verify()) {
    if (check.clearOnSuccess !== false) await throttle.recordSuccess(attempt);
    return attempt;
  }
  const entry = { ...base, detail: { ...check.detail, reason: check.failureReason } };
  const wait = await throttle.recordFailure(attempt, entry);
  await audit.record(entry);
  if (wait !== null) {
    throw new GatekeeperError('TOO_MANY_ATTEMPTS', 'Too many failed attempts; try again later.', {
      retryAfterSeconds: wait,
    });
  }
  throw check.wrong();
}

/**
 * The account's password, checked as above (INVALID_PASSWORD when wrong, audited as
 * reauth.failure with `action`): what change-password, an email change and the MFA setup and
 * disable ask for. `clearOnSuccess` false where a code check follows in the same request.
 */
export async function checkPassword(
  deps: UseCaseDeps,
  user: UserRecord,
  password: string,
  action: string,
  context: RequestContext,
  ticket: WorkTicket,
  clearOnSuccess = true,
): Promise<void> {
  await throttledCheck(
    deps,
    user,
    context,
    {
      event: 'reauth.failure',
      detail: { action },
      failureReason: 'wrong-password',
      wrong: () => new GatekeeperError('INVALID_PASSWORD', 'The current password is wrong.'),
      ticket,
      clearOnSuccess,
    },
    async () => (await deps.hasher.verify(user.passwordHash, password, ticket)).ok,
  );
}
