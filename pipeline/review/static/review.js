// Keyboard shortcuts for the review queue. The pages work without this file: every action is a
// link or a form. This only maps single keys to them; the keys are listed on each page.
// Served from /static/ (the content security policy allows scripts from the app itself only).
"use strict";

(function () {
  function click(selector) {
    var element = document.querySelector(selector);
    if (element) { element.click(); return true; }
    return false;
  }

  function submit(selector) {
    var form = document.querySelector(selector);
    if (!form) { return false; }
    if (form.requestSubmit) { form.requestSubmit(form.querySelector("#resolve") || undefined); } else { form.submit(); }
    return true;
  }

  function focus(selector) {
    var element = document.querySelector(selector);
    if (element) { element.focus(); return true; }
    return false;
  }

  function pickCandidate(number) {
    var radios = document.querySelectorAll("#candidates input[type=radio]:not([disabled])");
    if (number > radios.length) { return false; }
    radios[number - 1].checked = true;
    radios[number - 1].closest("tr").scrollIntoView({block: "nearest"});
    return true;
  }

  var actions = {
    n: function () { return click("#next-item") || click("table.queue a.open-item"); },
    p: function () { return click("#previous-item"); },
    t: function () { return focus("#doc_type"); },
    r: function () { return submit("#confirm-type-form") || submit("#resolve-form"); },
    x: function () { return focus("#reject_reason"); },
    q: function () { return click("#back-to-queue"); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing) { return; }
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(SELECT|TEXTAREA)$/.test(target.tagName) ||
      (target.tagName === "INPUT" && !/^(radio|checkbox|button|submit)$/.test(target.type)));
    if (typing) {
      if (event.key === "Escape") { target.blur(); event.preventDefault(); }
      return;
    }
    var done = false;
    if (/^[1-9]$/.test(event.key)) {
      done = pickCandidate(Number(event.key));
    } else if (Object.prototype.hasOwnProperty.call(actions, event.key)) {
      done = actions[event.key]();
    }
    if (done) { event.preventDefault(); }
  });
  document.documentElement.setAttribute("data-keys", "on");  // the keys are live (tests wait for it)
})();
