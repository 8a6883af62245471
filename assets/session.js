/* When the server has ended the session (idle timeout, sign-out elsewhere, account disabled),
   Dash's requests get 401: send the person to the sign-in page, which says why, and bring them
   back to where they were afterwards. */
(function () {
  "use strict";
  var originalFetch = window.fetch;
  var redirecting = false;
  window.fetch = function (input, init) {
    return originalFetch.call(this, input, init).then(function (response) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status === 401 && url.indexOf("/_dash-") !== -1 && !redirecting) {
        redirecting = true;
        var next = window.location.pathname + window.location.search;
        window.location.assign("/login?reason=ended&next=" + encodeURIComponent(next));
      }
      return response;
    });
  };
})();
