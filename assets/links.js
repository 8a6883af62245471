/* Links and focus.

   1. In-page links ("Skip to main content", an error summary's links to its fields, "Show the
      table" links): the browser's own handling changes the address (#main) and fires popstate,
      and the dashboard's page router then draws the page again from the server, losing what the
      person had chosen or typed. Instead, this moves focus to the target itself (a field, a
      heading, a table) and scrolls it into view, as the GOV.UK error summary does, without
      touching the address. A target that cannot take focus is given tabindex="-1" so that it can.
   2. Links to another page of the dashboard (the navigation, "Log an incident", a record's
      title): the page changes without loading, so a screen reader would not hear that it did and
      the keyboard would stay on the link. Once the new page's heading is drawn, focus moves to it
      (as on a page load, the next Tab goes on from there). Only after a link is followed: a page
      that sends someone elsewhere itself (after saving, say) decides its own focus. */
(function () {
  "use strict";
  var FOCUSABLE = /^(A|BUTTON|INPUT|SELECT|TEXTAREA|SUMMARY)$/;
  var watching = null;

  function focusNewHeading(oldHeading, oldPath) {
    // React may keep the old heading's element and only change its words: compare both.
    var oldText = oldHeading ? oldHeading.textContent : null;
    if (watching) {
      watching.disconnect();
    }
    var main = document.getElementById("main");
    if (!main) {
      return;
    }
    var deadline = Date.now() + 10000;
    var observer = new MutationObserver(function () {
      var heading = main.querySelector("h1");
      if (Date.now() > deadline) {
        observer.disconnect();
      } else if (heading && (heading !== oldHeading || heading.textContent !== oldText) &&
                 window.location.pathname !== oldPath && heading.getClientRects().length > 0) {
        observer.disconnect();
        var active = document.activeElement;
        // Something on the new page has already taken focus (a form's first error, say): leave it.
        if (active && active !== document.body && main.contains(active)) {
          return;
        }
        if (!heading.hasAttribute("tabindex")) {
          heading.setAttribute("tabindex", "-1");
        }
        heading.focus();
      }
    });
    watching = observer;
    observer.observe(main, {childList: true, subtree: true});
  }

  document.addEventListener("click", function (event) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    var link = event.target.closest && event.target.closest("a[href^='/']");
    if (!link || link.target || link.hasAttribute("download")) {
      return;
    }
    var main = document.getElementById("main");
    focusNewHeading(main && main.querySelector("h1"), window.location.pathname);
  }, true);  // (capturing: before the link's own handler changes the address)

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey ||
        event.altKey) {
      return;
    }
    var link = event.target.closest && event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var id = decodeURIComponent(link.getAttribute("href").slice(1));
    var target = id ? document.getElementById(id) : null;
    event.preventDefault();
    if (!target) {
      return;
    }
    if (!FOCUSABLE.test(target.tagName) && !target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    var details = target.closest("details");
    if (details && !details.open) {
      details.open = true;
    }
    // A field's label sits above it: show the label too, as the GOV.UK error summary does.
    var label = target.id ? document.querySelector("label[for='" + target.id + "']") : null;
    var legend = target.closest("fieldset") && target.closest("fieldset").querySelector("legend");
    (label || legend || target).scrollIntoView({block: "start"});
    target.focus({preventScroll: true});
  });
})();
