// The review page from the keyboard, and text typed into an editor never lost unasked.
//
// Keys only click the page's own links and buttons (the ones whose aria-keyshortcuts
// name the key), so every decision is the same htmx request a click makes and the
// server stays the judge of what is allowed. After an htmx swap the focus stays where
// the reviewer works: in the field of an editor that opens, on the next undecided item
// after a keyed decision, on the "Review the next conversation" link after a confirm.
// A static file, not inline handlers: the Content Security Policy forbids inline code.
(function () {
  "use strict";

  var TYPING = "input, textarea, select, [contenteditable]";
  var FIELD = "textarea, select, input:not([type=hidden])";
  // A key's request on an item ({id, advance, since}) until its answer is swapped in;
  // after a decision (a, c, x) the review then moves on to the next item waiting. Keys
  // pressed meanwhile wait their turn in `queued`, so quick typing never acts on a card
  // that is about to be replaced.
  var pending = null;
  var queued = [];
  var PATIENCE_MS = 10000;
  var focusBeforeShortcuts = null;

  document.documentElement.classList.add("keys-on");

  document.addEventListener("DOMContentLoaded", function () {
    // The review starts at the first item waiting for a decision.
    var first = items().filter(isUndecided)[0];
    if (first) {
      markCurrent(first);
    }
  });

  // Items -------------------------------------------------------------------------------

  function items() {
    // The items one moves between: those on screen (a folded settled group is skipped).
    return Array.prototype.filter.call(document.querySelectorAll("article.item"), function (el) {
      return el.getClientRects().length > 0;
    });
  }

  function isUndecided(el) {
    // An item being updated, or withdrawn, waits for nothing the reviewer can do.
    return (
      el.getAttribute("data-decided") === "0" &&
      !el.classList.contains("refreshing") &&
      !el.classList.contains("withdrawn")
    );
  }

  function currentItem() {
    var focused = document.activeElement;
    var holder = focused && focused.closest ? focused.closest("article.item") : null;
    if (holder) {
      return holder;
    }
    var marked = document.querySelector("article.item.current");
    if (marked && marked.getClientRects().length > 0) {
      return marked;
    }
    var all = items();
    return all.filter(isUndecided)[0] || all[0] || null;
  }

  function editorField(el) {
    var editor = el.querySelector("form.item-editor");
    return editor ? editor.querySelector(FIELD) : null;
  }

  function caretToEnd(field) {
    // Typing goes on where the text ends, as it does after a click into it.
    if (field.tagName === "TEXTAREA" || field.type === "text") {
      field.setSelectionRange(field.value.length, field.value.length);
    }
  }

  function markCurrent(el) {
    Array.prototype.forEach.call(document.querySelectorAll("article.item.current"), function (other) {
      if (other !== el) {
        other.classList.remove("current");
        other.removeAttribute("aria-current");
      }
    });
    el.classList.add("current");
    el.setAttribute("aria-current", "true");
  }

  function goTo(el) {
    markCurrent(el);
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
    announce(describe(el));
  }

  function text(el) {
    return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function describe(el) {
    var all = items();
    var heading = el.querySelector("h4");
    var parts = [text(heading), "item " + (all.indexOf(el) + 1) + " of " + all.length];
    Array.prototype.forEach.call(el.querySelectorAll(".badges .badge"), function (badge) {
      parts.push(text(badge).toLowerCase());
    });
    var proposal = el.querySelector(".value-ai dd");
    if (proposal) {
      var shown = proposal.cloneNode(true);
      Array.prototype.forEach.call(shown.querySelectorAll(".show-all-label"), function (label) {
        label.remove();
      });
      var value = text(shown);
      parts.push("AI proposes " + (value.length > 140 ? value.slice(0, 140) + "…" : value));
    }
    return parts.filter(Boolean).join(", ");
  }

  function announce(message) {
    var status = document.getElementById("keyboard-status");
    if (!status) {
      return;
    }
    // Emptied first, so the same sentence said twice is heard twice.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = message;
    }, 50);
  }

  function move(step) {
    var all = items();
    if (!all.length) {
      return false;
    }
    var focused = document.activeElement;
    if (!(focused && focused.closest && focused.closest("article.item"))) {
      // The first key of a review lands on the item already marked current.
      goTo(currentItem());
      return true;
    }
    var here = all.indexOf(currentItem());
    var next = here < 0 ? 0 : Math.min(Math.max(here + step, 0), all.length - 1);
    goTo(all[next]);
    return true;
  }

  function nextUndecided(after) {
    var all = items();
    var start = all.indexOf(after);
    for (var offset = 1; offset <= all.length; offset += 1) {
      var candidate = all[(start + offset) % all.length];
      if (candidate !== after && isUndecided(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  function confirmButton() {
    return document.querySelector('.confirm-panel [aria-keyshortcuts~="Shift+Enter"]');
  }

  function moveOn(from) {
    var next = nextUndecided(from);
    if (next) {
      goTo(next);
      return;
    }
    var confirm = confirmButton();
    if (confirm) {
      confirm.focus();
      announce("Every item has a decision. Shift+Enter confirms to the CRM.");
    } else {
      goTo(from);
    }
  }

  // Keys -------------------------------------------------------------------------------

  var UNAVAILABLE = {
    a: "the AI's proposal is already accepted",
    c: "the CRM holds no other value to keep",
    r: "there is no decision to reset",
    x: "it cannot be changed now",
    e: "it cannot be edited now",
  };

  function press(key) {
    var el = currentItem();
    if (!el) {
      return false;
    }
    markCurrent(el);
    var control = el.querySelector('.actions [aria-keyshortcuts~="' + key + '"]');
    if (!control) {
      var field = editorField(el);
      if (field) {
        field.focus();
        announce("The editor is open: Ctrl+Enter saves, Escape cancels.");
        return true;
      }
      announce(text(el.querySelector("h4")) + ": " + UNAVAILABLE[key] + ".");
      if (key === "a" && !isUndecided(el)) {
        moveOn(el);
      }
      return true;
    }
    pending = {
      id: el.id,
      advance: key === "a" || key === "c" || key === "x",
      since: Date.now(),
    };
    control.click();
    return true;
  }

  function busy() {
    // A lost answer must not hold the keys for ever.
    return pending !== null && Date.now() - pending.since < PATIENCE_MS;
  }

  function run(command) {
    if (command === "confirm") {
      return confirmReview();
    }
    if (command === "help") {
      return openShortcuts();
    }
    if (command === "next") {
      return move(1);
    }
    if (command === "previous") {
      return move(-1);
    }
    return press(command);
  }

  function drain() {
    while (!busy() && queued.length) {
      run(queued.shift());
    }
  }

  function confirmReview() {
    var button = confirmButton();
    if (!button) {
      return false;
    }
    if (button.disabled || button.getAttribute("aria-disabled") === "true") {
      // Say why, and take the reviewer to the first item that holds the confirm back.
      var reason = document.getElementById(button.getAttribute("aria-describedby") || "");
      var why = text(reason) || "Confirm is not available yet.";
      var waiting = items().filter(function (el) {
        return isUndecided(el) && el.getAttribute("data-tier") === "explicit";
      })[0];
      if (waiting) {
        goTo(waiting);
        announce(why + " " + describe(waiting));
      } else {
        announce(why);
      }
      return true;
    }
    button.click();
    return true;
  }

  function inEditor(event) {
    var editor = event.target.closest ? event.target.closest("form.item-editor") : null;
    if (!editor) {
      return false;
    }
    var command = event.ctrlKey || event.metaKey;
    if (event.key === "Escape") {
      event.preventDefault();
      var cancel = editor.querySelector('[aria-keyshortcuts~="Escape"]');
      if (cancel) {
        cancel.click();
      }
    } else if (event.key === "Enter" && command && !event.altKey && !event.shiftKey) {
      event.preventDefault();
      var save = editor.querySelector('[aria-keyshortcuts~="Control+Enter"]');
      if (save) {
        save.click();
      }
    }
    // Anything else is typing.
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) {
      return; // the dialog closes itself on Escape
    }
    if (inEditor(event)) {
      return;
    }
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return; // the browser's own shortcuts
    }
    if (target.matches && target.matches(TYPING)) {
      return;
    }
    var command = commandFor(event.key, event.shiftKey, target);
    if (!command) {
      return;
    }
    if (busy()) {
      queued.push(command);
      event.preventDefault();
    } else if (run(command)) {
      event.preventDefault();
    }
  });

  function commandFor(key, shift, target) {
    if (key === "Enter" && shift) {
      return "confirm";
    }
    if (key === "?") {
      return "help";
    }
    if (key === "j" || key === "ArrowDown") {
      return "next";
    }
    if (key === "k" || key === "ArrowUp") {
      return "previous";
    }
    if (key === "a" || key === "c" || key === "x" || key === "r" || key === "e") {
      return key;
    }
    if (key === "Enter" && target.matches && target.matches("article.item")) {
      return "e"; // Enter on a link or button inside keeps its own meaning
    }
    return null;
  }

  // The cheat sheet ----------------------------------------------------------------------

  function openShortcuts() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || dialog.open) {
      return false;
    }
    focusBeforeShortcuts = document.activeElement;
    dialog.showModal(); // modal: the page behind is inert, so the focus stays inside
    return true;
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest ? event.target.closest("[data-shortcuts-open]") : null;
    if (opener) {
      openShortcuts();
    }
  });

  var shortcuts = document.getElementById("shortcuts");
  if (shortcuts) {
    shortcuts.addEventListener("close", function () {
      var back = focusBeforeShortcuts;
      focusBeforeShortcuts = null;
      if (back && document.body.contains(back) && back !== document.body) {
        back.focus();
      } else if (currentItem()) {
        goTo(currentItem());
      }
    });
  }

  // After a swap -------------------------------------------------------------------------

  function settled(event) {
    var swapped = event.detail && event.detail.elt;
    if (swapped && swapped.id && !document.body.contains(swapped)) {
      // An outerHTML swap replaced the element: work on its successor.
      swapped = document.getElementById(swapped.id);
    }
    return swapped;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = settled(event);
    if (!swapped || !swapped.classList) {
      return;
    }
    if (swapped.classList.contains("draft-status")) {
      draftAnswered(swapped);
      return;
    }
    if (swapped.classList.contains("attempt")) {
      // The audit's "Show all N items" replaced its own card: the keyboard stays on the
      // card's new toggle instead of falling back to the top of the page.
      var toggle = swapped.querySelector(".attempt-more a");
      if (toggle) {
        toggle.focus();
      }
      return;
    }
    if (swapped.id === "review-body") {
      // After a confirm: Enter opens the next conversation. Otherwise (an error) the
      // focus, lost with the old body, goes back to the confirm button.
      var next = swapped.querySelector("[data-next-conversation]");
      var target = next || (document.activeElement === document.body ? confirmButton() : null);
      if (target) {
        target.focus();
      }
      return;
    }
    if (!swapped.classList.contains("item")) {
      return;
    }
    var keyed = pending && pending.id === swapped.id ? pending : null;
    if (keyed) {
      pending = null;
    }
    markCurrent(swapped);
    var field = editorField(swapped);
    if (field) {
      field.focus();
      caretToEnd(field);
      queued = []; // keys pressed while it opened were meant as text, not as commands
    } else if (keyed && keyed.advance && !isUndecided(swapped) && !alerts(swapped)) {
      moveOn(swapped);
    } else if (keyed) {
      goTo(swapped); // reset, refused, or included again: stay, and hear it as it is now
    } else if (reasonGiven(event)) {
      // A change reason is a side note, not a decision: the keyboard stays on the
      // reasons, on the one now pressed (or the first when it was taken back).
      var reason = swapped.querySelector(".change-reason [aria-pressed=true]") ||
        swapped.querySelector(".change-reason button");
      (reason || swapped).focus();
    } else if (focusLost(swapped)) {
      // A click's answer: the focus went with the old card, so it goes to the new one's
      // first control. A late answer never pulls the focus back from where the reviewer
      // has gone meanwhile.
      var control = swapped.querySelector(".actions a, .actions button");
      (control || swapped).focus();
    }
    drain();
  });

  function focusLost(swapped) {
    var active = document.activeElement;
    return !active || active === document.body || swapped.contains(active);
  }

  function reasonGiven(event) {
    var path = event.detail && event.detail.pathInfo && event.detail.pathInfo.requestPath;
    return typeof path === "string" && /\/reason\/$/.test(path);
  }

  function alerts(el) {
    return el.querySelector("[role=alert]") !== null;
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    if (pending && event.detail && event.detail.failed) {
      pending = null;
      queued = [];
      announce("That did not reach the server, so nothing changed. Try again.");
    }
  });

  // Drafts -------------------------------------------------------------------------------
  // An editor's field is `data-unsaved` from the first keystroke until a draft holding
  // exactly its text is kept (the editor's draft line then says so without an error).
  // Leaving the page with such a field asks first.

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.closest && field.closest("form.item-editor")) {
      field.setAttribute("data-unsaved", "");
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var autosave = event.detail && event.detail.elt;
    if (autosave && autosave.classList && autosave.classList.contains("draft-autosave")) {
      var field = autosave.querySelector(FIELD);
      if (field) {
        field.setAttribute("data-sent", field.value);
      }
    }
  });

  function draftAnswered(status) {
    var editor = status.closest("form.item-editor");
    var autosave = editor ? editor.querySelector(".draft-autosave") : null;
    var field = autosave ? autosave.querySelector(FIELD) : null;
    if (!field || status.querySelector("[role=alert]")) {
      return;
    }
    if (field.value === field.getAttribute("data-sent")) {
      field.removeAttribute("data-unsaved");
    }
  }

  window.addEventListener("beforeunload", function (event) {
    if (document.querySelector("form.item-editor [data-unsaved]")) {
      event.preventDefault();
      event.returnValue = ""; // older browsers ask only when this is set
    }
  });
})();
