"""HTML pages to a tagged PDF (WeasyPrint), fast and in bounded memory.

* WeasyPrint fetches nothing but the package's own files and QR codes it makes itself: `AllowListFetcher`
  refuses every other URL (remote, `file://` elsewhere on disk, data: …), so text that looks like a URL in
  a trainee's name can never make the worker read a file or call a server.
* Pages have a fixed number of rows (layout.py), so a long document is cut into page runs. A document of
  one run renders here in one pass (no join, no process to start); longer ones render their runs on child
  processes (render_processes.py), at most `processes` at a time, each child recycled after a few runs, so
  memory stays at one run's whatever the cohort size. The runs are joined with pypdf, structure tree
  included, so the joined PDF is still tagged for screen readers.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent
QR_SCHEME = "qr:"  # <img src="qr:…">: the QR code of the (percent-encoded) text after it, made by the fetcher


class RenderError(Exception):
    """The document could not be rendered (a template error, a layout overflow, a font or disk problem)."""


def qr_image_url(text: str) -> str:
    """The URL of an image of `text` as a QR code. WeasyPrint fetches an image once per document and every page
    that shows it draws that one image (where an inline SVG is parsed, laid out and drawn again on each page)."""
    return QR_SCHEME + quote(text, safe="")


@functools.lru_cache(maxsize=32)
def _qr_png(text: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=1, border=1)  # one pixel a module: CSS sizes it
    return out.getvalue()


def allow_list_fetcher(roots: Sequence[Path] = (PACKAGE_ROOT,)) -> Any:
    """A WeasyPrint URL fetcher that serves only files under `roots` and QR codes (`qr:` URLs, made here: no
    I/O); it records what it refused."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = [r.resolve() for r in roots]

    class AllowListFetcher(URLFetcher):
        refused: list[str]

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(QR_SCHEME):
                return URLFetcherResponse(url, _qr_png(unquote(url.removeprefix(QR_SCHEME))),
                                          {"Content-Type": "image/png"})
            if url.startswith("file:"):
                from urllib.request import url2pathname

                path = Path(url2pathname(url.split("?", 1)[0].removeprefix("file:"))).resolve()
                if any(path == root or root in path.parents for root in allowed):
                    return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError(f"not fetched (outside the allow-list): {url[:200]}")

    fetcher = AllowListFetcher(timeout=1, allow_redirects=False)
    fetcher.refused = []
    return fetcher


@functools.cache
def _document_class() -> type:
    """WeasyPrint's HTML with its user-agent stylesheet less the footnote and note pseudo-element rules: they
    match every element, so each element got five pseudo-element styles computed that no document here uses
    (about a twentieth of a register's rendering). If WeasyPrint changes how it exposes that stylesheet, the
    stock one is used."""
    from weasyprint import CSS, HTML

    try:
        from weasyprint import html as stock
        from weasyprint.css.counters import CounterStyle

        ua = re.sub(r"^::(?:footnote|note)-[\w-]+ \{[^}]*\}\n", "", stock.UA, flags=re.M)
        sheet = CSS(string=ua, counter_style=CounterStyle())  # documents get the stock counter styles
    except (AttributeError, ImportError):  # pragma: no cover - another WeasyPrint
        return HTML

    class RegisterHTML(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet, *super()._ua_stylesheets(forms)[1:]]

    return RegisterHTML


def html_to_pdf(html: str, *, expected_pages: int | None = None, fetcher: Any = None) -> bytes:
    """One HTML document to a tagged PDF (PDF/UA-1)."""
    fetcher = fetcher or allow_list_fetcher()
    document = _document_class()(string=html, base_url=str(PACKAGE_ROOT / "templates") + "/",
                                 url_fetcher=fetcher).render(pdf_tags=True)
    if expected_pages is not None and len(document.pages) != expected_pages:
        raise RenderError(f"layout overflow: {len(document.pages)} pages instead of {expected_pages}")
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


WARM_UP_HTML = """<!doctype html><html lang="en"><head><style>{css}</style></head><body class="cohort">
<section class="page"><div class="head"><img class="qr" src="{qr}" alt="QR"><p class="org">Éa ياسين</p><h1>R</h1>
<p class="facts"><span>a <b>b</b></span></p></div><table class="grid"><thead><tr><th>#</th><th class="marks">01</th>
</tr></thead><tbody><tr><td class="num">1</td><th scope="row">Élodie ياسين</th><td class="marks"> P </td></tr>
</tbody></table><table class="rows"><tr><td>x</td></tr></table><div class="foot"><span class="ref">R</span></div>
</section></body></html>"""


def warm_up() -> None:
    """Load what the first document would otherwise load on the clock: the fonts (regular, bold, monospace,
    Arabic), text shaping, image, tagging and PDF/UA code. Worker processes call it when they start."""
    css = (PACKAGE_ROOT / "templates" / "register.css").read_text()
    html_to_pdf(WARM_UP_HTML.format(css=css, qr=qr_image_url("warm-up")))


def render_runs(runs: Sequence[tuple[Callable[[], str], int]], processes: int) -> bytes:
    """Render runs of pages (an HTML builder and its page count each) and join them into one tagged PDF.

    One run renders in this process in one pass; more run on `processes` child processes, at most one run per
    child at a time, so memory stays bounded by the run size; with `processes` 1 they render here in turn."""
    if len(runs) == 1 or processes <= 1:
        parts = [html_to_pdf(build(), expected_pages=pages) for build, pages in runs]
        return parts[0] if len(parts) == 1 else join_tagged([io.BytesIO(p) for p in parts])
    from . import render_processes

    return render_processes.render_and_join(runs, processes)


def join_tagged(parts: Sequence[Path | io.BytesIO]) -> bytes:
    """Join tagged PDFs page after page, keeping one structure tree: the parts' document elements become
    kids of one document element, and their parent-tree keys are renumbered."""
    writer = PdfWriter()
    kids = ArrayObject()
    nums = ArrayObject()
    offset = 0
    first: PdfReader | None = None
    for part in parts:
        reader = PdfReader(part)
        first = first or reader
        tree = reader.trailer["/Root"].get("/StructTreeRoot")
        shift = offset
        for page in reader.pages:
            added = writer.add_page(page)  # pypdf drops /StructParents on the copy: set it, renumbered
            if "/StructParents" in page:
                added[NameObject("/StructParents")] = NumberObject(int(page["/StructParents"]) + shift)
            for annotation in added.get("/Annots", []):
                annotation = annotation.get_object()
                if "/StructParent" in annotation:
                    annotation[NameObject("/StructParent")] = NumberObject(int(annotation["/StructParent"]) + shift)
        if tree is None:
            continue
        tree = tree.get_object().clone(writer)  # shares the page clones made above (pypdf maps ids per reader)
        top = tree["/K"]
        for element in (top if isinstance(top, ArrayObject) else [top]):
            element = element.get_object()
            inner = element.get("/K", [])
            kids.extend(inner if isinstance(inner, ArrayObject) else [inner])
        part_nums = tree["/ParentTree"].get_object().get("/Nums", [])
        for i in range(0, len(part_nums), 2):
            key = int(part_nums[i]) + shift
            nums.extend([NumberObject(key), part_nums[i + 1]])
            offset = max(offset, key + 1)
    if first is not None:
        _finish_catalog(writer, first, kids, nums, offset)
    writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _finish_catalog(writer: PdfWriter, first: PdfReader, kids: ArrayObject, nums: ArrayObject, next_key: int
                    ) -> None:
    source = first.trailer["/Root"]
    catalog = writer._root_object
    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences"):
        if key in source:
            catalog[NameObject(key)] = source[key].clone(writer) if hasattr(source[key], "clone") else source[key]
    if "/Metadata" in source:
        catalog[NameObject("/Metadata")] = source["/Metadata"].clone(writer).indirect_reference
    if first.metadata:
        writer.add_metadata({k: v for k, v in first.metadata.items() if isinstance(v, str)})
    if not kids:
        return
    document = DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                 NameObject("/S"): NameObject("/Document"), NameObject("/K"): kids})
    document_ref = writer._add_object(document)
    root = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot"),
                             NameObject("/K"): ArrayObject([document_ref]),
                             NameObject("/ParentTree"): writer._add_object(DictionaryObject(
                                 {NameObject("/Nums"): nums})),
                             NameObject("/ParentTreeNextKey"): NumberObject(next_key)})
    root_ref = writer._add_object(root)
    document[NameObject("/P")] = root_ref
    for kid in kids:
        element = kid.get_object()
        if isinstance(element, DictionaryObject):
            element[NameObject("/P")] = document_ref
    catalog[NameObject("/StructTreeRoot")] = root_ref
