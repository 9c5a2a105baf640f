/* Register documents panel: ask for a document without leaving the page, then watch it until it is ready.
   Progressive enhancement: without JavaScript the form posts and the page reloads. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var POLL_MS = 1000;

  function panelWords(panel) {
    var el = panel.querySelector("[data-words]");
    return el ? el.dataset : {};
  }

  function showState(panel, item, doc) {
    var words = panelWords(panel);
    item.dataset.status = doc.status;
    item.dataset.statusUrl = doc.status_url;
    item.querySelector(".doc-label").textContent = doc.format.toUpperCase() + " · " + doc.reference;
    var lang = item.querySelector(".doc-language");
    if (lang && doc.language) {
      var code = doc.language;
      lang.lang = code;
      lang.textContent = words["lang" + code.charAt(0).toUpperCase() + code.slice(1)] || code;
      if (doc.from && doc.to) { lang.textContent += " · " + doc.from + " – " + doc.to; }
    }
    var state = item.querySelector(".doc-state");
    state.textContent = "";
    if (doc.status === "READY" && doc.download_url) {
      var link = document.createElement("a");
      link.className = "doc-download";
      link.href = doc.download_url;
      link.textContent = words.ready || "Download";
      state.appendChild(link);
    } else if (doc.status === "FAILED") {
      state.textContent = (words.failed || "Failed") + ": " + (doc.error || "");
    } else {
      state.textContent = words.building || "…";
    }
  }

  function watch(panel, item) {
    var status = item.dataset.status;
    if (status === "READY" || status === "FAILED" || item.dataset.watching) return;
    item.dataset.watching = "1";
    var tick = function () {
      fetch(item.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (doc) {
          showState(panel, item, doc);
          if (doc.status === "READY" || doc.status === "FAILED") { delete item.dataset.watching; return; }
          setTimeout(tick, POLL_MS);
        })
        .catch(function () { setTimeout(tick, POLL_MS * 3); });
    };
    setTimeout(tick, POLL_MS);
  }

  function itemFor(panel, doc) {
    var list = panel.querySelector(".register-document-list");
    var existing = list.querySelector('[data-status-url="' + doc.status_url + '"]');
    if (existing) return existing;
    var empty = list.querySelector(".no-documents");
    if (empty) empty.remove();
    var item = panel.querySelector("#register-document-template").content.firstElementChild.cloneNode(true);
    list.prepend(item);
    return item;
  }

  function request(panel, form, format) {
    var words = panelWords(panel);
    var status = panel.querySelector(".register-status");
    var body = {format: format};
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrf_token" && key !== "format" && value !== "") body[key] = /_id$/.test(key) ? Number(value) : value;
    });
    status.textContent = words.requesting || "";
    fetch(panel.dataset.requestUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (json) { return {ok: r.ok, json: json}; });
    }).then(function (res) {
      if (!res.ok) { status.textContent = (res.json.error && res.json.error.message) || words.error; return; }
      status.textContent = "";
      var item = itemFor(panel, res.json);
      showState(panel, item, res.json);
      watch(panel, item);
    }).catch(function () { status.textContent = words.error || ""; });
  }

  document.querySelectorAll("[data-registers]").forEach(function (panel) {
    var form = panel.querySelector(".register-request");
    if (form) {
      form.addEventListener("submit", function (event) {
        if (!form.reportValidity()) return;
        event.preventDefault();
        var format = (event.submitter && event.submitter.value) || "pdf";
        request(panel, form, format);
      });
    }
    panel.querySelectorAll(".register-document").forEach(function (item) { watch(panel, item); });
  });
})();
