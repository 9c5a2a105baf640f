// Small behaviours every screen may use, declared in HTML with data- attributes (the CSP forbids inline
// handlers): data-confirm="question" on a form asks before submitting; data-no-submit keeps a filter form
// from submitting; data-select-on-focus selects a read-only field's text (a URL to copy).
(function () {
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.hasAttribute('data-no-submit')) { event.preventDefault(); return; }
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  document.addEventListener('focusin', function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute('data-select-on-focus')) { event.target.select(); }
  });
})();
