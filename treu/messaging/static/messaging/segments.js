/* The segment editor: keep the count of matching customers current while rules are edited.
 *
 * Progressive enhancement only: without this file the page is a plain form whose
 * "Anzahl aktualisieren", "Bedingung hinzufügen" and "Entfernen" buttons re-render it.
 * A changed field re-renders the page (its comparisons and value input change); any other
 * change asks the server for the count (JSON) and shows it. No library.
 */
(function () {
  "use strict";
  var form = document.querySelector("[data-segment-editor]");
  if (!form || !window.fetch) { return; }
  var countEl = form.querySelector("[data-count]");
  var sampleEl = form.querySelector("[data-sample]");
  var previewButton = form.querySelector("[data-preview]");
  // Re-renders the rows without judging them (the new field's value is still empty).
  var fieldButton = form.querySelector("[data-field-change]") || previewButton;
  var timer = null;
  var asked = 0;

  form.querySelectorAll("[data-field]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (form.requestSubmit) { form.requestSubmit(fieldButton); } else { fieldButton.click(); }
    });
  });

  function refresh() {
    var mine = ++asked;
    var body = new FormData(form);
    fetch(form.dataset.countUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (mine !== asked) { return; }  // an older answer arriving late
        if (data.count === null || data.count === undefined) {
          countEl.className = "muted";
          countEl.textContent = (data.errors || []).join(" ");
          sampleEl.textContent = "";
          return;
        }
        countEl.className = "rule-count";
        countEl.textContent = data.count_text;
        sampleEl.textContent = "";
        data.sample.forEach(function (customer) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = customer.url;
          link.textContent = customer.name;
          var number = document.createElement("span");
          number.className = "muted";
          number.textContent = " " + customer.number;
          item.appendChild(link);
          item.appendChild(number);
          sampleEl.appendChild(item);
        });
      })
      .catch(function () { /* the button still works */ });
  }

  form.addEventListener("input", function (event) {
    if (event.target.matches("[data-field]") || event.target.name === "name" ||
        event.target.name === "description") { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 350);
  });
  form.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT" && !event.target.matches("[data-field]")) {
      clearTimeout(timer);
      timer = setTimeout(refresh, 50);
    }
  });
})();
