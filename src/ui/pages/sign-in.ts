/** The pages for signing in: /login (with its MFA step, also at /mfa), /register, /forgot-password. */
import { html } from '../html.js';
import type { PageDefinition } from '../page.js';

/** The default policy's rule (src/core/password-policies.ts, 'reynard'). */
const PASSWORD_HINT =
  '8 to 128 characters, with an uppercase and a lowercase letter, a digit and one of !@#$%^&*(),.?":{}|<>';

const status = html`<p id="status" class="status" role="status" aria-live="polite" hidden></p>`;

export const SIGN_IN_PAGES: PageDefinition[] = [
  {
    path: '/login',
    title: 'Sign in',
    script: 'sign-in.js',
    signedIn: false,
    body: () =>
      html`<p id="https-notice" class="status" data-kind="error" hidden>
          This page was opened over plain HTTP. Sign-in needs HTTPS here: open the same address with https://.
        </p>
        <form id="login" class="panel" novalidate>
          <label for="username">Username or email</label>
          <input id="username" name="username" type="text" autocomplete="username" required maxlength="255" />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="128" />
          <button type="submit">Sign in</button>
        </form>
        <form id="mfa" class="panel" novalidate hidden>
          <p>Your account asks for a second step.</p>
          <label for="code">Code from your authenticator app, or a recovery code</label>
          <input
            id="code"
            name="code"
            type="text"
            inputmode="text"
            autocomplete="one-time-code"
            autocapitalize="off"
            spellcheck="false"
            required
            maxlength="64"
          />
          <button type="submit">Continue</button>
        </form>
        ${status}
        <p class="sign-in-links">
          <a id="forgot-link" href="/forgot-password">Forgot your password?</a>
          <a id="register-link" href="/register" hidden>Create an account</a>
        </p>`,
  },
  {
    path: '/mfa',
    title: 'Second sign-in step',
    script: 'sign-in.js',
    signedIn: false,
    body: () =>
      html`<div class="panel">
        <p>Sign in first: the code from your authenticator app is asked for right after your password.</p>
        <p><a href="/login">Sign in</a></p>
      </div>`,
  },
  {
    path: '/register',
    title: 'Create an account',
    script: 'sign-in.js',
    signedIn: false,
    needsRegistration: true,
    body: () =>
      html`<form id="register" class="panel" novalidate>
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            type="text"
            autocomplete="username"
            required
            minlength="3"
            maxlength="50"
            aria-describedby="username-hint"
          />
          <p id="username-hint" class="hint">3 to 50 letters, digits, _ or -.</p>
          <label for="email">Email address (optional)</label>
          <input id="email" name="email" type="email" autocomplete="email" maxlength="255" aria-describedby="email-hint" />
          <p id="email-hint" class="hint">Needed to recover your password if you forget it.</p>
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="new-password"
            required
            maxlength="128"
            aria-describedby="password-hint"
          />
          <p id="password-hint" class="hint">
            ${PASSWORD_HINT}
          </p>
          <label for="confirm">The password again</label>
          <input id="confirm" name="confirm" type="password" autocomplete="new-password" required maxlength="128" />
          <button type="submit">Create the account</button>
        </form>
        ${status}
        <p class="sign-in-links"><a id="login-link" href="/login">Already have an account? Sign in</a></p>`,
  },
  {
    path: '/forgot-password',
    title: 'Forgot your password?',
    script: 'sign-in.js',
    signedIn: false,
    body: () =>
      html`<form id="forgot" class="panel" novalidate>
          <p>We will send a link to choose a new password to the email address of your account.</p>
          <label for="account">Email address or username</label>
          <input id="account" name="account" type="text" autocomplete="username" required maxlength="255" />
          <button type="submit">Send the link</button>
        </form>
        ${status}
        <p class="sign-in-links"><a id="login-link" href="/login">Back to sign in</a></p>`,
  },
];
