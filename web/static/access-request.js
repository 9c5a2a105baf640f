// Regulator's access request: find cohorts by name as you type (ticked ones stay), and choosing an
// institution shows its cohorts. Without this script the Search button does the same with a reload.
(function () {
  "use strict";
  var search = document.getElementById("cohort-search");
  var list = document.getElementById("cohort-choices");
  var institution = document.getElementById("institution_id");
  var byCohorts = document.getElementById("scope-cohorts");
  if (!search || !list || !institution) { return; }

  institution.addEventListener("change", function () { institution.form.submit(); });
  list.addEventListener("change", function (event) {
    if (event.target.name === "cohort_ids" && event.target.checked && byCohorts) { byCohorts.checked = true; }
  });

  function option(choice) {
    var wrap = document.createElement("div");
    wrap.className = "form-check";
    var box = document.createElement("input");
    box.className = "form-check-input";
    box.type = "checkbox";
    box.name = "cohort_ids";
    box.value = String(choice.id);
    box.id = "cohort-" + choice.id;
    var label = document.createElement("label");
    label.className = "form-check-label";
    label.htmlFor = box.id;
    label.textContent = choice.name;
    var extra = [choice.course, choice.start_date].filter(Boolean).join(" · ");
    if (extra) {
      var muted = document.createElement("span");
      muted.className = "text-muted";
      muted.textContent = " · " + extra;
      label.appendChild(muted);
    }
    wrap.appendChild(box);
    wrap.appendChild(label);
    return wrap;
  }

  function render(items) {
    var kept = Array.prototype.filter.call(list.querySelectorAll("input[name=cohort_ids]"), function (box) {
      return box.checked;
    }).map(function (box) { return box.closest(".form-check"); });
    var keptIds = kept.map(function (node) { return node.querySelector("input").value; });
    list.replaceChildren.apply(list, kept);
    items.forEach(function (choice) {
      if (keptIds.indexOf(String(choice.id)) === -1) { list.appendChild(option(choice)); }
    });
    if (!list.children.length) {
      var none = document.createElement("p");
      none.className = "text-muted mb-0";
      none.textContent = list.dataset.empty || "No cohort matches.";
      list.appendChild(none);
    }
  }

  var timer = null;
  var latest = 0;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var asked = ++latest;
      var url = search.dataset.choicesUrl + "?per_page=50&institution_id=" + encodeURIComponent(institution.value) +
        "&q=" + encodeURIComponent(search.value.trim());
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {items: []}; })
        .then(function (body) { if (asked === latest) { render(body.items || []); } })
        .catch(function () { /* offline: the Search button still works */ });
    }, 250);
  });
  search.form.addEventListener("submit", function (event) {
    if (window.fetch) { event.preventDefault(); search.dispatchEvent(new Event("input")); }
  });
})();
