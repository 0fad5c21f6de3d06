// unitrace — the receiving screen with a keyboard-wedge scanner.
// Every scan is queued the moment Enter is pressed, sent one at a time as JSON, and its
// result added to the top of the list. Without this file the form posts as usual.
(function () {
  "use strict";

  var LABELS = {
    expected: "Expected",
    duplicate: "Duplicate",
    unexpected: "Unexpected",
    unknown: "Unknown",
    already_received: "Already received",
    error: "Not recorded",
    pending: "Sending…"
  };
  var DISCREPANT = { unexpected: true, unknown: true, already_received: true };

  function line(result, code, note) {
    var li = document.createElement("li");
    li.className = "scan scan-" + result;
    li.setAttribute("data-result", result);
    [["scan-result", LABELS[result] || result], ["scan-code mono", code], ["scan-note", note]]
      .forEach(function (part) {
        var span = document.createElement("span");
        span.className = part[0];
        span.textContent = part[1];
        li.appendChild(span);
      });
    return li;
  }

  function fill(li, result, code, note) {
    var fresh = line(result, code, note);
    li.className = fresh.className;
    li.setAttribute("data-result", result);
    li.replaceChildren.apply(li, Array.prototype.slice.call(fresh.childNodes));
  }

  function noteFor(outcome) {
    if (outcome.result === "expected") {
      return outcome.units + " unit" + (outcome.units === 1 ? "" : "s") +
        (outcome.kind && outcome.kind !== "unit" ? " in this " + outcome.kind : "");
    }
    return outcome.message;
  }

  function setUp(form) {
    var input = form.elements.namedItem("raw");
    var token = form.elements.namedItem("csrf_token").value;
    var url = form.getAttribute("data-scan-url");
    var list = document.getElementById("scan-list");
    var discrepancies = document.getElementById("discrepancy-list");
    var none = document.getElementById("no-discrepancies");
    var scanned = document.getElementById("scanned-count");
    var expected = document.getElementById("expected-count");
    var status = document.getElementById("scan-status");
    var choices = document.getElementById("reject-choices");
    var queue = [];
    var busy = false;

    function addChoice(code) {
      if (!choices || !code || choices.querySelector("input[value='" + CSS.escape(code) + "']")) return;
      var label = document.createElement("label");
      label.className = "check";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "reject";
      box.value = code;
      var text = document.createElement("span");
      text.className = "mono";
      text.textContent = code;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" "));
      label.appendChild(text);
      choices.appendChild(label);
    }

    function show(li, outcome) {
      var code = outcome.code || outcome.raw;
      fill(li, outcome.result, code, noteFor(outcome));
      scanned.textContent = outcome.scanned_units.toLocaleString("en-US");
      expected.textContent = outcome.expected_units.toLocaleString("en-US");
      if (DISCREPANT[outcome.result]) {
        discrepancies.insertBefore(line(outcome.result, code, outcome.message), discrepancies.firstChild);
        if (none) none.hidden = true;
      }
      if (outcome.result === "expected") addChoice(outcome.code);
    }

    function pump() {
      if (busy || !queue.length) {
        status.textContent = queue.length ? queue.length + " scan(s) waiting" : "";
        return;
      }
      busy = true;
      var job = queue.shift();
      status.textContent = queue.length ? queue.length + " scan(s) waiting" : "";
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({ raw: job.raw })
      }).then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("your session has ended: reload the page and log in");
        }
        return response.json().then(function (body) {
          if (!response.ok) throw new Error((body.error && body.error.message) || "not recorded");
          show(job.li, body);
        });
      }).catch(function (error) {
        fill(job.li, "error", job.raw, error.message);
      }).then(function () {
        busy = false;
        pump();
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var raw = input.value.trim();
      input.value = "";
      input.focus();
      if (!raw) return;
      var li = line("pending", raw, "");
      list.insertBefore(li, list.firstChild);
      queue.push({ raw: raw, li: li });
      pump();
    });
    input.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("scan-form");
    if (form && window.fetch) setUp(form);
  });
})();
