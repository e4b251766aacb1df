/*
 * /login (password, then the MFA step in the same page: the mfa_token never goes into a URL),
 * /register and /forgot-password. The session arrives as HttpOnly cookies; this script never sees it.
 */
(function () {
  'use strict';
  var G = window.Gatekeeper;
  var statusBox = document.getElementById('status');
  var LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

  function destination() {
    return G.returnTo() || '/account';
  }

  /** Keeps the checked return_to on the links between the sign-in pages. */
  function keepReturnTo(link) {
    if (link && G.returnTo()) {
      link.setAttribute('href', link.getAttribute('href') + '?return_to=' + encodeURIComponent(G.returnTo()));
    }
  }

  function signInPage(loginForm) {
    var mfaForm = document.getElementById('mfa');
    var codeField = document.getElementById('code');
    var mfaToken = null;
    var registerLink = document.getElementById('register-link');
    registerLink.hidden = document.body.getAttribute('data-registration') !== 'true';
    keepReturnTo(registerLink);
    keepReturnTo(document.getElementById('forgot-link'));

    // The session cookies are Secure off localhost: over plain http the browser would drop them.
    if (location.protocol === 'http:' && LOCAL_HOSTS.indexOf(location.hostname) < 0) {
      document.getElementById('https-notice').hidden = false;
    }

    // Signed in already (a valid cookie): nothing to ask. api() directly: requireUser would redirect here.
    G.api('GET', '/auth/me').then(function (result) {
      if (result.ok) location.assign(destination());
    });

    function backToPassword(text) {
      mfaToken = null;
      mfaForm.hidden = true;
      loginForm.hidden = false;
      loginForm.reset();
      G.status(statusBox, text, 'error');
      document.getElementById('username').focus();
    }

    function signedIn(result) {
      if (result.ok && result.body.signed_in) {
        G.status(statusBox, 'Signed in.', 'ok');
        location.assign(destination());
        return true;
      }
      return false;
    }

    G.onSubmit(loginForm, function (fields) {
      G.status(statusBox, 'Signing in…');
      return G.api('POST', '/auth/session', { username: fields.username, password: fields.password }).then(
        function (result) {
          if (signedIn(result)) return;
          if (result.ok && result.body.mfa_required) {
            mfaToken = result.body.mfa_token;
            loginForm.hidden = true;
            mfaForm.hidden = false;
            codeField.value = '';
            G.status(statusBox, '');
            codeField.focus();
            return;
          }
          G.status(statusBox, G.message(result), 'error');
        },
      );
    });

    G.onSubmit(mfaForm, function (fields) {
      G.status(statusBox, 'Checking the code…');
      return G.api('POST', '/auth/session/mfa', { mfa_token: mfaToken, code: fields.code.trim() }).then(
        function (result) {
          if (signedIn(result)) return;
          if (result.body.code === 'INVALID_TOKEN') {
            backToPassword('This sign-in step has expired; enter your password again.');
            return;
          }
          G.status(statusBox, G.message(result), 'error');
          codeField.select();
        },
      );
    });
  }

  function registerPage(form) {
    keepReturnTo(document.getElementById('login-link'));
    G.onSubmit(form, function (fields) {
      // The person's own two entries, compared in their browser.
      if (fields.password !== fields.confirm) {
        G.status(statusBox, 'The two passwords differ.', 'error');
        return;
      }
      var body = { username: fields.username.trim(), password: fields.password };
      if (fields.email.trim()) body.email = fields.email.trim();
      G.status(statusBox, 'Creating the account…');
      return G.api('POST', '/auth/register', body).then(function (result) {
        if (!result.ok) {
          G.status(statusBox, G.message(result), 'error');
          return;
        }
        G.status(statusBox, 'The account is created. Signing in…', 'ok');
        return G.api('POST', '/auth/session', { username: body.username, password: body.password }).then(
          function (session) {
            if (session.ok && session.body.signed_in) {
              location.assign(destination());
              return;
            }
            form.hidden = true;
            G.status(
              statusBox,
              G.message(session, {
                EMAIL_NOT_VERIFIED: 'The account is created. Check your mail to confirm the address, then sign in.',
              }),
              session.body.code === 'EMAIL_NOT_VERIFIED' ? 'ok' : 'error',
            );
          },
        );
      });
    });
  }

  function forgotPage(form) {
    keepReturnTo(document.getElementById('login-link'));
    G.onSubmit(form, function (fields) {
      var account = fields.account.trim();
      var body = account.indexOf('@') >= 0 ? { email: account } : { username: account };
      G.status(statusBox, 'Sending…');
      return G.api('POST', '/auth/password/forgot', body).then(function (result) {
        if (result.ok) {
          // The same words whether or not the account exists: the page must not tell.
          G.status(
            statusBox,
            'If an account matches, we have sent a link to choose a new password to its email address. ' +
              'The link is valid for 30 minutes. If no mail arrives, check your spam folder.',
            'ok',
          );
          return;
        }
        G.status(
          statusBox,
          G.message(result, {
            TOO_MANY_ATTEMPTS: 'Too many requests. Try again in ' + G.waitWords(result.retryAfter) + '.',
          }),
          'error',
        );
      });
    });
  }

  var login = document.getElementById('login');
  var register = document.getElementById('register');
  var forgot = document.getElementById('forgot');
  if (login) signInPage(login);
  if (register) registerPage(register);
  if (forgot) forgotPage(forgot);
})();
