/**
 * The pages mails link to: GET /reset-password and GET /verify-email. The token is in the URL
 * fragment, which a browser never sends, so fetching the link (a mail scanner prefetching it)
 * spends nothing; only the page's script reads it, and only a person's click POSTs it (with the
 * new password to /auth/password/reset; alone to /auth/email/verify). Each page is one
 * self-contained response: its inline script and style are allowed by their hashes in its own
 * CSP, and nothing else loads.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin-top:1rem}input{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.2rem;padding:.5rem 1.2rem;font-size:1rem}#result{margin-top:1rem;font-weight:600}`;

const RESET_SCRIPT = `(function () {
  var form = document.getElementById('reset');
  var result = document.getElementById('result');
  var token = new URLSearchParams(location.hash.slice(1)).get('token');
  // Out of the address bar and the history: the token stays in this page only.
  history.replaceState(null, '', location.pathname + location.search);
  if (!token) {
    form.hidden = true;
    result.textContent = 'This link has no reset token. Open the link from the mail again, or ask for a new one.';
    return;
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    // The user's own two entries, compared in their browser: no timing to hide here.
    var chosen = form.elements.namedItem('password').value;
    var repeated = form.elements.namedItem('confirm').value;
    if (chosen !== repeated) {
      result.textContent = 'The two passwords differ.';
      return;
    }
    var button = form.querySelector('button');
    button.disabled = true;
    result.textContent = 'Changing the password…';
    fetch('auth/password/reset', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: token, new_password: chosen }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (response.ok) {
            form.hidden = true;
            result.textContent = body.message;
            return;
          }
          var problems = (body.errors || []).map(function (e) { return e.message; }).join('; ');
          result.textContent = (body.detail || 'The password was not changed.') + (problems ? ' (' + problems + ')' : '');
          button.disabled = response.status === 400;
        });
      })
      .catch(function () {
        result.textContent = 'The server could not be reached; try again.';
        button.disabled = false;
      });
  });
})();`;

const VERIFY_SCRIPT = `(function () {
  var form = document.getElementById('verify');
  var result = document.getElementById('result');
  var token = new URLSearchParams(location.hash.slice(1)).get('token');
  history.replaceState(null, '', location.pathname + location.search);
  if (!token) {
    form.hidden = true;
    result.textContent = 'This link has no confirmation token. Open the link from the mail again.';
    return;
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var button = form.querySelector('button');
    button.disabled = true;
    result.textContent = 'Confirming…';
    fetch('auth/email/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: token }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (response.ok) {
            form.hidden = true;
            result.textContent = 'Thank you: ' + body.email + ' is confirmed as the address of ' + body.username + '.';
            return;
          }
          result.textContent = body.detail || 'The address was not confirmed.';
        });
      })
      .catch(function () {
        result.textContent = 'The server could not be reached; try again.';
        button.disabled = false;
      });
  });
})();`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** A page's own policy: its inline script and style by hash, requests to its own origin only. */
function pagePolicy(script: string): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const RESET_PAGE_CSP = pagePolicy(RESET_SCRIPT);
export const VERIFY_PAGE_CSP = pagePolicy(VERIFY_SCRIPT);

function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${title}</h1>
${body}
<p id="result" role="status" aria-live="polite"></p>
</main>
<script>${script}</script>
</body>
</html>
`;
}

const RESET_PAGE = page(
  'Choose a new password',
  `<form id="reset" novalidate>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required maxlength="128">
<label for="confirm">The new password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required maxlength="128">
<button type="submit">Change the password</button>
</form>`,
  RESET_SCRIPT,
);

const VERIFY_PAGE = page(
  'Confirm your email address',
  `<form id="verify" novalidate>
<p>Confirm that this mailbox belongs to your account.</p>
<button type="submit">Confirm my email address</button>
</form>`,
  VERIFY_SCRIPT,
);

/** Registers GET /reset-password and GET /verify-email (not in the OpenAPI document: pages, not an API). */
export function registerLinkPages(app: FastifyInstance): void {
  const serve = (url: string, html: string, policy: string) =>
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', policy)
        .header('cache-control', 'no-store')
        .send(html);
    });
  serve('/reset-password', RESET_PAGE, RESET_PAGE_CSP);
  serve('/verify-email', VERIFY_PAGE, VERIFY_PAGE_CSP);
}
