/**
 * /account: the signed-in person's own profile, password, email, second factor and sessions.
 * The markup is the page's fixed skeleton (every form and status region, labelled); the script
 * (src/ui/assets/account.js) fills in the person's data and shows the parts that apply to them.
 */
import { html, type Markup } from '../html.js';
import type { PageDefinition } from '../page.js';

/** One polite live region per section, so a message is read out where the person is working. */
function status(id: string): Markup {
  return html`<p id="${id}" class="status" role="status" aria-live="polite" hidden></p>`;
}

function passwordField(id: string, label: string, autocomplete: string): Markup {
  return html`<label for="${id}">${label}</label>
    <input id="${id}" name="${id}" type="password" autocomplete="${autocomplete}" required maxlength="128" />`;
}

const profile = html`<section class="panel" id="profile" aria-labelledby="profile-heading">
  <h2 id="profile-heading" tabindex="-1">Profile</h2>
  <dl class="facts" id="profile-facts">
    <dt>Username</dt>
    <dd id="fact-username"></dd>
    <dt>Email</dt>
    <dd><span id="fact-email"></span> <span id="fact-email-badge" class="badge"></span></dd>
    <dt>Role</dt>
    <dd id="fact-role"></dd>
    <dt>Account created</dt>
    <dd id="fact-created"></dd>
  </dl>
  <div id="email-confirm" hidden>
    <p>Your email address is not confirmed yet. Use the code from the confirmation mail, or its link.</p>
    <button type="button" id="resend-verification" class="secondary">Send the confirmation mail again</button>
    <form id="verify-code-form">
      <label for="verify-code">Enter the 6-digit code from the mail</label>
      <input
        id="verify-code"
        name="code"
        type="text"
        inputmode="numeric"
        autocomplete="one-time-code"
        pattern="[0-9]{6}"
        minlength="6"
        maxlength="6"
        required
      />
      <button type="submit">Confirm the address</button>
    </form>
  </div>
  <form id="profile-form">
    <label for="profile-username"
      >Username <span class="hint">3 to 50 letters, digits, “_” or “-”.</span></label
    >
    <input
      id="profile-username"
      name="username"
      type="text"
      autocomplete="username"
      required
      minlength="3"
      maxlength="50"
      pattern="[A-Za-z0-9_\\-]+"
    />
    <label for="profile-picture"
      >Profile picture URL <span class="hint">An http or https address; leave empty for none.</span></label
    >
    <input id="profile-picture" name="profile_picture_url" type="url" autocomplete="photo" maxlength="500" />
    <button type="submit">Save the profile</button>
  </form>
  ${status('profile-status')}
</section>`;

const password = html`<section class="panel" id="password" aria-labelledby="password-heading">
  <h2 id="password-heading">Change password</h2>
  <p class="muted">
    Every other session ends when the password changes: other devices and apps have to sign in again. This
    one stays signed in.
  </p>
  <form id="password-form">
    ${passwordField('current-password', 'Current password', 'current-password')}
    ${passwordField('new-password', 'New password', 'new-password')}
    ${passwordField('repeat-password', 'The new password again', 'new-password')}
    <button type="submit">Change the password</button>
  </form>
  ${status('password-status')}
</section>`;

const email = html`<section class="panel" id="email" aria-labelledby="email-heading">
  <h2 id="email-heading">Change email</h2>
  <p class="muted">We send a confirmation mail to the new address, and a notice to the old one.</p>
  <form id="email-form">
    <label for="new-email">New email address</label>
    <input id="new-email" name="email" type="email" autocomplete="email" required maxlength="255" />
    ${passwordField('email-password', 'Current password', 'current-password')}
    <button type="submit">Change the email address</button>
  </form>
  ${status('email-status')}
</section>`;

const mfa = html`<section class="panel" id="mfa" aria-labelledby="mfa-heading">
  <h2 id="mfa-heading">Two-step sign-in</h2>
  <p id="mfa-state" class="muted"></p>
  <div id="mfa-off" hidden>
    <p>
      With two-step sign-in, signing in needs a code from an authenticator app on your phone as well as your
      password.
    </p>
    <form id="mfa-setup-form">
      ${passwordField('mfa-setup-password', 'Current password', 'current-password')}
      <button type="submit">Set up</button>
    </form>
  </div>
  <div id="mfa-setup" hidden>
    <h3 id="mfa-setup-heading" tabindex="-1">Scan the QR code</h3>
    <p>Scan it with your authenticator app, or type the key below into the app.</p>
    <div id="mfa-qr" class="qr" role="img" aria-label="QR code for your authenticator app"></div>
    <p>Key for manual entry: <code id="mfa-secret" class="secret"></code></p>
    <p><a id="mfa-link" href="#">Open in an authenticator app on this device</a></p>
    <form id="mfa-confirm-form">
      <label for="mfa-confirm-code">Code from the app</label>
      <input
        id="mfa-confirm-code"
        name="code"
        type="text"
        inputmode="numeric"
        autocomplete="one-time-code"
        pattern="[0-9]{6}"
        minlength="6"
        maxlength="6"
        required
      />
      <button type="submit">Turn on two-step sign-in</button>
    </form>
  </div>
  <div id="mfa-codes" hidden>
    <h3 id="mfa-codes-heading" tabindex="-1">Your recovery codes</h3>
    <p><strong>Save these now: each works once, they will not be shown again.</strong></p>
    <p class="muted">Use one instead of a code from the app if you lose your phone.</p>
    <ol id="mfa-code-list" class="codes"></ol>
    <div class="actions">
      <button type="button" id="mfa-codes-copy" class="secondary" hidden>Copy</button>
      <button type="button" id="mfa-codes-done">Done, I saved them</button>
    </div>
  </div>
  <div id="mfa-on" hidden>
    <form id="mfa-disable-form">
      ${passwordField('mfa-disable-password', 'Current password', 'current-password')}
      <label for="mfa-disable-code"
        >Code from the app, or a recovery code <span class="hint">Such as 123456 or abcd-efgh-jkmn.</span></label
      >
      <input id="mfa-disable-code" name="code" type="text" autocomplete="one-time-code" required maxlength="64" />
      <button type="submit" class="danger">Turn off</button>
    </form>
  </div>
  ${status('mfa-status')}
</section>`;

const sessions = html`<section class="panel" id="sessions" aria-labelledby="sessions-heading">
  <h2 id="sessions-heading" tabindex="-1">Sessions</h2>
  <p class="muted">The devices and apps signed in to your account. End any you do not recognise.</p>
  <div class="table-wrap">
    <table id="sessions-table" aria-labelledby="sessions-heading">
      <thead>
        <tr>
          <th scope="col">Device</th>
          <th scope="col">Address</th>
          <th scope="col">Started</th>
          <th scope="col">Last used</th>
          <th scope="col"><span class="visually-hidden">Action</span></th>
        </tr>
      </thead>
      <tbody id="sessions-body"></tbody>
    </table>
  </div>
  <button type="button" id="sign-out-everywhere" class="danger">Sign out everywhere</button>
  ${status('sessions-status')}
</section>`;

export const ACCOUNT_PAGES: PageDefinition[] = [
  {
    path: '/account',
    title: 'Your account',
    script: 'account.js',
    signedIn: true,
    body: () =>
      html`<div class="account" id="account" hidden>${profile} ${password} ${email} ${mfa} ${sessions}</div>
        ${status('status')}`,
  },
];
