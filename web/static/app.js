/* Fleet Console behaviour that HTML alone cannot express. Served as a file: the CSP forbids
   inline scripts. Dialogs open and close here; htmx does every request. */
/* global document, window, Element, HTMLFormElement, HTMLDialogElement, HTMLMetaElement */
(function () {
  'use strict';

  // Every htmx request carries the session's CSRF token (the server refuses state-changing
  // requests without it); plain form posts carry it as the hidden _csrf field instead.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta instanceof HTMLMetaElement ? meta.content : '';
  }
  document.addEventListener('htmx:config:request', function (event) {
    var ctx = event.detail && event.detail.ctx;
    var token = csrfToken();
    if (ctx && ctx.request && ctx.request.headers && token) ctx.request.headers['X-CSRF-Token'] = token;
  });

  function closestFromEvent(event, selector) {
    return event.target instanceof Element ? event.target.closest(selector) : null;
  }

  function clearErrors(dialog) {
    dialog.querySelectorAll('.form-error').forEach(function (el) {
      el.textContent = '';
    });
  }

  document.addEventListener('click', function (event) {
    var opener = closestFromEvent(event, '[data-dialog-open]');
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute('data-dialog-open'));
      if (dialog instanceof HTMLDialogElement && !dialog.open) {
        clearErrors(dialog);
        dialog.showModal();
      }
      return;
    }
    var closer = closestFromEvent(event, '[data-dialog-close]');
    if (closer) {
      var owner = closer.closest('dialog');
      if (owner) owner.close();
    }
  });

  // A dialog form that succeeded closes its dialog; a refusal stays open with its message.
  document.addEventListener('htmx:after:request', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-dialog-form')) return;
    var ctx = event.detail && event.detail.ctx;
    var status = ctx && ctx.response ? ctx.response.status : 0;
    if (status >= 200 && status < 400) {
      form.reset();
      var dialog = form.closest('dialog');
      if (dialog) dialog.close();
    }
  });

  function setLive(event, state) {
    if (event.target instanceof Element && event.target.id === 'live') {
      event.target.setAttribute('data-live', state);
    }
  }
  document.addEventListener('htmx:sse:after:connection', function (event) {
    setLive(event, 'on');
  });
  // A session that ended (signed out elsewhere, forced out, suspended, expired) goes to sign-in,
  // back to this page afterwards: told by the stream's last event, or refused on a reconnect.
  // Not while the page is already leaving (its own sign-out, a link): that navigation would be
  // cut short. A navigation that left the page here after all (a download) stops counting.
  var leavingSince = 0;
  window.addEventListener('beforeunload', function () {
    leavingSince = Date.now();
  });
  function toSignIn() {
    if (Date.now() - leavingSince < 5000) return;
    var here = window.location.pathname + window.location.search;
    window.location.assign('/sign-in?ended=1&next=' + encodeURIComponent(here));
  }
  document.addEventListener('session-ended', function (event) {
    setLive(event, 'ended');
    toSignIn();
  });
  document.addEventListener('htmx:sse:error', function (event) {
    setLive(event, 'lost');
    if (event.detail && event.detail.status === 401) toSignIn();
  });
  document.addEventListener('htmx:sse:close', function (event) {
    setLive(event, 'lost');
  });
})();
