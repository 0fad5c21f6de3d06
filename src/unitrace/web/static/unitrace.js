// unitrace — small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Long form submissions (commissioning, uploads): say that work is under way, and
  // ignore a second click while the first request runs. The server is idempotent anyway.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-busy")) return;
    if (form.dataset.submitting === "yes") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "yes";
    form.setAttribute("aria-busy", "true");
    var status = form.querySelector(".busy");
    if (status) status.textContent = form.getAttribute("data-busy");
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
    });
  });

  // A page restored from the back/forward cache gets its buttons back.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      var status = form.querySelector(".busy");
      if (status) status.textContent = "";
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Move focus to a form's problem summary or a result, so it is read out first.
    var first = document.querySelector("[data-autofocus]");
    if (first) first.focus();
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });
})();
