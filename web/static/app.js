// Words for scripts: the page's catalogue (JSON in <body data-i18n>, written by web/i18n.py) holds the
// translation of every msgid this folder's scripts pass to _() or ngettext(); bin/translations extracts
// them like the templates'. Plural forms follow the browser's CLDR rules (Intl.PluralRules), mapped by
// the server to the catalogue's forms. Numbers and dates use Latin digits, as the server's Babel does.
window.I18N = (function () {
  var data = {lang: document.documentElement.lang || 'en', plural: {}, messages: {}};
  try {
    if (document.body && document.body.dataset.i18n) { data = JSON.parse(document.body.dataset.i18n); }
  } catch (e) { /* no catalogue: English */ }
  var locale = data.lang + '-u-nu-latn';
  var rules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(data.lang) : null;
  function fill(text, params) {
    if (!params) { return text; }
    return text.replace(/%\((\w+)\)[sd]/g, function (whole, key) { return key in params ? String(params[key]) : whole; });
  }
  return {
    lang: data.lang,
    locale: locale,
    _: function (msgid, params) {
      var text = data.messages[msgid];
      return fill(typeof text === 'string' && text ? text : msgid, params);
    },
    ngettext: function (singular, plural, n, params) {
      var forms = data.messages[singular];
      var values = Object.assign({num: n}, params || {});
      if (!Array.isArray(forms)) { return fill(n === 1 ? singular : plural, values); }
      var index = rules ? data.plural[rules.select(n)] : (n === 1 ? 0 : 1);
      if (index === undefined || index >= forms.length) { index = forms.length - 1; }
      return fill(forms[index], values);
    }
  };
})();

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

// data-shown-when="select-id:value" on a block shows it only while that select has that value (a field only
// some choices need, e.g. the organization of an organization member); hidden, its fields are disabled so
// they are not sent.
(function () {
  var blocks = document.querySelectorAll('[data-shown-when]');
  function update() {
    blocks.forEach(function (block) {
      var rule = block.getAttribute('data-shown-when').split(':');
      var select = document.getElementById(rule[0]);
      var shown = !!select && select.value === rule[1];
      block.hidden = !shown;
      block.querySelectorAll('input, select, textarea').forEach(function (field) { field.disabled = !shown; });
    });
  }
  if (blocks.length) {
    document.addEventListener('change', update);
    update();
  }
})();

// A form the server refused keeps what was typed: the page it returns to gets the values (<body
// data-kept-form>, never passwords) and they go back into the form that posted them.
(function () {
  var raw = document.body && document.body.dataset.keptForm;
  if (!raw) { return; }
  var kept;
  try { kept = JSON.parse(raw); } catch (e) { return; }
  Array.prototype.forEach.call(document.forms, function (form) {
    var path;
    try { path = new URL(form.action, window.location.href).pathname; } catch (e) { return; }
    if (path !== kept.action) { return; }
    Object.keys(kept.values).forEach(function (name) {
      var values = kept.values[name];
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name !== name || field.type === 'hidden' || field.type === 'file' || field.type === 'password') { return; }
        if (field.type === 'checkbox' || field.type === 'radio') { field.checked = values.indexOf(field.value) !== -1; }
        else if (field.tagName === 'SELECT' && field.multiple) {
          Array.prototype.forEach.call(field.options, function (o) { o.selected = values.indexOf(o.value) !== -1; });
        } else { field.value = values[0]; }
      });
    });
  });
})();
