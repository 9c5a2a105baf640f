"""The catalogues are complete: every msgid the code and templates use has a French and an Arabic translation,
with the same placeholders and every plural form; and no template shows English outside `_()`.

The msgids come from the real extraction (`bin/translations extract`, into a temporary file), so a string
wrapped today without a translation fails here, not in front of a reader.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.template_lint import bare_text, string_literals

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"fr": 2, "ar": 6}  # plural forms each language's catalogue must give
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TEMPLATES = sorted([*(ROOT / "web" / "templates").rglob("*.html"), *(ROOT / "core").glob("*/templates/*.html")])


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[object, object]:
    pot = tmp_path_factory.mktemp("catalogue") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(ROOT / "bin" / "translations"), "extract"], check=True, cwd=ROOT,
                   env={**os.environ, "POT": str(pot), "PYBABEL": str(pybabel)})
    with pot.open("rb") as handle:
        return {m.id: m for m in read_po(handle) if m.id}


def _catalogue(language: str):
    with (ROOT / "web" / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_extraction_finds_the_words_of_code_templates_and_scripts(extracted):
    assert len(extracted) > 900
    assert "Sign in" in extracted  # a template
    assert "No such import." in extracted  # a domain error (N_)
    assert "All changes saved" in extracted  # a script (web/static/register.js)
    assert ("%(num)s register still to mark", "%(num)s registers still to mark") in extracted  # a mail's plural


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_msgid_has_a_translation(extracted, language):
    catalogue = _catalogue(language)
    missing = []
    for msgid in extracted:
        entry = catalogue.get(msgid)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            entry.string if entry is not None else "",)
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(msgid)
    assert not missing, f"{len(missing)} msgid(s) without a {language} translation, e.g. {missing[:5]}"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_translations_keep_the_placeholders_and_give_every_plural_form(extracted, language):
    catalogue = _catalogue(language)
    assert catalogue.num_plurals == LANGUAGES[language]
    wrong = []
    for msgid in extracted:
        entry = catalogue.get(msgid)
        if entry is None or not entry.string:
            continue
        if isinstance(msgid, tuple):
            forms = entry.string
            expected = _placeholders(msgid[1]) - {"num"}
            if len(forms) != LANGUAGES[language] or any(_placeholders(f) - {"num"} != expected for f in forms):
                wrong.append(msgid)
        elif _placeholders(entry.string) != _placeholders(msgid):
            wrong.append(msgid)
    assert not wrong, f"{language}: placeholders or plural forms differ for {wrong[:5]}"


def test_the_lint_finds_bare_english(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<h1>{{ _("Fine") }}</h1><p>Bare words</p>'
                    '<input placeholder="Search here" aria-label="{{ _(\'ok\') }}">'
                    "{{ search_box('Type a name') }}<img alt=\"A chart\"><span>{{ count }} · PDF</span>")
    found = {(f.where, f.text) for f in [*bare_text(page, tmp_path), *string_literals(page, tmp_path)]}
    assert found == {("text", "Bare words"), ("<input placeholder>", "Search here"),
                     ("string in an expression", "Type a name"), ("<img alt>", "A chart")}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_shows_english_outside_the_catalogue(template):
    found = [*bare_text(template, ROOT), *string_literals(template, ROOT)]
    assert not found, "\n".join(str(f) for f in found)


# A code printed as text (a status, a role, a kind) is English on every page: it goes through `|label` (the
# catalogue) instead. Attribute values (data-status="{{ r.status }}") are for scripts, not readers.
RAW_CODE = re.compile(r"\{\{\s*[\w.]+\.(?:value|status|kind|role|scope)\s*\}\}")
ATTRIBUTE = re.compile(r'=\s*"[^"]*"')


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_prints_a_code_where_words_belong(template):
    text = ATTRIBUTE.sub('=""', template.read_text(encoding="utf-8"))
    found = [f for f in RAW_CODE.findall(text) if f != "{{ e.value }}"]  # an import row's typed value: not a code
    assert not found, f"{template.name}: {found} (use |label)"


def test_counts_of_sessions_held_use_every_arabic_plural_form():
    catalogue = _catalogue("ar")
    entry = catalogue.get(("%(held)d of %(num)d session held", "%(held)d of %(num)d sessions held"))
    assert entry is not None and len(entry.string) == 6 and len(set(entry.string)) >= 4  # zero … other
    for template in ("cohorts/cohort_page.html", "cohorts/cohort_list.html"):
        assert 'ngettext("%(held)d of %(num)d session held"' in (ROOT / "web" / "templates" / template).read_text()


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_word_the_screens_show_for_a_code_is_translated(language):
    """Role names, statuses, kinds (core.i18n.LABELS): what `|label` shows on every screen."""
    from core.i18n import LABELS

    catalogue = _catalogue(language)
    missing = [msgid for table in LABELS.values() for msgid in table.values()
               if msgid not in ("PDF", "CSV") and not (catalogue.get(msgid) and catalogue.get(msgid).string)]
    assert not missing, f"{language}: {missing}"
