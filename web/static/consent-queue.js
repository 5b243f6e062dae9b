// The consent queue's keyboard shortcuts (web/consent/templates/consent/queue.html). One key press acts:
// v = both verified and next, m = missing or not valid and next, s or j = skip, ? = show the list of keys.
// The controls carry data-key; a key whose control is disabled or absent does nothing. Keys typed into a text
// field, or with a modifier, are left alone. Without this script the page works by its buttons alone.
(function () {
  "use strict";
  var form = document.getElementById("cq-form");
  var help = document.getElementById("cq-keys");
  if (!form) {
    return;
  }
  var busy = false;

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && target.type !== "checkbox" && target.type !== "radio");
  }

  function control(key) {
    return document.querySelector("[data-key='" + key + "']");
  }

  document.addEventListener("keydown", function (event) {
    if (busy || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var key = event.key === "j" ? "s" : event.key;
    if (key === "?") {
      event.preventDefault();
      if (help) {
        help.open = !help.open;
      }
      return;
    }
    var target = control(key);
    if (!target || target.disabled) {
      return;
    }
    event.preventDefault();
    busy = true; // one press, one action: a held key must not send the next case's form too
    if (target.tagName.toLowerCase() === "a") {
      window.location.assign(target.href);
    } else if (form.requestSubmit) {
      form.requestSubmit(target);
    } else {
      target.click();
    }
  });
}());
