// Patient questionnaire pages: focus management (no inline scripts; CSP script-src 'self').
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // After a failed submit, move focus to the error summary so screen readers announce it.
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); return; }
    // On the result pages, start reading at the heading.
    var heading = document.querySelector("[data-autofocus]");
    if (heading) { heading.focus(); }
  });
  // Error-summary links: focus the first radio of the item, not just scroll to it.
  document.addEventListener("click", function (event) {
    var a = event.target.closest("a[data-focus]");
    if (!a) { return; }
    var target = document.getElementById(a.getAttribute("data-focus"));
    if (target) { event.preventDefault(); target.focus(); target.scrollIntoView({block: "center"}); }
  });
})();
