"""HTML pages to a tagged PDF (WeasyPrint), fast and in bounded memory.

* WeasyPrint fetches nothing but the package's own files: `AllowListFetcher` refuses every other URL
  (remote, `file://` elsewhere on disk, data: …), so text that looks like a URL in a trainee's name can
  never make the worker read a file or call a server.
* Pages have a fixed number of rows (layout.py), so a long document is cut into page runs rendered in
  parallel child processes (`RENDER_PROCESSES`), each run in its own process that is recycled after a
  few runs, so the worker's memory stays at one run's whatever the cohort size. The runs are joined
  with pypdf, structure tree included, so the joined PDF is still tagged for screen readers.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import io
import logging
import multiprocessing
import os
import resource
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent


class RenderError(Exception):
    """The document could not be rendered (a template error, a layout overflow, a font or disk problem)."""


def allow_list_fetcher(roots: Sequence[Path] = (PACKAGE_ROOT,)) -> Any:
    """A WeasyPrint URL fetcher that serves only files under `roots`; it records what it refused."""
    from weasyprint.urls import URLFetcher

    allowed = [r.resolve() for r in roots]

    class AllowListFetcher(URLFetcher):
        refused: list[str]

        def fetch(self, url: str, headers: Any = None) -> Any:
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


def html_to_pdf(html: str, *, expected_pages: int | None = None, fetcher: Any = None) -> bytes:
    """One HTML document to a tagged PDF (PDF/UA-1)."""
    from weasyprint import HTML

    fetcher = fetcher or allow_list_fetcher()
    document = HTML(string=html, base_url=str(PACKAGE_ROOT / "templates") + "/", url_fetcher=fetcher).render(
        pdf_tags=True)
    if expected_pages is not None and len(document.pages) != expected_pages:
        raise RenderError(f"layout overflow: {len(document.pages)} pages instead of {expected_pages}")
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)


def _render_run(html: str, expected_pages: int, directory: str) -> tuple[str, int]:
    """In a child process: render one run of pages to a temporary file; return its path and the child's
    peak RSS (KiB) so far."""
    pdf = html_to_pdf(html, expected_pages=expected_pages)
    fd, path = tempfile.mkstemp(suffix=".pdf", dir=directory)
    with os.fdopen(fd, "wb") as out:
        out.write(pdf)
    return path, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


CHILD_PEAK_RSS_KB = [0]  # the largest peak RSS a render child reported (benches read it)


_POOL: concurrent.futures.ProcessPoolExecutor | None = None
_POOL_SIZE = 0
RUNS_PER_CHILD = 4  # a child renders this many runs, then is replaced (its memory goes with it)


def _pool(processes: int) -> concurrent.futures.ProcessPoolExecutor:
    """Child processes for rendering, forked from a clean server process (not from the worker, which
    holds database connections and threads)."""
    global _POOL, _POOL_SIZE
    if _POOL is None or processes != _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["weasyprint", "core.registers.pdf"])
        _POOL = concurrent.futures.ProcessPoolExecutor(max_workers=processes, mp_context=context,
                                                       max_tasks_per_child=RUNS_PER_CHILD)
        atexit.register(shutdown_pool)  # before the interpreter tears modules down under the pool's threads
        _POOL_SIZE = processes
    return _POOL


def shutdown_pool() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL = None


def render_runs(runs: Sequence[tuple[Callable[[], str], int]], processes: int) -> bytes:
    """Render runs of pages (an HTML builder and its page count each) and join them into one tagged PDF.

    One run renders in this process; more run on `processes` child processes, at most `processes` runs
    in flight, so memory stays bounded by the run size."""
    if len(runs) == 1 or processes <= 1:
        return _render_here(runs)
    try:
        pool = _pool(processes)
        return _render_on(pool, runs, processes)
    except (AssertionError, OSError, RenderError) as exc:  # no children here (e.g. a daemonic pool process)
        log.warning("rendering page runs in this process: %s", exc)
        shutdown_pool()
        return _render_here(runs)


def _render_here(runs: Sequence[tuple[Callable[[], str], int]]) -> bytes:
    parts = [html_to_pdf(build(), expected_pages=pages) for build, pages in runs]
    return parts[0] if len(parts) == 1 else join_tagged([io.BytesIO(p) for p in parts])


def _render_on(pool: concurrent.futures.ProcessPoolExecutor, runs: Sequence[tuple[Callable[[], str], int]],
               processes: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="register-runs-") as directory:
        paths: list[str | None] = [None] * len(runs)
        pending: dict[concurrent.futures.Future[tuple[str, int]], int] = {}
        queue = list(enumerate(runs))
        try:
            while queue or pending:
                while queue and len(pending) < processes:
                    index, (build, pages) = queue.pop(0)
                    pending[pool.submit(_render_run, build(), pages, directory)] = index
                done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    path, peak = future.result()
                    paths[pending.pop(future)] = path
                    CHILD_PEAK_RSS_KB[0] = max(CHILD_PEAK_RSS_KB[0], peak)
            # The join holds every page's objects: it runs in a child too, so the worker's memory stays flat.
            joined, peak = pool.submit(_join_run_files, [p for p in paths if p is not None], directory).result()
            CHILD_PEAK_RSS_KB[0] = max(CHILD_PEAK_RSS_KB[0], peak)
        except concurrent.futures.process.BrokenProcessPool as exc:
            shutdown_pool()
            raise RenderError("a rendering process died") from exc
        finally:
            for future in pending:
                future.cancel()
        return Path(joined).read_bytes()


def _join_run_files(paths: list[str], directory: str) -> tuple[str, int]:
    """In a child process: join the runs' files into one tagged PDF file; return its path and peak RSS (KiB)."""
    fd, path = tempfile.mkstemp(suffix=".pdf", dir=directory)
    with os.fdopen(fd, "wb") as out:
        out.write(join_tagged([Path(p) for p in paths]))
    return path, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


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
