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

  // Labels page: the preview follows the batch, layout and resolution as they change
  // (without JavaScript, the form's "Preview" button does the same).
  function watchLabelPreview(form) {
    var image = document.getElementById("label-preview");
    var note = document.getElementById("label-preview-note");
    if (!image || !note) return;
    function show(ok, text) {
      image.hidden = !ok;
      note.hidden = ok;
      if (!ok) note.textContent = text;
    }
    image.addEventListener("load", function () { show(true); });
    image.addEventListener("error", function () {
      if (image.getAttribute("src")) show(false, note.getAttribute("data-error"));
    });
    form.addEventListener("change", function () {
      var batch = form.elements.namedItem("batch_id").value;
      if (!batch) return show(false, "Choose a batch to see one of its labels.");
      var query = new URLSearchParams({
        batch_id: batch,
        layout: form.elements.namedItem("layout").value,
        dpi: form.elements.namedItem("dpi").value
      });
      image.src = "/labels/preview.svg?" + query.toString();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-label-preview]").forEach(watchLabelPreview);
    // Move focus to a form's problem summary or a result, so it is read out first.
    var first = document.querySelector("[data-autofocus]");
    if (first) first.focus();
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });
})();
