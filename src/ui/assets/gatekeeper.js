/*
 * What every page shares (window.Gatekeeper): calls to the JSON API with the session cookie and the
 * CSRF header, one silent refresh when the access token has run out, the contract's error codes in
 * plain words, and small DOM helpers. Plain browser JavaScript, no build step and no framework: the
 * pages are a handful of forms and tables (docs/ARCHITECTURE.md, "Pages").
 *
 * The session lives in HttpOnly cookies (src/http/browser-session.ts): no token is ever visible here.
 */
(function () {
  'use strict';

  var TIMEOUT_MS = 15000;
  var SIGNED_OUT = ['NOT_AUTHENTICATED', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'INVALID_TOKEN'];
  var refreshing = null;

  /** fetch with a deadline; resolves {ok, status, body, retryAfter}, never rejects. */
  function send(method, path, body) {
    var controller = new AbortController();
    var timer = setTimeout(function () {
      controller.abort();
    }, TIMEOUT_MS);
    var headers = { 'x-gatekeeper-csrf': '1', accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    })
      .then(function (response) {
        var retryAfter = Number(response.headers.get('retry-after')) || null;
        var total = response.headers.get('x-total-count');
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (json) {
            return {
              ok: response.ok,
              status: response.status,
              body: json,
              retryAfter: retryAfter,
              total: total === null ? null : Number(total),
            };
          });
      })
      .catch(function () {
        return {
          ok: false,
          status: 0,
          body: { code: 'NETWORK', detail: 'The server could not be reached. Check the connection and try again.' },
          retryAfter: null,
          total: null,
        };
      })
      .finally(function () {
        clearTimeout(timer);
      });
  }

  /** One refresh for every call that found the access token gone; true when the session lives on. */
  function refresh() {
    if (!refreshing) {
      refreshing = send('POST', '/auth/session/refresh').then(function (result) {
        refreshing = null;
        return result.ok;
      });
    }
    return refreshing;
  }

  /**
   * Calls the JSON API as the signed-in person. `path` is absolute ('/auth/me'). An expired access
   * token is refreshed once (the refresh cookie is sent only to /auth/session) and the call repeated.
   */
  function api(method, path, body) {
    return send(method, path, body).then(function (result) {
      if (result.status !== 401 || SIGNED_OUT.indexOf(result.body.code) < 0 || path.indexOf('/auth/session') === 0) {
        return result;
      }
      return refresh().then(function (alive) {
        return alive ? send(method, path, body) : result;
      });
    });
  }

  function waitWords(seconds) {
    if (!seconds) return 'a while';
    if (seconds < 90) return seconds + (seconds === 1 ? ' second' : ' seconds');
    var minutes = Math.ceil(seconds / 60);
    return minutes + ' minutes';
  }

  var WORDS = {
    INVALID_CREDENTIALS: 'The username or password is not right.',
    INVALID_PASSWORD: 'Your current password is not right.',
    INVALID_CODE: 'That code is not right, or it was used already. Enter the current code from your app, or an unused recovery code.',
    EMAIL_NOT_VERIFIED:
      'Your email address is not confirmed yet. We have sent a new confirmation mail: open its link, then sign in.',
    USERNAME_TAKEN: 'That username is taken. Choose another one.',
    EMAIL_TAKEN: 'That email address belongs to another account.',
    REGISTRATION_DISABLED: 'New accounts cannot be created here. Ask an administrator for one.',
    REAUTHENTICATION_REQUIRED: 'To change this, enter your current password as well.',
    LAST_ADMIN: 'This would leave no active administrator, so it was not done.',
    FORBIDDEN: 'You are not allowed to do this.',
    NOT_AUTHENTICATED: 'You are signed out. Sign in again.',
    TOKEN_EXPIRED: 'You are signed out. Sign in again.',
    TOKEN_REVOKED: 'This session has ended. Sign in again.',
    INVALID_REFRESH_TOKEN: 'This session has ended. Sign in again.',
    MFA_ALREADY_ENABLED: 'Two-step sign-in is on already.',
    MFA_NOT_ENABLED: 'Two-step sign-in is not on.',
    EMAIL_ALREADY_VERIFIED: 'This email address is confirmed already.',
    USER_NOT_FOUND: 'There is no such user.',
    SESSION_NOT_FOUND: 'That session has ended already.',
    CROSS_SITE_REQUEST: 'The request was refused because it did not come from this site. Reload the page.',
    PAYLOAD_TOO_LARGE: 'That is too much text.',
  };

  /** The answer's error in plain words; `overrides` maps a code to this page's own wording. */
  function message(result, overrides) {
    var code = result.body && result.body.code;
    if (overrides && overrides[code]) return overrides[code];
    if (code === 'TOO_MANY_ATTEMPTS') {
      return (
        'Too many attempts. For the account’s protection, sign-in is paused: try again in ' +
        waitWords(result.retryAfter) +
        '. An administrator can lift the pause sooner.'
      );
    }
    if (code === 'DATABASE_UNAVAILABLE' || code === 'OVERLOADED') {
      return 'The service is busy right now. Try again in ' + waitWords(result.retryAfter) + '.';
    }
    if (code === 'VALIDATION_ERROR') {
      var problems = (result.body.errors || []).map(function (e) {
        return e.message;
      });
      return problems.length > 0 ? 'Please check: ' + problems.join('; ') + '.' : result.body.detail;
    }
    if (WORDS[code]) return WORDS[code];
    return (result.body && result.body.detail) || 'Something went wrong. Try again.';
  }

  /** Shows `text` in a status element (an aria-live region in the markup); kind: 'error' | 'ok' | 'info'. */
  function status(element, text, kind) {
    element.textContent = text || '';
    element.setAttribute('data-kind', kind || 'info');
    element.hidden = !text;
  }

  /** Builds an element: el('td', {class: 'x'}, 'text', child). Text is always text, never markup. */
  function el(tag, attributes) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === false || value === null || value === undefined) return;
      if (name === 'text') node.textContent = value;
      else if (name.indexOf('on') === 0 && typeof value === 'function') node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** A form's fields as an object of strings (checkboxes: booleans). */
  function values(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name) return;
      out[field.name] = field.type === 'checkbox' ? field.checked : field.value;
    });
    return out;
  }

  /**
   * Runs `handler(values, form)` on submit with the submit button disabled until it settles; the
   * browser's own validation (required, maxlength) runs first.
   */
  function onSubmit(form, handler) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = form.querySelector('[type=submit]');
      if (button) button.disabled = true;
      form.setAttribute('aria-busy', 'true');
      Promise.resolve()
        .then(function () {
          return handler(values(form), form);
        })
        .finally(function () {
          if (button) button.disabled = false;
          form.removeAttribute('aria-busy');
        });
    });
  }

  /** The checked `return_to` the page was served with, or null. */
  function returnTo() {
    return document.body.getAttribute('data-return-to') || null;
  }

  /** The current page's path and query, as a `return_to` for /login. */
  function here() {
    return location.pathname + location.search;
  }

  function signInUrl() {
    return '/login?return_to=' + encodeURIComponent(here());
  }

  /**
   * The signed-in user (GET /auth/me), or off to /login (returning here afterwards). Also shows the
   * admin console link to admins and wires the sign-out button.
   */
  function requireUser() {
    return api('GET', '/auth/me').then(function (result) {
      if (!result.ok) {
        location.replace(signInUrl());
        return new Promise(function () {});
      }
      var adminLink = document.getElementById('nav-admin');
      if (adminLink) adminLink.hidden = result.body.role !== 'admin';
      return result.body;
    });
  }

  function signOut() {
    return send('DELETE', '/auth/session').then(function () {
      location.assign('/login');
    });
  }

  function formatTime(iso) {
    if (!iso) return '—';
    var date = new Date(iso);
    return isNaN(date.getTime()) ? iso : date.toLocaleString();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var button = document.getElementById('sign-out');
    if (button) button.addEventListener('click', signOut);
  });

  window.Gatekeeper = {
    api: api,
    message: message,
    status: status,
    el: el,
    values: values,
    onSubmit: onSubmit,
    returnTo: returnTo,
    here: here,
    signInUrl: signInUrl,
    requireUser: requireUser,
    signOut: signOut,
    formatTime: formatTime,
    waitWords: waitWords,
  };
})();
