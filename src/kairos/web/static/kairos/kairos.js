// Kairos page behaviour. No inline scripts anywhere (CSP script-src 'self').
(function () {
  "use strict";
  // Keyboard: "/" focuses the page's search box, like most clinical lists.
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      var search = document.querySelector("[data-search]");
      if (search) { event.preventDefault(); search.focus(); }
    }
  });
  // Confirm destructive actions declared with data-confirm (no inline handlers).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
