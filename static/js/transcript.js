// The review page's transcript panel. htmx loads a quote's transcript into
// #transcript-panel; this moves focus to the marked quote (so the panel scrolls to it and
// a screen reader reads it), closes the panel on its Close link or Escape, and gives
// focus back to the time link that opened it. Without JavaScript the same links open
// the transcript as a page of its own. A static file: the Content Security Policy
// forbids inline code.
(function () {
  "use strict";
  var opener = null;

  function panel() {
    return document.getElementById("transcript-panel");
  }

  function close() {
    var box = panel();
    if (!box) {
      return;
    }
    box.replaceChildren(); // empty, the panel is hidden (CSS :empty)
    if (opener && document.body.contains(opener)) {
      opener.focus();
    }
    opener = null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.hasAttribute && source.hasAttribute("data-transcript-link")) {
      opener = source;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "transcript-panel") {
      return;
    }
    var quote = target.querySelector(".at-quote");
    var focus = quote || target.querySelector("#transcript-title");
    if (focus) {
      focus.focus({ preventScroll: true });
    }
    // The panel scrolls, the page does not (scrollIntoView would move both): the quote
    // is brought to the middle of the panel.
    target.scrollTop = quote
      ? quote.offsetTop - (target.clientHeight - quote.offsetHeight) / 2
      : 0;
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-transcript-close]") : null;
    var box = panel();
    if (link && box && box.contains(link)) {
      event.preventDefault();
      close();
    }
  });

  // Captured on the window, before the page's own shortcuts: Escape inside the panel
  // closes the panel and nothing else.
  window.addEventListener(
    "keydown",
    function (event) {
      var box = panel();
      if (event.key === "Escape" && box && box.contains(document.activeElement)) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    },
    true
  );
})();
