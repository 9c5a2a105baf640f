"""A lint over Jinja templates: user-visible English outside `_()`.

Jinja tags are taken out first (a `{{ … }}` becomes a placeholder without letters), then the HTML that is
left is parsed: a text node, or a title/placeholder/aria-label/alt attribute (and a button's value), with
a word in it is bare text the catalogue never sees. Script and style bodies are not text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

# Words that read the same in every language of the product: formats, standards, product and agency names.
SAME_IN_EVERY_LANGUAGE = frozenset({
    "PDF", "CSV", "XLSX", "API", "OpenAPI", "JSON", "QCTO", "UTC", "E.164", "iCal", "ICS", "URL", "SHA-256",
    "sha256", "Swagger", "UI", "ID",
})
VISIBLE_ATTRIBUTES = frozenset({"title", "placeholder", "aria-label", "alt", "aria-description", "label"})
PLACEHOLDER = "\x00"
WORD = re.compile(r"[^\W\d_][\w.\-]*", re.UNICODE)


@dataclass(frozen=True)
class BareText:
    template: str
    line: int
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.where}: {self.text!r}"


def _markup_only(env: Environment, source: str) -> str:
    """The template's HTML with each Jinja tag replaced by a placeholder (newlines kept for line numbers)."""
    out: list[str] = []
    depth = 0
    for _line, kind, value in env.lex(source):
        if kind == "data":
            out.append(value)
        elif kind in {"variable_begin", "block_begin", "comment_begin"}:
            depth += 1
        elif kind in {"variable_end", "block_end", "comment_end"}:
            depth -= 1
            out.append(PLACEHOLDER)
        elif kind == "raw_begin":
            depth += 1
        if depth and "\n" in value:
            out.append("\n" * value.count("\n"))
    return "".join(out)


TIME_ZONE = re.compile(r"^[A-Z][a-z]+/[A-Z][A-Za-z_]+$")  # an example value such as Africa/Algiers


def _words(text: str) -> list[str]:
    if TIME_ZONE.match(text.strip()):
        return []
    return [w for w in WORD.findall(text.replace(PLACEHOLDER, " ")) if w not in SAME_IN_EVERY_LANGUAGE]


class _Finder(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.name, self.found, self.skip = name, [], 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self.skip += 1
        values = dict(attrs)
        for attr, value in attrs:
            visible = attr in VISIBLE_ATTRIBUTES or (
                attr == "value" and tag == "input" and values.get("type") in {"submit", "button", "reset"})
            if visible and value and _words(value):
                self.found.append(BareText(self.name, self.getpos()[0], f"<{tag} {attr}>", value.strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and _words(data):
            self.found.append(BareText(self.name, self.getpos()[0], "text",
                                       " ".join(data.replace(PLACEHOLDER, "…").split())))


def bare_text(path: Path, root: Path) -> list[BareText]:
    env = Environment(extensions=["jinja2.ext.i18n"])
    finder = _Finder(str(path.relative_to(root)))
    finder.feed(_markup_only(env, path.read_text(encoding="utf-8")))
    finder.close()
    return finder.found


# Calls whose string arguments are not words for people: translation calls (their text is the msgid), links,
# formats and filters that take codes.
NOT_WORDS_CALLS = frozenset({"_", "gettext", "ngettext", "pgettext", "npgettext", "url_for", "maybe_url", "can",
                             "format_date", "format_datetime", "format_time", "format_number", "format_decimal",
                             "format_percent", "strftime", "get", "startswith", "endswith", "replace", "split",
                             "join", "update", "pop", "setdefault", "dict", "csrf_token", "request_arg", "attr",
                             "selectattr", "rejectattr", "map", "sort", "groupby", "sum", "default", "format",
                             "label", "local_date"})
TITLE_WORD = re.compile(r"\b[A-Z][a-z]{2,}")


def string_literals(path: Path, root: Path) -> list[BareText]:
    """String constants in Jinja expressions that read as English words ("Search", 'Not marked')."""
    from jinja2 import nodes

    env = Environment(extensions=["jinja2.ext.i18n"])
    tree = env.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for call in tree.find_all(nodes.Call):
        name = call.node.name if isinstance(call.node, nodes.Name) else getattr(call.node, "attr", None)
        if name in NOT_WORDS_CALLS:
            skip.update(id(c) for c in call.find_all(nodes.Const))
    for flt in tree.find_all(nodes.Filter):
        if flt.name in NOT_WORDS_CALLS:
            for arg in flt.args:
                skip.update(id(c) for c in arg.find_all(nodes.Const))
                if isinstance(arg, nodes.Const):
                    skip.add(id(arg))
    for item in tree.find_all(nodes.Getitem):  # keys: row["name"]
        if isinstance(item.arg, nodes.Const):
            skip.add(id(item.arg))
    found = []
    name = str(path.relative_to(root))
    for const in tree.find_all(nodes.Const):
        if id(const) in skip or not isinstance(const.value, str):
            continue
        if TITLE_WORD.search(const.value) and _words(const.value):
            found.append(BareText(name, const.lineno, "string in an expression", const.value))
    return found
