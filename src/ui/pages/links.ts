/**
 * The pages mails link to: /reset-password and /verify-email. The token is in the URL fragment,
 * which a browser never sends, so fetching the link (a mail scanner prefetching it) spends nothing;
 * only the page's script reads it, and only a person's click POSTs it.
 */
import { html } from '../html.js';
import type { PageDefinition } from '../page.js';

const status = html`<p id="status" class="status" role="status" aria-live="polite" hidden></p>`;

export const LINK_PAGES: PageDefinition[] = [
  {
    path: '/reset-password',
    title: 'Choose a new password',
    script: 'links.js',
    signedIn: false,
    body: () =>
      html`<form id="reset" class="panel" novalidate>
          <label for="password">New password</label>
          <input id="password" name="password" type="password" autocomplete="new-password" required maxlength="128" />
          <label for="confirm">The new password again</label>
          <input id="confirm" name="confirm" type="password" autocomplete="new-password" required maxlength="128" />
          <button type="submit">Change the password</button>
        </form>
        ${status}
        <p id="after-reset" hidden><a href="/login">Sign in with the new password</a></p>`,
  },
  {
    path: '/verify-email',
    title: 'Confirm your email address',
    script: 'links.js',
    signedIn: false,
    body: () =>
      html`<form id="verify" class="panel" novalidate>
          <p>Confirm that this mailbox belongs to your account.</p>
          <button type="submit">Confirm my email address</button>
        </form>
        ${status}`,
  },
];
