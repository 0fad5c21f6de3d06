// unitrace — the store counter: scan units into a basket, then sell it exactly once.
// Scans are looked up one at a time in the order they were made (none are lost when the
// scanner is fast). The basket's idempotency key is made once per basket: a double click
// or a retry of the same basket answers with the first sale instead of selling again.
// Without this file the sale form's textarea does the same job.
(function () {
  "use strict";

  function newKey() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return "pos-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function setUp(scanForm, sellForm) {
    var input = scanForm.elements.namedItem("scan");
    var token = sellForm.elements.namedItem("csrf_token").value;
    var locationId = sellForm.elements.namedItem("location_id").value;
    var keyInput = sellForm.elements.namedItem("idempotency_key");
    var lookupUrl = scanForm.getAttribute("data-lookup-url");
    var sellUrl = sellForm.getAttribute("data-sell-url");
    var table = document.getElementById("basket");
    var body = document.getElementById("basket-lines");
    var total = document.getElementById("basket-total");
    var status = document.getElementById("pos-status");
    var result = document.getElementById("sale-result");
    var button = document.getElementById("sell-button");
    var lines = []; // {raw, code, row, state, sellable}
    var queue = [];
    var looking = false;
    var selling = false;

    scanForm.hidden = false;
    table.hidden = false;
    sellForm.querySelectorAll(".no-js").forEach(function (el) { el.hidden = true; });
    keyInput.value = newKey();

    function basketChanged() {
      keyInput.value = newKey(); // another basket: another sale
      render();
    }

    function render() {
      var ready = lines.filter(function (l) { return l.code; });
      var blocked = lines.some(function (l) { return !l.sellable; });
      total.textContent = ready.length ? ready.length + " unit" + (ready.length === 1 ? "" : "s") + " in the basket" : "";
      button.disabled = selling || !lines.length || blocked || looking || queue.length > 0;
    }

    function stateText(line, text, className) {
      line.state.textContent = text;
      line.row.className = "basket-line " + className;
    }

    function addRow(raw) {
      var row = document.createElement("tr");
      var line = { raw: raw, code: null, row: row, sellable: false };
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "mono";
      th.textContent = raw;
      row.appendChild(th);
      line.codeCell = th;
      line.product = cell(row, "…");
      line.state = cell(row, "Looking up…");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-small button-quiet";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + raw);
      remove.addEventListener("click", function () {
        lines = lines.filter(function (l) { return l !== line; });
        row.remove();
        basketChanged();
        input.focus();
      });
      cell(row, "").appendChild(remove);
      body.insertBefore(row, body.firstChild);
      lines.push(line);
      stateText(line, "Looking up…", "line-pending");
      return line;
    }

    function show(line, found) {
      var twice = lines.some(function (l) { return l !== line && l.code === found.code; });
      line.codeCell.textContent = found.code;
      line.product.textContent = found.product + " · lot " + found.lot;
      if (twice) {
        lines = lines.filter(function (l) { return l !== line; });
        line.row.remove();
        status.textContent = found.code + " is already in the basket";
        return;
      }
      line.code = found.code;
      line.sellable = found.sellable;
      if (found.sellable) {
        stateText(line, "Can be sold", "line-ok");
      } else {
        stateText(line, found.disposition.replace(/_/g, " ") + ": " + found.message, "line-refused");
      }
    }

    function pump() {
      if (looking || !queue.length) return render();
      looking = true;
      var line = queue.shift();
      var query = new URLSearchParams({ code: line.raw, location_id: locationId });
      fetch(lookupUrl + "?" + query.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error((body.error && body.error.message) || "not found");
            show(line, body);
          });
        })
        .catch(function (error) {
          line.sellable = false;
          stateText(line, error.message, "line-refused");
        })
        .then(function () {
          looking = false;
          basketChanged();
          pump();
        });
    }

    scanForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var raw = input.value.trim();
      input.value = "";
      input.focus();
      if (!raw) return;
      status.textContent = "";
      queue.push(addRow(raw));
      render();
      pump();
    });

    function showSale(sale) {
      result.replaceChildren();
      var box = document.createElement("div");
      box.className = "alert alert-success";
      box.setAttribute("data-testid", "sale-confirmation");
      var p = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = "Sold " + sale.count + " unit" + (sale.count === 1 ? "" : "s");
      p.appendChild(strong);
      p.appendChild(document.createTextNode(sale.replayed ? " (already sold with this basket: nothing sold twice)" : "."));
      box.appendChild(p);
      var list = document.createElement("ul");
      list.className = "code-list";
      sale.codes.forEach(function (code) {
        var li = document.createElement("li");
        li.className = "mono";
        li.textContent = code;
        list.appendChild(li);
      });
      box.appendChild(list);
      result.appendChild(box);
    }

    function showRefusals(body) {
      var byCode = {};
      ((body.error && body.error.details) || []).forEach(function (d) {
        if (d && d.code) byCode[d.code] = d;
      });
      var matched = false;
      lines.forEach(function (line) {
        var refusal = byCode[line.code];
        if (refusal) {
          matched = true;
          line.sellable = false;
          stateText(line, refusal.message || (refusal.reason || "refused").replace(/_/g, " "), "line-refused");
        }
      });
      status.textContent = matched ? "Nothing was sold: remove the refused units and sell again." :
        ((body.error && body.error.message) || "Nothing was sold.");
    }

    sellForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (selling || !lines.length) return;
      selling = true;
      render();
      fetch(sellUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({
          location_id: Number(locationId),
          codes: lines.map(function (l) { return l.code; }),
          idempotency_key: keyInput.value
        })
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (response.ok) {
            showSale(answer);
            lines = [];
            body.replaceChildren();
            status.textContent = "";
            keyInput.value = newKey(); // the next basket is another sale
          } else {
            showRefusals(answer);
          }
        });
      }).catch(function () {
        // Unknown outcome (the network failed): the same key makes a retry safe.
        status.textContent = "No answer from the server. Press Sell again: the basket is never sold twice.";
      }).then(function () {
        selling = false;
        render();
        input.focus();
      });
    });
    input.focus();
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var scanForm = document.getElementById("pos-scan-form");
    var sellForm = document.getElementById("sell-form");
    if (scanForm && sellForm && window.fetch && window.crypto) setUp(scanForm, sellForm);
  });
})();
