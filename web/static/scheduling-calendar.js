// Month/week calendar over GET /api/institution/attendance/calendar. Plain JS, no build step.
(function () {
  const root = document.getElementById('calendar');
  if (!root) return;
  const {_, ngettext, locale} = window.I18N;
  const body = document.getElementById('cal-body');
  const title = document.getElementById('cal-title');
  const viewSel = document.getElementById('cal-view');
  const registerTpl = root.dataset.register;
  // "Today" is the institution's (the server says which day it is there), not the browser's.
  const [ty, tm, td] = root.dataset.today.split('-').map(Number);
  const todayAnchor = () => new Date(ty, tm - 1, td, 12);
  let anchor = todayAnchor();

  const pad = (n) => String(n).padStart(2, '0');
  const iso = (d) => d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  const addDays = (d, n) => { const x = new Date(d); x.setDate(x.getDate() + n); return x; };
  const monday = (d) => addDays(d, -((d.getDay() + 6) % 7));
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));

  function range() {
    if (viewSel.value === 'week') { const s = monday(anchor); return [s, addDays(s, 7)]; }
    const first = new Date(anchor.getFullYear(), anchor.getMonth(), 1, 12);
    const s = monday(first);
    return [s, addDays(s, 42)];
  }

  function eventHtml(ev) {
    const time = ev.start.slice(11, 16) + '–' + ev.end.slice(11, 16);
    const label = time + ' ' + ev.title + (ev.room ? ' · ' + ev.room.name : '') + (ev.instructor ? ' · ' + ev.instructor.name : '');
    const cls = 'cal-event' + (ev.locked ? ' locked' : '') + (ev.status === 'CANCELLED' ? ' cancelled' : '');
    const tip = label + ' · ' + (ev.type_label || ev.type) + ' · ' + _('marked %(marked)s/%(roster)s', {marked: ev.marked, roster: ev.roster}) +
      (ev.locked ? ' · ' + _('locked') : '');
    const href = registerTpl ? registerTpl.replace('987654321', ev.id) : null;
    return href ? '<a class="' + cls + '" href="' + esc(href) + '" title="' + esc(tip) + '">' + esc(label) + '</a>'
                : '<span class="' + cls + '" title="' + esc(tip) + '" tabindex="0">' + esc(label) + '</span>';
  }

  async function load() {
    const [start, end] = range();
    const params = new URLSearchParams({start: iso(start), end: iso(end)});
    root.querySelectorAll('[data-filter]').forEach((el) => { if (el.value) params.set(el.dataset.filter, el.value); });
    title.textContent = viewSel.value === 'week'
      ? _('Week of %(day)s', {day: start.toLocaleDateString(locale, {day: 'numeric', month: 'long', year: 'numeric'})})
      : anchor.toLocaleDateString(locale, {month: 'long', year: 'numeric'});
    body.innerHTML = '<p class="text-muted">' + esc(_('Loading…')) + '</p>';
    const r = await fetch(root.dataset.api + '?' + params.toString(), {headers: {'Accept': 'application/json'}});
    if (!r.ok) { body.innerHTML = '<div class="alert alert-danger">' + esc(_('Could not load the calendar (%(code)s).', {code: r.status})) + '</div>'; return; }
    const data = await r.json();
    const byDay = {}, holidays = {};
    (data.holidays || []).forEach((h) => { (holidays[h.date] = holidays[h.date] || []).push(h); });
    data.items.forEach((ev) => { (byDay[ev.start.slice(0, 10)] = byDay[ev.start.slice(0, 10)] || []).push(ev); });
    const today = root.dataset.today;
    let html = '<table class="table table-bordered cal-grid" data-testid="calendar-grid"><thead><tr>';
    // Weekday names from the browser's CLDR data in the page's language, Monday first.
    for (let i = 0; i < 7; i++) { html += '<th scope="col">' + esc(addDays(monday(anchor), i).toLocaleDateString(locale, {weekday: 'short'})) + '</th>'; }
    html += '</tr></thead><tbody>';
    for (let d = new Date(start), i = 0; d < end; d = addDays(d, 1), i++) {
      if (i % 7 === 0) html += '<tr>';
      const key = iso(d), events = byDay[key] || [], offs = holidays[key] || [];
      const cls = [d.getMonth() !== anchor.getMonth() && viewSel.value === 'month' ? 'other-month' : '',
                   key === today ? 'today' : '', events.length ? '' : 'empty-day', offs.length ? 'holiday' : ''].join(' ');
      html += '<td class="' + cls + '"><div class="fw-semibold">' + esc(d.toLocaleDateString(locale, {weekday: 'short', day: 'numeric'})) +
              '</div>' + offs.map((h) => '<div class="cal-holiday" data-testid="calendar-holiday">' +
                esc((h.source === 'public' ? _('Public holiday') : _('Holiday')) + ': ' + h.name) + '</div>').join('') +
              events.map(eventHtml).join('') + '</td>';
      if (i % 7 === 6) html += '</tr>';
    }
    html += '</tbody></table><p class="small text-muted">' + esc(ngettext('%(num)s session.', '%(num)s sessions.', data.total)) + '</p>';
    body.innerHTML = html;
  }

  root.querySelectorAll('[data-move]').forEach((btn) => btn.addEventListener('click', () => {
    const step = Number(btn.dataset.move);
    if (step === 0) anchor = todayAnchor();
    else if (viewSel.value === 'week') anchor = addDays(anchor, 7 * step);
    else anchor = new Date(anchor.getFullYear(), anchor.getMonth() + step, 1, 12);
    load();
  }));
  root.querySelectorAll('select').forEach((el) => el.addEventListener('change', load));
  if (window.matchMedia('(max-width: 576px)').matches) viewSel.value = 'week';
  load();
})();
