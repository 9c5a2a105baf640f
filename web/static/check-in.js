// Facilitator's check-in screen: poll the status every second; the code, the QR, the count and the refusals
// follow without a reload.
(function () {
  var box = document.getElementById('check-in');
  if (!box) return;
  var code = document.getElementById('code'), qr = document.getElementById('qr');
  var qrBox = document.getElementById('qr-box'), count = document.getElementById('checked-in');
  var list = document.getElementById('refusals'), refusalCount = document.getElementById('refusal-count');
  var closedNote = document.getElementById('closed-note');
  var shownCode = code.textContent;
  function show(s) {
    count.textContent = s.checked_in;
    if (s.open && s.code !== shownCode) {
      shownCode = s.code;
      code.textContent = s.code;
      qr.src = box.dataset.qrUrl + '?step=' + encodeURIComponent(s.code);
    }
    qrBox.classList.toggle('d-none', !s.open);
    closedNote.textContent = s.open ? '' : box.dataset.wordClosed;
    if (!s.open) { code.textContent = '——————'; shownCode = null; }
    refusalCount.textContent = s.refusals.length;
    list.replaceChildren.apply(list, s.refusals.map(function (r) {
      var li = document.createElement('li');
      var at = new Date(r.at);
      li.textContent = at.toLocaleTimeString() + ' · ' + (r.name || '?') + ' · ' + r.reason +
        (r.flagged ? ' · ' + box.dataset.wordFlagged : '');
      if (r.flagged) li.className = 'text-danger fw-semibold';
      return li;
    }));
  }
  function poll() {
    fetch(box.dataset.statusUrl, {headers: {'Accept': 'application/json'}, credentials: 'same-origin'})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) { show(s); setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
