// Keeps keyboard focus where the reviewer is working when htmx swaps an item: into the
// field when an item opens for editing (or comes back with an error), back onto the
// item's first control when it closes. A static file, not an inline handler: the
// Content Security Policy forbids inline code.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.elt;
    if (swapped && swapped.id && !document.body.contains(swapped)) {
      // An outerHTML swap replaced the element: work on its successor.
      swapped = document.getElementById(swapped.id);
    }
    if (!swapped || !swapped.classList || !swapped.classList.contains("item")) {
      return;
    }
    var field = swapped.querySelector("textarea, select, input:not([type=hidden])");
    var target = field || swapped.querySelector(".actions a, .actions button");
    if (target) {
      target.focus();
    }
  });
})();
