/* The GOV.UK error pattern's page title: while a page shows an error summary or a field's
   error, its title starts "Error: ", so a screen reader announces the problem when the title is
   read, and the browser's tab says so too. The server-rendered pages do this in their template;
   on the dashboard's pages the errors come and go without a page load, so this watches the page
   and puts the prefix on or takes it off. No inline script: the CSP allows scripts from 'self'. */
(function () {
  "use strict";
  var PREFIX = "Error: ";
  var pending = false;

  function shown(element) {
    return !element.closest("[hidden]") && element.getClientRects().length > 0 &&
      element.textContent.trim() !== "";
  }

  function showingErrors() {
    var found = document.querySelectorAll(".error-summary, .field-error");
    for (var i = 0; i < found.length; i++) {
      if (shown(found[i])) {
        return true;
      }
    }
    return false;
  }

  function update() {
    pending = false;
    var title = document.title;
    var prefixed = title.indexOf(PREFIX) === 0;
    var errors = showingErrors();
    if (errors && !prefixed) {
      document.title = PREFIX + title;
    } else if (!errors && prefixed) {
      document.title = title.slice(PREFIX.length);
    }
  }

  function schedule() {
    if (!pending) {
      pending = true;
      window.requestAnimationFrame(update);
    }
  }

  function start() {
    new MutationObserver(schedule).observe(document.documentElement, {
      subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ["hidden", "class", "style", "open"],
    });
    schedule();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
