/* Dialogs (the confirm-delete and retention dialogs): Tab and Shift+Tab go round the open
   dialog's own controls, from its last control back to its first and the other way.

   The dialogs are Bootstrap modals (dash-bootstrap-components). Their own focus trap only brings
   focus back once it has left: Tab from the last control went first to the browser's toolbar
   (the dialog is at the end of the page), so a keyboard user lost their place for a press and a
   screen reader announced the browser. Here the last control hands focus straight to the first.
   The idle warning is a native <dialog> opened with showModal(), which keeps focus itself. */
(function () {
  "use strict";
  var CONTROLS = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), " +
                 "select:not([disabled]), textarea:not([disabled]), summary, " +
                 "[tabindex]:not([tabindex='-1'])";

  function openDialog() {
    var open = document.querySelectorAll(".modal.show");
    return open.length ? open[open.length - 1] : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var dialog = openDialog();
    if (!dialog) {
      return;
    }
    var controls = Array.prototype.filter.call(dialog.querySelectorAll(CONTROLS), function (el) {
      return el.getClientRects().length > 0;
    });
    if (!controls.length) {
      return;
    }
    var first = controls[0];
    var last = controls[controls.length - 1];
    var active = document.activeElement;
    var inside = dialog.contains(active) && active !== dialog;
    if (event.shiftKey && (!inside || active === first)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (!inside || active === last)) {
      event.preventDefault();
      first.focus();
    }
  });
})();
