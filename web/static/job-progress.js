// A job's status box (#job-progress) updates itself: it polls data-status-url ({status, progress:
// {rows_done, rows_total}}) every second while the status is one of data-busy, then reloads the page.
(function () {
  var box = document.getElementById('job-progress');
  if (!box || box.dataset.inProgress !== 'true') return;
  var busy = (box.dataset.busy || '').split(' ');
  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function poll() {
    fetch(box.dataset.statusUrl, {headers: {'Accept': 'application/json'}, credentials: 'same-origin'})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var done = s.progress.rows_done, total = s.progress.rows_total;
        var pct = total ? Math.min(100, Math.round(done * 100 / total)) : 0;
        field('status').textContent = s.status;
        field('done').textContent = done;
        field('total').textContent = total === null ? '?' : total;
        field('bar').setAttribute('aria-valuenow', pct);
        field('bar').firstElementChild.style.width = pct + '%';
        if (busy.indexOf(s.status) === -1) { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
