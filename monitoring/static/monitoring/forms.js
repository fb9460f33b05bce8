// Monitoring forms: what only works with JavaScript, added by JavaScript (CSP: no inline script).
// - "Show the fields for this kind" buttons are for browsers without it: htmx swaps the form.
// - Copy buttons start hidden and copy the text of the element named by data-copy.
(function () {
  function setUp(root) {
    root.querySelectorAll("[data-without-js]").forEach(function (el) { el.hidden = true; });
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
      if (button.dataset.ready) { return; }
      button.dataset.ready = "1";
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        var status = document.getElementById(button.dataset.copy + "-status");
        navigator.clipboard.writeText(source.textContent.trim()).then(
          function () { if (status) { status.textContent = "Copied."; } },
          function () { if (status) { status.textContent = "Could not copy: select the text and copy it."; } }
        );
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target.parentNode || document); });
})();
