// Import status page: poll the status URL while the import is in progress, then reload for the result.
(function () {
  var _ = window.I18N._;
  var box = document.getElementById('import-status');
  if (!box || box.dataset.inProgress !== 'true') return;
  var busy = ['UPLOADED', 'VALIDATING', 'COMMITTING'];
  var statusWords = {UPLOADED: _('UPLOADED'), VALIDATING: _('VALIDATING'), VALIDATED: _('VALIDATED'),
                     FAILED: _('FAILED'), COMMITTING: _('COMMITTING'), COMMITTED: _('COMMITTED'), CANCELLED: _('CANCELLED')};
  var bar = document.getElementById('progress');
  function poll() {
    fetch(box.dataset.statusUrl, {headers: {'Accept': 'application/json'}, credentials: 'same-origin'})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var done = s.progress.rows_done, total = s.progress.rows_total;
        var pct = total ? Math.min(100, Math.round(done * 100 / total)) : 0;
        if (s.status === 'COMMITTING') { pct = 100; }
        document.getElementById('status-text').textContent = statusWords[s.status] || s.status;
        bar.value = pct;
        bar.textContent = pct + '%';
        document.getElementById('progress-text').textContent =
          total === null ? _('Not started yet') : _('%(done)s of %(total)s rows checked', {done: done, total: total});
        var job = document.getElementById('job-text');
        var active = s.job && ['QUEUED', 'RUNNING', 'FAILED'].indexOf(s.job.status) !== -1;
        job.textContent = active ? s.job.message : '';
        job.className = 'small ' + (s.job && s.job.waiting_for_worker ? 'text-warning-emphasis fw-semibold' : 'text-muted');
        if (busy.indexOf(s.status) === -1) { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
