/* The browser side of the server-side session.

   1. When the server has ended the session (idle timeout, sign-out elsewhere, account disabled),
      Dash's requests get 401: send the person to the sign-in page, which says why, and bring
      them back to where they were afterwards.
   2. The idle warning (WCAG 2.2.1 Timing Adjustable): a timer runs from the last request this
      page made to the server. Shortly before the idle timeout (GET /session/status gives the
      timings) a modal dialog offers "Stay signed in" (POST /session/keepalive) and "Sign out".
      Before showing the dialog or signing out, the page asks the server how long is really left
      (GET /session/status does not count as activity), so a session kept alive in another tab
      is never ended wrongly here. No inline script: the CSP allows scripts from 'self' only. */
(function () {
  "use strict";
  var originalFetch = window.fetch;
  var redirecting = false;

  function here() {
    return window.location.pathname + window.location.search;
  }

  function goToSignIn(reason) {
    if (redirecting) {
      return;
    }
    redirecting = true;
    window.location.assign("/login?reason=" + encodeURIComponent(reason) + "&next=" + encodeURIComponent(here()));
  }

  // --- timings (filled in from the server; nothing runs until they are known) -------------------
  var timings = null; // {idleMs, warningMs}
  var deadline = 0; // when this page expects the session to time out (Date.now() clock)
  var endReason = "idle"; // "expired" when the 12-hour limit comes before the idle timeout
  var timer = null;
  var tickTimer = null;
  var checking = false;

  // --- the dialog ------------------------------------------------------------------------------
  var ANNOUNCE_EVERY_MS = 15000; // screen readers hear the countdown at most this often
  var dialog = null;
  var textNode = null;
  var liveNode = null;
  var stayButton = null;
  var returnFocusTo = null;
  var lastAnnounced = 0;

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function inWords(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var minutes = Math.floor(total / 60);
    var seconds = total % 60;
    if (minutes && seconds) {
      return plural(minutes, "minute") + " " + plural(seconds, "second");
    }
    return minutes ? plural(minutes, "minute") : plural(seconds, "second");
  }

  function message() {
    return "You will be signed out in " + inWords(deadline - Date.now()) +
      " because you have not done anything for a while.";
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]*)/);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var field = document.getElementById("shell-csrf");
    return field ? field.value : "";
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function buildDialog() {
    dialog = element("dialog", {
      id: "idle-dialog",
      "class": "idle-dialog",
      role: "alertdialog",
      "aria-modal": "true",
      "aria-labelledby": "idle-dialog-title",
      "aria-describedby": "idle-dialog-text"
    });
    dialog.appendChild(element("h2", {id: "idle-dialog-title", "class": "h4"}, "You are about to be signed out"));
    textNode = element("p", {id: "idle-dialog-text"});
    dialog.appendChild(textNode);
    dialog.appendChild(element("p", {}, "Stay signed in to carry on where you left off."));
    // The live countdown for screen readers, updated at most every 15 seconds.
    liveNode = element("p", {id: "idle-dialog-live", "class": "visually-hidden", "aria-live": "polite"});
    dialog.appendChild(liveNode);

    var actions = element("div", {"class": "idle-dialog-actions"});
    stayButton = element("button", {type: "button", id: "idle-stay", "class": "btn btn-primary"}, "Stay signed in");
    stayButton.addEventListener("click", staySignedIn);
    actions.appendChild(stayButton);
    // Signing out is the ordinary POST /logout form, with the CSRF token filled in when it is sent.
    var form = element("form", {action: "/logout", method: "post", "class": "d-inline"});
    var token = element("input", {type: "hidden", name: "csrf_token"});
    form.appendChild(token);
    form.appendChild(element("button", {type: "submit", id: "idle-sign-out", "class": "btn btn-outline-secondary"},
      "Sign out"));
    form.addEventListener("submit", function () {
      token.value = csrfToken();
      redirecting = true;
    });
    actions.appendChild(form);
    dialog.appendChild(actions);

    dialog.addEventListener("cancel", function (event) {
      event.preventDefault(); // Escape means "stay signed in"
      staySignedIn();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        staySignedIn();
      } else if (event.key === "Tab") {
        keepFocusInside(event);
      }
    });
    document.body.appendChild(dialog);
  }

  function keepFocusInside(event) {
    var focusable = dialog.querySelectorAll("button");
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    } else if (!dialog.contains(document.activeElement)) {
      event.preventDefault();
      first.focus();
    }
  }

  function dialogOpen() {
    return Boolean(dialog && dialog.open);
  }

  function openDialog() {
    if (!dialog) {
      buildDialog();
    }
    textNode.textContent = message();
    if (dialogOpen()) {
      return;
    }
    returnFocusTo = document.activeElement;
    liveNode.textContent = "";
    lastAnnounced = Date.now(); // opening reads the title and text; the next update comes later
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    stayButton.focus();
    tickTimer = window.setInterval(tick, 1000);
  }

  function closeDialog() {
    if (!dialogOpen()) {
      return;
    }
    window.clearInterval(tickTimer);
    tickTimer = null;
    if (typeof dialog.close === "function") {
      dialog.close();
    } else {
      dialog.removeAttribute("open");
    }
    liveNode.textContent = "";
    var target = returnFocusTo;
    returnFocusTo = null;
    if (target && target !== document.body && document.contains(target) && typeof target.focus === "function") {
      target.focus();
    }
  }

  function tick() {
    textNode.textContent = message();
    if (Date.now() - lastAnnounced >= ANNOUNCE_EVERY_MS) {
      lastAnnounced = Date.now();
      liveNode.textContent = message();
    }
  }

  // --- the timer -------------------------------------------------------------------------------

  function schedule() {
    window.clearTimeout(timer);
    var remaining = deadline - Date.now();
    if (remaining <= 0) {
      timer = window.setTimeout(check, 1000); // the server ends the session just after; ask then
    } else if (remaining <= timings.warningMs) {
      openDialog();
      // While the dialog is open, ask again now and then: another tab may keep the session alive.
      timer = window.setTimeout(check, Math.min(remaining + 1000, ANNOUNCE_EVERY_MS));
    } else {
      closeDialog();
      timer = window.setTimeout(check, remaining - timings.warningMs);
    }
  }

  function apply(data) {
    timings = {idleMs: data.idle_seconds * 1000, warningMs: data.warning_seconds * 1000};
    var idleLeft = data.seconds_left * 1000;
    var absoluteLeft = data.absolute_seconds_left * 1000;
    endReason = absoluteLeft < idleLeft ? "expired" : "idle";
    deadline = Date.now() + Math.min(idleLeft, absoluteLeft);
    schedule();
  }

  function ended(response) {
    // GET requests of a signed-out browser are redirected to the sign-in page; POSTs get 401.
    return response.status === 401 || response.type === "opaqueredirect";
  }

  function sessionRequest(method) {
    var init = {method: method, credentials: "same-origin", redirect: "manual", headers: {Accept: "application/json"}};
    if (method === "POST") {
      init.headers["X-CSRFToken"] = csrfToken();
    }
    var url = method === "POST" ? "/session/keepalive" : "/session/status";
    return originalFetch.call(window, url, init).then(function (response) {
      if (ended(response)) {
        return null;
      }
      if (!response.ok) {
        throw new Error("session " + response.status);
      }
      return response.json();
    });
  }

  function check() {
    if (checking || redirecting) {
      return;
    }
    checking = true;
    sessionRequest("GET").then(function (data) {
      checking = false;
      if (data === null) {
        if (timings) {
          goToSignIn(endReason);
        }
        return;
      }
      apply(data);
    }).catch(function () {
      checking = false;
      if (timings) {
        timer = window.setTimeout(check, 5000); // the network hiccupped: ask again shortly
      }
    });
  }

  function staySignedIn() {
    sessionRequest("POST").then(function (data) {
      if (data === null) {
        goToSignIn(endReason);
        return;
      }
      closeDialog();
      apply(data);
    }).catch(check);
  }

  function activity(startedAt) {
    if (!timings) {
      return;
    }
    // The server counts the request from when it arrived; the dialog, once open, waits for an answer.
    deadline = Math.max(deadline, startedAt + timings.idleMs);
    if (!dialogOpen()) {
      schedule();
    }
  }

  // --- every request this page makes to Dash -------------------------------------------------
  window.fetch = function (input, init) {
    var startedAt = Date.now();
    return originalFetch.call(this, input, init).then(function (response) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (url.indexOf("/_dash-") !== -1) {
        if (response.status === 401) {
          goToSignIn("ended");
        } else {
          activity(startedAt);
        }
      }
      return response;
    });
  };

  // Timers in a hidden tab are slowed down: ask the server as soon as the tab is seen again.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && timings) {
      check();
    }
  });

  check();
})();
