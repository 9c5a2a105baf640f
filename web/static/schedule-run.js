// Schedule run page: poll the run's status URL until it succeeds or fails.
(function () {
  const statusEl = document.getElementById('run-status');
  const bar = document.getElementById('run-progress');
  const jobEl = document.getElementById('run-job');
  const out = document.getElementById('run-result');
  if (!statusEl) return;
  async function poll() {
    const r = await fetch(statusEl.dataset.statusUrl, {headers: {'Accept': 'application/json'}});
    if (!r.ok) { statusEl.textContent = 'Could not read the status (' + r.status + ').'; return; }
    const run = await r.json();
    bar.value = run.progress; bar.textContent = run.progress + '%';
    statusEl.textContent = 'Status: ' + run.status.toLowerCase();
    const active = run.job && ['QUEUED', 'RUNNING', 'FAILED'].indexOf(run.job.status) !== -1;
    jobEl.textContent = active ? run.job.message : '';
    jobEl.className = 'small ' + (run.job && run.job.waiting_for_worker ? 'text-warning-emphasis fw-semibold' : 'text-muted');
    if (run.status === 'SUCCEEDED' || run.status === 'FAILED') {
      out.textContent = run.status === 'SUCCEEDED'
        ? run.created_count + ' session(s) created, ' + run.already_scheduled_count + ' already scheduled, ' + run.conflicts.length + ' skipped for a conflict.'
        : 'Failed: ' + run.error;
      out.className = 'alert ' + (run.status === 'SUCCEEDED' ? 'alert-success' : 'alert-danger');
      return;
    }
    setTimeout(poll, 1000);
  }
  poll();
})();
