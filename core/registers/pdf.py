"""HTML pages to a tagged PDF (WeasyPrint), fast and in bounded memory.

* WeasyPrint fetches nothing but the package's own files and QR codes it makes itself: `AllowListFetcher`
  refuses every other URL (remote, `file://` elsewhere on disk, data: …), so text that looks like a URL in
  a trainee's name can never make the worker read a file or call a server.
* Pages have a fixed number of rows (layout.py), so a long document is cut into page runs. A document of
  one run renders in one pass in the calling process (no join, no process to start); longer ones render
  their runs on child processes (render_processes.render_runs, which calls this module, never the other
  way), at most `processes` at a time, each child recycled after a few runs, so memory stays at one run's
  whatever the cohort size. The runs are joined with qpdf (pikepdf), structure tree included, so the
  joined PDF is still tagged for screen readers.
"""

from __future__ import annotations

import base64
import functools
import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent
QR_SCHEME = "qr:"  # <img src="qr:…">: the QR code of the (percent-encoded) text after it, made by the fetcher
SIGNATURE_SCHEME = "signature:"  # <img src="signature:…">: a learner's drawn signature, the PNG's base64 after it
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class RenderError(Exception):
    """The document could not be rendered (a template error, a layout overflow, a font or disk problem)."""


def qr_image_url(text: str) -> str:
    """The URL of an image of `text` as a QR code. WeasyPrint fetches an image once per document and every page
    that shows it draws that one image (where an inline SVG is parsed, laid out and drawn again on each page)."""
    return QR_SCHEME + quote(text, safe="")


def signature_image_url(png: bytes) -> str:
    """The URL of a stored signature's PNG for the fetcher: the bytes travel with the document's data (rendering
    may run in another process, without the storage), and only a PNG by its content is ever served."""
    return SIGNATURE_SCHEME + base64.b64encode(png).decode("ascii")


def _signature_png(url: str) -> bytes:
    png = base64.b64decode(url.removeprefix(SIGNATURE_SCHEME), validate=True)
    if not png.startswith(PNG_MAGIC):
        raise ValueError("not a PNG signature")
    return png


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
            if url.startswith(SIGNATURE_SCHEME):
                return URLFetcherResponse(url, _signature_png(url), {"Content-Type": "image/png"})
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


def join_tagged(parts: Sequence[Path | io.BytesIO]) -> bytes:
    """Join tagged PDFs page after page, keeping one structure tree: the parts' document elements' kids become
    kids of one document element, and their parent-tree keys are renumbered. qpdf (pikepdf) copies the
    objects: fifteen times faster than pypdf on registers (a page holds hundreds of structure elements), and it
    writes them back into compressed object streams (pypdf wrote each alone: files four times larger)."""
    import pikepdf
    from pikepdf import Array

    out = pikepdf.new()
    kids, nums, offset, owned = Array(), Array(), 0, set()
    for n, part in enumerate(parts):
        source = pikepdf.open(part)
        shift, first_page = offset, len(out.pages)
        out.pages.extend(source.pages)
        for page in out.pages[first_page:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + shift
            for annotation in page.obj.get("/Annots", Array()):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + shift
            _own_streams(page.obj, owned)
        tree = source.Root.get("/StructTreeRoot")
        if tree is not None:
            tree = out.copy_foreign(tree)  # its /Pg references land on the pages copied above (qpdf maps them)
            top = tree.K
            for element in (top if isinstance(top, Array) else [top]):
                inner = element.get("/K", Array())
                kids.extend(inner if isinstance(inner, Array) else [inner])
            part_nums = tree.ParentTree.get("/Nums", Array())
            for i in range(0, len(part_nums), 2):
                key = int(part_nums[i]) + shift
                nums.extend([key, part_nums[i + 1]])
                offset = max(offset, key + 1)
        if n == 0:
            _finish_catalog(out, source)
        source.close()  # the part's objects go: memory holds the joined document's, not every part's too
    if len(kids):
        _structure_tree(out, kids, nums, offset)
    buffer = io.BytesIO()
    out.save(buffer, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    return buffer.getvalue()


def _own_streams(page: Any, owned: set[tuple[int, int]]) -> None:
    """Copy into the joined document the (still encoded) data of the streams a copied page uses (contents,
    fonts, images): qpdf would otherwise read it from the part when writing, so every part stayed open."""
    from pikepdf import Array, Dictionary, Stream

    stack = [page]
    while stack:
        item = stack.pop()
        if isinstance(item, Array):
            stack.extend(item)
            continue
        if not isinstance(item, Dictionary | Stream):
            continue
        if item.is_indirect:
            if item.objgen in owned:
                continue
            owned.add(item.objgen)
        if isinstance(item, Stream):
            item.write(item.read_raw_bytes(), filter=item.get("/Filter"), decode_parms=item.get("/DecodeParms"))
        stack.extend(value for key, value in item.items() if key not in ("/Parent", "/P", "/Pg"))  # not upwards


def _finish_catalog(out: Any, first: Any) -> None:
    """The first part's language, tagging flags, viewer preferences, metadata and document information."""
    import pikepdf

    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata"):
        if key in first.Root:
            value = first.Root[key]
            # Direct values here are plain (a string, flags): they are written again; indirect ones are copied.
            out.Root[key] = out.copy_foreign(value) if value.is_indirect else pikepdf.Object.parse(value.unparse())
            if isinstance(out.Root[key], pikepdf.Stream):
                _own_streams(out.Root[key], set())
    if "/Info" in first.trailer:
        out.docinfo = out.copy_foreign(first.docinfo)


def _structure_tree(out: Any, kids: Any, nums: Any, next_key: int) -> None:
    """One structure tree: a document element over the parts' elements, and the renumbered parent tree."""
    from pikepdf import Array, Dictionary, Name

    document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=kids))
    root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([document]),
                                        ParentTree=out.make_indirect(Dictionary(Nums=nums)),
                                        ParentTreeNextKey=next_key))
    document.P = root
    for kid in kids:
        if isinstance(kid, Dictionary):
            kid.P = document
    out.Root.StructTreeRoot = root
