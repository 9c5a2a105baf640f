// Reports being built poll their status URL and turn into a download link when ready: no reload needed.
(function () {
  "use strict";
  var list = document.getElementById("report-list");
  if (!list) { return; }

  function poll(item, delay) {
    setTimeout(function () {
      fetch(item.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (report) {
          if (!report || report.status === "PENDING" || report.status === "BUILDING") {
            poll(item, Math.min(delay * 1.5, 10000));
            return;
          }
          var state = item.querySelector(".report-state");
          item.dataset.status = report.status;
          if (report.status === "READY") {
            var link = document.createElement("a");
            link.href = report.download_url;
            link.textContent = list.dataset.ready;
            state.replaceChildren(link);
          } else {
            state.textContent = list.dataset.failed + ": " + (report.error || "");
          }
        })
        .catch(function () { poll(item, Math.min(delay * 2, 15000)); });
    }, delay);
  }

  list.querySelectorAll(".report[data-status='PENDING'], .report[data-status='BUILDING']").forEach(function (item) {
    poll(item, 1000);
  });
})();
