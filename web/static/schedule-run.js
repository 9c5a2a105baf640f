// Schedule run page: poll the run's status URL until it succeeds or fails.
(function () {
  const _ = window.I18N._;
  const statusEl = document.getElementById('run-status');
  const bar = document.getElementById('run-progress');
  const jobEl = document.getElementById('run-job');
  const out = document.getElementById('run-result');
  if (!statusEl) return;
  const statusWords = {PENDING: _('waiting'), RUNNING: _('running'), SUCCEEDED: _('succeeded'), FAILED: _('failed')};
  async function poll() {
    const r = await fetch(statusEl.dataset.statusUrl, {headers: {'Accept': 'application/json'}});
    if (!r.ok) { statusEl.textContent = _('Could not read the status (%(code)s).', {code: r.status}); return; }
    const run = await r.json();
    bar.value = run.progress; bar.textContent = run.progress + '%';
    statusEl.textContent = _('Status: %(status)s', {status: statusWords[run.status] || run.status.toLowerCase()});
    const active = run.job && ['QUEUED', 'RUNNING', 'FAILED'].indexOf(run.job.status) !== -1;
    jobEl.textContent = active ? run.job.message : '';
    jobEl.className = 'small ' + (run.job && run.job.waiting_for_worker ? 'text-warning-emphasis fw-semibold' : 'text-muted');
    if (run.status === 'SUCCEEDED' || run.status === 'FAILED') {
      out.textContent = run.status === 'SUCCEEDED'
        ? _('%(created)s session(s) created, %(existing)s already scheduled, %(skipped)s skipped for a conflict.',
            {created: run.created_count, existing: run.already_scheduled_count, skipped: run.conflicts.length})
        : _('Failed: %(error)s', {error: run.error});
      out.className = 'alert ' + (run.status === 'SUCCEEDED' ? 'alert-success' : 'alert-danger');
      return;
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
