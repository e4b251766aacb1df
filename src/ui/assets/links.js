/*
 * /reset-password and /verify-email: read the token from the link's fragment (never sent to any
 * server, so it stays out of logs and proxies), take it out of the address bar, and spend it only
 * when the person submits the form. A second link pasted into the same tab changes only the
 * fragment: the page picks it up (hashchange) instead of keeping the first one.
 */
(function () {
  'use strict';
  var G = window.Gatekeeper;
  var statusBox = document.getElementById('status');
  var resetForm = document.getElementById('reset');
  var verifyForm = document.getElementById('verify');
  var form = resetForm || verifyForm;
  var token = null;

  function readToken() {
    var fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromLink) {
      token = fromLink;
      // Out of the address bar and the history: the token stays in this page only.
      history.replaceState(null, '', location.pathname + location.search);
      form.hidden = false;
      G.status(statusBox, '');
    } else if (!token) {
      form.hidden = true;
      G.status(
        statusBox,
        resetForm
          ? 'This link has no reset token. Open the link from the mail again, or ask for a new one.'
          : 'This link has no confirmation token. Open the link from the mail again.',
        'error',
      );
    }
  }
  readToken();
  window.addEventListener('hashchange', readToken);

  if (resetForm) {
    G.onSubmit(resetForm, function (fields) {
      // The person's own two entries, compared in their browser: nothing to keep secret here.
      if (fields.password !== fields.confirm) {
        G.status(statusBox, 'The two passwords differ.', 'error');
        return;
      }
      G.status(statusBox, 'Changing the password…');
      return G.api('POST', '/auth/password/reset', { token: token, new_password: fields.password }).then(
        function (result) {
          if (result.ok) {
            resetForm.hidden = true;
            token = null;
            G.status(statusBox, result.body.message, 'ok');
            document.getElementById('after-reset').hidden = false;
            return;
          }
          G.status(
            statusBox,
            G.message(result, {
              INVALID_TOKEN: 'This link has expired or was used already. Ask for a new one on the sign-in page.',
            }),
            'error',
          );
        },
      );
    });
  }

  if (verifyForm) {
    G.onSubmit(verifyForm, function () {
      G.status(statusBox, 'Confirming…');
      return G.api('POST', '/auth/email/verify', { token: token }).then(function (result) {
        if (result.ok) {
          verifyForm.hidden = true;
          token = null;
          G.status(
            statusBox,
            'Thank you: ' + result.body.email + ' is confirmed as the address of ' + result.body.username + '.',
            'ok',
          );
          return;
        }
        G.status(
          statusBox,
          G.message(result, { INVALID_TOKEN: 'This link has expired or was used already. Ask for a new mail.' }),
          'error',
        );
      });
    });
  }
})();
