// Cohort page, "Enrol learners": find learners by name, ID number or email as you type and tick them (ticked
// ones stay while you search again). Without this script the pasted ID numbers still enrol.
(function () {
  "use strict";
  var form = document.getElementById("enrol-form");
  if (!form) { return; }
  var _ = window.I18N._, ngettext = window.I18N.ngettext;
  var panel = form.querySelector("[data-enrol-search]");
  var search = document.getElementById("enrol-q");
  var results = document.getElementById("enrol-results");
  var status = document.getElementById("enrol-status");
  var url = form.getAttribute("data-learner-search");
  var chosen = {};  // id → learner, the ticked ones
  var timer = null, asked = 0;
  panel.hidden = false;

  function describe(learner) {
    return [learner.full_name, learner.id_number, learner.email].filter(Boolean).join(" · ");
  }

  function option(learner) {
    var wrap = document.createElement("div");
    wrap.className = "form-check";
    var box = document.createElement("input");
    box.className = "form-check-input";
    box.type = "checkbox";
    box.name = "learner_ids";
    box.value = String(learner.id);
    box.id = "enrol-learner-" + learner.id;
    box.checked = Object.prototype.hasOwnProperty.call(chosen, learner.id);
    var label = document.createElement("label");
    label.className = "form-check-label";
    label.htmlFor = box.id;
    label.textContent = describe(learner);
    wrap.appendChild(box);
    wrap.appendChild(label);
    return wrap;
  }

  function show(found) {
    results.textContent = "";
    Object.keys(chosen).forEach(function (id) { results.appendChild(option(chosen[id])); });
    found.forEach(function (learner) {
      if (!Object.prototype.hasOwnProperty.call(chosen, learner.id)) { results.appendChild(option(learner)); }
    });
  }

  results.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name !== "learner_ids") { return; }
    if (box.checked) {
      chosen[box.value] = {id: box.value, full_name: box.nextSibling.textContent};
    } else {
      delete chosen[box.value];
    }
  });

  function run() {
    var q = search.value.trim();
    if (!q) { show([]); status.textContent = ""; return; }
    var mine = ++asked;
    status.textContent = _("Searching…");
    fetch(url + "?per_page=20&q=" + encodeURIComponent(q), {credentials: "same-origin",
                                                          headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
      .then(function (page) {
        if (mine !== asked) { return; }
        show(page.items);
        status.textContent = page.total
          ? ngettext("%(num)d learner found.", "%(num)d learners found.", page.total)
          : _("No learner matches.");
      })
      .catch(function () {
        if (mine === asked) { status.textContent = _("Could not search; paste ID numbers instead."); }
      });
  }

  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 250); });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); run(); }
  });
})();
