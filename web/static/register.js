/* The register screen: optimistic marking.
 *
 * A tap changes the row at once and queues the change; queued changes go to the server in batches (one
 * POST per batch, one request in flight). Until the server acknowledges a change it stays in localStorage,
 * so it survives a reload or a lost connection and is sent again (with backoff, and when the browser comes
 * back online). Each row shows saving / saved / failed. No build step: plain JavaScript.
 */
(function () {
  "use strict";
  var root = document.getElementById("register");
  if (!root) return;
  var _ = window.I18N._, ngettext = window.I18N.ngettext;

  var sessionId = Number(root.dataset.sessionId);
  var keyField = root.dataset.key;
  var markUrl = root.dataset.markUrl;
  var editable = root.dataset.editable === "true";
  var storeKey = "attendance-pending:" + sessionId;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var alertBox = document.getElementById("register-alert");
  var syncState = document.getElementById("sync-state");
  var rows = {};
  Array.prototype.forEach.call(root.querySelectorAll(".register-row"), function (li) {
    rows[li.dataset.memberId] = li;
  });

  var pending = loadPending();   // memberId -> {status, minutes_late, notes, expected_version?}
  var inFlight = null;           // the batch being sent
  var timer = null;
  var failures = 0;

  function loadPending() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function savePending() {
    try {
      if (Object.keys(pending).length) window.localStorage.setItem(storeKey, JSON.stringify(pending));
      else window.localStorage.removeItem(storeKey);
    } catch (e) { /* storage full or disabled: the in-memory queue still works */ }
  }

  function setState(li, state, message) {
    li.dataset.state = state;
    var label = li.querySelector(".row-state");
    if (label) label.textContent = message || state;
  }

  function showStatus(li, status) {
    li.dataset.status = status || "";
    Array.prototype.forEach.call(li.querySelectorAll(".status-btn"), function (btn) {
      var on = btn.dataset.setStatus === status;
      btn.classList.toggle("active", on);
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    });
    var late = li.querySelector(".late-field");
    if (late) late.classList.toggle("d-none", status !== "LATE");
    var ev = li.querySelector(".evidence-btn");
    if (ev) ev.classList.toggle("d-none", !status);
  }

  function refreshCounts() {
    var counts = { PRESENT: 0, LATE: 0, ABSENT: 0, EXCUSED: 0, UNMARKED: 0 };
    Object.keys(rows).forEach(function (id) { counts[rows[id].dataset.status || "UNMARKED"] += 1; });
    Object.keys(counts).forEach(function (k) {
      var el = root.querySelector('[data-count="' + k + '"]');
      if (el) el.textContent = counts[k];
    });
  }

  function currentValues(li, status) {
    var minutes = li.querySelector(".minutes-input");
    var notes = li.querySelector(".notes-input");
    var m = status === "LATE" && minutes && minutes.value !== "" ? Number(minutes.value) : null;
    return { status: status, minutes_late: m, notes: notes && notes.value.trim() ? notes.value.trim() : null };
  }

  function queue(li, change) {
    pending[li.dataset.memberId] = change;
    savePending();
    setState(li, "saving", _("saving…"));
    schedule(250);
  }

  function setStatus(li, status) {
    if (!editable) return;
    showStatus(li, status);
    queue(li, currentValues(li, status));
    refreshCounts();
  }

  function schedule(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }

  function showAlert(message) {
    if (!alertBox) return;
    alertBox.textContent = message || "";
    alertBox.classList.toggle("d-none", !message);
  }

  function applyServer(trainee) {
    var li = rows[String(trainee.id)];
    if (!li) return;
    li.dataset.version = trainee.version;
    if (pending[String(trainee.id)]) return; // a newer local change is still queued: keep showing it
    showStatus(li, trainee.status);
    var minutes = li.querySelector(".minutes-input");
    if (minutes && document.activeElement !== minutes) minutes.value = trainee.minutes_late == null ? "" : trainee.minutes_late;
    var notes = li.querySelector(".notes-input");
    if (notes && document.activeElement !== notes) notes.value = trainee.notes || "";
    var by = li.querySelector(".marked-by");
    if (by) by.textContent = trainee.marked_by ? _("by %(name)s", {name: trainee.marked_by}) : "";
  }

  // A refused mark's reason in the reader's language (the API's per-record message is for developers).
  var reasonWords = {
    not_in_cohort: _("This trainee is not on this session's register."),
    invalid_status: _("Choose present, late, absent or excused."),
    out_of_range: _("Minutes late must be a whole number from 0 to 600."),
    only_for_late: _("Minutes late are only for a late arrival."),
    too_long: _("The note is too long."),
    session_not_started: _("Present, late and absent can be recorded only once the session has started."),
    duplicate: _("This trainee is twice in the same request.")
  };
  var statusWords = { PRESENT: _("Present"), LATE: _("Late"), ABSENT: _("Absent"), EXCUSED: _("Excused") };
  function statusWord(status) { return statusWords[status] || status; }

  function same(a, b) {
    return a && b && a.status === b.status && (a.minutes_late == null ? null : a.minutes_late) ===
      (b.minutes_late == null ? null : b.minutes_late) && (a.notes || null) === (b.notes || null);
  }

  function flush() {
    timer = null;
    if (inFlight) return;
    var ids = Object.keys(pending);
    if (!ids.length) return;
    var batch = {};
    var records = ids.map(function (id) {
      batch[id] = pending[id];
      var rec = { status: pending[id].status, minutes_late: pending[id].minutes_late, notes: pending[id].notes };
      rec[keyField] = Number(id);
      if (pending[id].expected_version !== undefined) rec.expected_version = pending[id].expected_version;
      return rec;
    });
    inFlight = batch;
    if (syncState) syncState.textContent = ngettext("Saving %(num)s change…", "Saving %(num)s changes…", records.length);
    fetch(markUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ session_id: sessionId, records: records })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (result) {
      inFlight = null;
      if (result.status === 200) { onSaved(batch, result.body); return; }
      if (result.status === 423 || result.status === 409 || result.status === 403 || result.status === 404) {
        onRefused(batch, result.body, result.status); return;
      }
      if (result.status === 422) { onInvalid(batch, result.body); return; }
      onNetworkFailure(batch, (result.body.error && result.body.error.message) || _("Server error"));
    }).catch(function () {
      inFlight = null;
      onNetworkFailure(batch, "offline");
    });
  }

  function acknowledge(batch, id) {
    if (same(pending[id], batch[id])) delete pending[id];
  }

  function onSaved(batch, body) {
    failures = 0;
    var conflicts = {};
    (body.conflicts || []).forEach(function (c) { conflicts[String(c.id)] = c; });
    var byId = {};
    (body.trainees || []).forEach(function (t) { byId[String(t.id)] = t; });
    Object.keys(batch).forEach(function (id) {
      var li = rows[id];
      var conflict = conflicts[id];
      var stillQueued = !same(pending[id], batch[id]);
      acknowledge(batch, id);
      if (!li || stillQueued) return;
      if (conflict && !same(conflict.current, batch[id])) {
        setState(li, "failed", _("changed by someone else"));
      } else {
        setState(li, "saved", _("saved"));
      }
    });
    savePending();
    (body.trainees || []).forEach(applyServer);
    refreshCounts();
    showAlert("");
    if (syncState) syncState.textContent = Object.keys(pending).length ? "" : _("All changes saved");
    if (Object.keys(pending).length) schedule(50);
  }

  function onRefused(batch, body, status) {
    var message = (body.error && body.error.message) || _("The server refused these changes.");
    Object.keys(batch).forEach(function (id) {
      acknowledge(batch, id);
      if (rows[id]) setState(rows[id], "failed", status === 423 ? _("not saved: locked") : _("not saved"));
    });
    savePending();
    showAlert(message);
    if (status === 423) lockScreen();
  }

  function onInvalid(batch, body) {
    var ids = Object.keys(batch);
    var details = (body.error && body.error.details && body.error.details.records) || [];
    var bad = {};
    details.forEach(function (d) { if (d.index >= 0 && ids[d.index]) bad[ids[d.index]] = reasonWords[d.reason] || d.message; });
    ids.forEach(function (id) {
      if (bad[id]) {
        acknowledge(batch, id);
        if (rows[id]) setState(rows[id], "failed", bad[id]);
      }
    });
    savePending();
    showAlert((body.error && body.error.message) || _("Some marks are not valid."));
    if (Object.keys(pending).length) schedule(50); // the valid ones go again on their own
  }

  function onNetworkFailure(batch, why) {
    failures += 1;
    Object.keys(batch).forEach(function (id) {
      if (rows[id]) setState(rows[id], "failed", why === "offline" ? _("not saved yet (offline) — will retry") : _("not saved — will retry"));
    });
    if (syncState) {
      syncState.textContent = ngettext("%(num)s change waiting to be saved", "%(num)s changes waiting to be saved",
                                       Object.keys(pending).length);
    }
    schedule(Math.min(1000 * Math.pow(2, failures - 1), 15000));
  }

  function lockScreen() {
    editable = false;
    Array.prototype.forEach.call(root.querySelectorAll("button.status-btn, .minutes-input, .notes-input, #mark-all-present, .evidence-btn"),
      function (el) { el.disabled = true; });
  }

  // --- events ----------------------------------------------------------------------------------------------
  root.addEventListener("click", function (event) {
    var btn = event.target.closest("[data-set-status]");
    if (btn) { setStatus(btn.closest(".register-row"), btn.dataset.setStatus); return; }
    var hist = event.target.closest(".history-btn");
    if (hist) { toggleHistory(hist); return; }
    var ev = event.target.closest(".evidence-btn");
    if (ev) { pickEvidence(ev.closest(".register-row")); }
  });

  root.addEventListener("change", function (event) {
    var li = event.target.closest(".register-row");
    if (!li || !editable) return;
    if (event.target.classList.contains("minutes-input") || event.target.classList.contains("notes-input")) {
      var status = li.dataset.status;
      if (event.target.classList.contains("minutes-input")) status = "LATE";
      if (!status) { setState(li, "failed", _("choose a status first")); return; }
      showStatus(li, status);
      queue(li, currentValues(li, status));
      refreshCounts();
    }
  });

  root.addEventListener("keydown", function (event) {
    if (!editable || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.matches("input, textarea")) return;
    var li = event.target.closest(".register-row");
    if (!li) return;
    var map = { p: "PRESENT", l: "LATE", a: "ABSENT", e: "EXCUSED" };
    var status = map[event.key.toLowerCase()];
    if (status) { event.preventDefault(); setStatus(li, status); }
  });

  var allPresent = document.getElementById("mark-all-present");
  if (allPresent) {
    allPresent.addEventListener("click", function () {
      // Only unmarked trainees; expected_version 0 = "only if still unmarked on the server too".
      Object.keys(rows).forEach(function (id) {
        var li = rows[id];
        if (li.dataset.status || pending[id]) return;
        showStatus(li, "PRESENT");
        var change = currentValues(li, "PRESENT");
        change.expected_version = 0;
        pending[id] = change;
        setState(li, "saving", _("saving…"));
      });
      savePending();
      refreshCounts();
      schedule(0);
    });
    allPresent.disabled = !editable;  // served disabled: a tap before this script ran would do nothing
  }

  var search = document.getElementById("register-search");
  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      Object.keys(rows).forEach(function (id) { rows[id].hidden = q !== "" && rows[id].dataset.name.indexOf(q) === -1; });
    });
  }

  // A change's time in the institution's zone (not the browser's), written the page's language's way.
  function when(iso) {
    var options = { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" };
    if (root.dataset.zone) options.timeZone = root.dataset.zone;
    try { return new Date(iso).toLocaleString(window.I18N.locale, options); }
    catch (e) { return new Date(iso).toLocaleString(window.I18N.locale); }
  }

  // Arrow keys move between trainees: one key to the next row, on the same control (or its status choice).
  function moveRow(li, step, from) {
    var row = li;
    do { row = step > 0 ? row.nextElementSibling : row.previousElementSibling; }
    while (row && (row.hidden || !row.classList.contains("register-row")));
    if (!row) return false;
    var buttons = row.querySelectorAll(".status-btn");
    var index = Array.prototype.indexOf.call(li.querySelectorAll(".status-btn"), from);
    var target = (index >= 0 && buttons[index]) || row.querySelector(".status-btn.active") || buttons[0] ||
      row.querySelector("button, input");
    if (target && target.disabled) target = row.querySelector("button:not([disabled]), input:not([disabled])");
    if (!target) return false;
    target.focus();
    row.scrollIntoView({ block: "nearest" });
    return true;
  }

  root.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    if (event.target.matches("input, textarea, select")) return;
    var li = event.target.closest(".register-row");
    if (li && moveRow(li, event.key === "ArrowDown" ? 1 : -1, event.target)) event.preventDefault();
  });

  function toggleHistory(btn) {
    var list = btn.closest(".register-row").querySelector(".history");
    if (!list.classList.contains("d-none")) { list.classList.add("d-none"); return; }
    fetch(btn.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        list.innerHTML = "";
        (body.items || []).forEach(function (item) {
          var li = document.createElement("li");
          var from = item.from && item.from.status ? statusWord(item.from.status) : (item.from ? JSON.stringify(item.from) : "—");
          var to = item.to && item.to.status ? statusWord(item.to.status) : JSON.stringify(item.to);
          li.textContent = when(item.at) + " · " + (item.by || _("system")) + " · " +
            from + " → " + to;
          list.appendChild(li);
        });
        if (!list.children.length) {
          var none = document.createElement("li");
          none.textContent = _("No changes yet.");
          list.appendChild(none);
        }
        list.classList.remove("d-none");
      });
  }

  var fileInput = document.getElementById("evidence-input");
  var evidenceRow = null;
  function pickEvidence(li) { evidenceRow = li; fileInput.value = ""; fileInput.click(); }
  if (fileInput) {
    fileInput.addEventListener("change", function () {
      var li = evidenceRow;
      if (!li || !fileInput.files.length) return;
      var form = new FormData();
      form.append("file", fileInput.files[0]);
      setState(li, "saving", _("uploading…"));
      fetch("/api/institution/class-sessions/" + sessionId + "/trainees/" + li.dataset.memberId + "/evidence", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf, "Accept": "application/json" }, body: form
      }).then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); })
        .then(function (res) {
          if (res.status !== 201) { setState(li, "failed", (res.body.error && res.body.error.message) || _("upload failed")); return; }
          var holder = li.querySelector(".evidence");
          var link = holder.querySelector(".evidence-link");
          if (!link) { link = document.createElement("a"); link.className = "evidence-link"; link.textContent = _("Evidence"); holder.prepend(link); }
          link.href = res.body.url;
          setState(li, "saved", _("evidence saved"));
        }).catch(function () { setState(li, "failed", _("upload failed (offline?)")); });
    });
  }

  window.addEventListener("online", function () { failures = 0; schedule(0); });

  // Changes made before a reload (or while offline) that the server never acknowledged: show, then resend.
  if (editable) {
    Object.keys(pending).forEach(function (id) {
      var li = rows[id];
      if (!li) { delete pending[id]; return; }
      showStatus(li, pending[id].status);
      var minutes = li.querySelector(".minutes-input");
      if (minutes) minutes.value = pending[id].minutes_late == null ? "" : pending[id].minutes_late;
      var notes = li.querySelector(".notes-input");
      if (notes) notes.value = pending[id].notes || "";
      setState(li, "saving", _("saving…"));
    });
    savePending();
    refreshCounts();
    schedule(0);
  } else {
    var lost = Object.keys(pending).length;
    if (lost) {
      showAlert(ngettext("%(num)s change made earlier on this device could not be saved: this register is locked.",
                         "%(num)s changes made earlier on this device could not be saved: this register is locked.", lost));
    }
    pending = {};
    savePending();
  }
})();
