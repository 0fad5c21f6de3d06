// unitrace — the Imports page: drop a file on the form, and see the upload's progress.
// Without this file the form posts as usual and the answer is the same page.
(function () {
  "use strict";

  function zoneOf(target) {
    return target instanceof Element ? target.closest("[data-drop-zone]") : null;
  }

  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var zone = zoneOf(event.target);
      if (!zone) return;
      event.preventDefault();
      zone.classList.add("drop-active");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var zone = zoneOf(event.target);
    if (zone) zone.classList.remove("drop-active");
  });
  document.addEventListener("drop", function (event) {
    var zone = zoneOf(event.target);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("drop-active");
    var input = zone.querySelector("input[type=file]");
    if (input && event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
    }
  });

  // The answer replaces the page's main content, as a normal post would.
  function show(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) {
      document.open();
      document.write(html);
      document.close();
      return;
    }
    main.innerHTML = fresh.innerHTML;
    document.title = page.title;
    var focus = main.querySelector("[data-autofocus]");
    if (focus) focus.focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-import-form")) return;
    if (typeof FormData === "undefined" || typeof XMLHttpRequest === "undefined") return;
    event.preventDefault();
    if (form.dataset.submitting === "yes") return;
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.set(event.submitter.name, event.submitter.value);
    }
    form.dataset.submitting = "yes";
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    var bar = form.querySelector(".upload-progress");
    var status = form.querySelector(".busy");
    if (bar) bar.hidden = false;
    if (status) status.textContent = "Uploading…";
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action") || location.pathname);  // form.action is the button named "action"
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded / e.total) * 100);
      if (bar) bar.value = percent;
      if (status) status.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Checking the file…";
    });
    request.addEventListener("load", function () { show(request.responseText); });
    request.addEventListener("error", function () {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      if (status) status.textContent = "The upload failed; check the connection and try again.";
    });
    request.send(data);
  });
})();
