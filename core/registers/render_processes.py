"""Child processes that render a long document's page runs, and join them, outside the worker.

Started with `subprocess`, not `multiprocessing`: a Celery prefork pool process is daemonic, and
multiprocessing refuses daemonic processes any child ("daemonic processes are not allowed to have
children"), which left a prefork worker rendering every run itself. A child runs
`python -m core.registers.render_processes render|join`, reads one job a line (JSON) on stdin and answers
one line on stdout. The parent hands each render child one job at a time, retires it after RUNS_PER_CHILD
jobs (its memory goes with it) and starts another when needed; one left idle exits by itself. Each join gets
a fresh child of its own. HTML and PDFs travel as files in a private temporary directory, never through the
pipes. Children only import WeasyPrint and qpdf before their first job: a full warm-up (templates,
catalogues, two small PDFs) cost a child 1.4 s and 44 MB more than it saved its first run (17 pages: 7.2 s
and 171 MB from start to PDF instead of 5.7 s and 127 MB).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from . import pdf
from .pdf import RenderError

RUNS_PER_CHILD = 4       # jobs a child renders before it is retired
IDLE_SECONDS = 300       # a child with no job for this long exits (the parent retires it a little earlier)
JOB_SECONDS = 600        # a job that takes longer than this is given up (the child is killed)
PROJECT_ROOT = Path(__file__).resolve().parents[2]

CHILD_PEAK_RSS_KB = [0]  # the largest peak RSS a child reported (benches read it)


class RenderProcess:
    """One child: a subprocess with a pipe each way. A "render" child renders runs; a "join" child joins a
    document's runs and nothing else (no earlier runs' memory)."""

    def __init__(self, role: str = "render") -> None:
        self.process = subprocess.Popen([sys.executable, "-m", __name__, role], cwd=PROJECT_ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                        env={**os.environ, "RENDER_PARENT_PID": str(os.getpid())})
        self.jobs = 0
        self.last_used = time.monotonic()

    @property
    def replies(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def usable(self) -> bool:
        return (self.process.poll() is None and self.jobs < RUNS_PER_CHILD
                and time.monotonic() - self.last_used < IDLE_SECONDS - 30)

    def send(self, job: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except OSError as exc:  # it died since it was last used
            raise RenderError("a rendering process died") from exc
        self.jobs += 1

    def answer(self) -> dict[str, Any]:
        line = self.replies.readline()
        self.last_used = time.monotonic()
        if not line:
            raise RenderError("a rendering process died")
        reply = json.loads(line)
        CHILD_PEAK_RSS_KB[0] = max(CHILD_PEAK_RSS_KB[0], reply.get("peak_kb", 0))
        if "error" in reply:
            if reply.get("type") == "OSError":  # disk full, permissions: reported as a storage problem
                raise OSError(reply["error"])
            raise RenderError(reply["error"])
        return reply

    def retire(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()  # end of input: the child exits
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.replies.close()


_children: list[RenderProcess] = []
_lock = threading.Lock()  # one document at a time per worker process uses the children


def _child(busy: set[RenderProcess]) -> RenderProcess:
    """A usable idle child, or a new one."""
    for child in list(_children):
        if child in busy:
            continue
        if child.usable():
            return child
        _children.remove(child)
        child.retire()
    child = RenderProcess()
    _children.append(child)
    return child


def run_jobs(jobs: Sequence[Callable[[], dict[str, Any]]], processes: int) -> list[dict[str, Any]]:
    """Run jobs (each made when a child is free for it) on up to `processes` children; answers in job order.
    A job made as {"done": answer} needs no child (its result is already there)."""
    answers: list[dict[str, Any]] = [{}] * len(jobs)
    with _lock:
        busy: dict[RenderProcess, int] = {}
        queue = list(enumerate(jobs))
        try:
            while queue or busy:
                while queue and len(busy) < processes:
                    index, make = queue.pop(0)
                    job = make()
                    if "done" in job:
                        answers[index] = job["done"]
                        continue
                    child = _child(set(busy))
                    child.send(job)
                    busy[child] = index
                if not busy:
                    continue
                by_pipe = {child.replies: child for child in busy}
                ready, _, _ = select.select(list(by_pipe), [], [], JOB_SECONDS)
                if not ready:
                    raise RenderError("a rendering process took too long")
                for pipe in ready:
                    child = by_pipe[pipe]
                    index = busy.pop(child)
                    answers[index] = child.answer()
        except BaseException:
            for child in busy:  # a child still at work on an abandoned job: stop it
                _children.remove(child)
                child.process.kill()
                child.retire()
            raise
    return answers


def render_runs(runs: Sequence[tuple[Callable[[], str], int]], processes: int, keep: Path | None = None) -> bytes:
    """Render runs of pages (an HTML builder and its page count each) and join them into one tagged PDF.

    One run renders in this process in one pass; more run on `processes` child processes, at most one run per
    child at a time, so memory stays bounded by the run size; with `processes` 1 they render here in turn.
    `keep`: a folder of this document's rendered runs, each named by its HTML's digest, so a build that was
    stopped (a killed worker, a retry) renders again only the runs it had not finished, and only while their
    HTML is the same (the caller removes the folder once the document is stored)."""
    if len(runs) == 1 or processes <= 1:
        if keep is None:
            parts = [pdf.html_to_pdf(build(), expected_pages=pages) for build, pages in runs]
            return parts[0] if len(parts) == 1 else pdf.join_tagged([io.BytesIO(p) for p in parts])
        paths = [_kept_or_rendered(keep, i, build(), pages) for i, (build, pages) in enumerate(runs)]
        return paths[0].read_bytes() if len(paths) == 1 else pdf.join_tagged(paths)
    return render_and_join(runs, processes, keep)


def _run_file(folder: Path, index: int, html: str) -> Path:
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:24]
    return folder / f"run-{index:04d}-{digest}.pdf"


def _kept_or_rendered(folder: Path, index: int, html: str, pages: int) -> Path:
    """A run's PDF in `folder`: the one an earlier attempt rendered from the same HTML, or rendered now."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _run_file(folder, index, html)
    if not target.exists():  # written whole or not at all (a .part renamed), so an existing file is complete
        partial = target.with_suffix(".part")
        partial.write_bytes(pdf.html_to_pdf(html, expected_pages=pages))
        os.replace(partial, target)
    return target


def render_and_join(runs: Sequence[tuple[Callable[[], str], int]], processes: int, keep: Path | None = None
                    ) -> bytes:
    """Render runs of pages (an HTML builder and its page count each) on child processes, then join them in
    another (the join holds every page's objects: the worker's memory stays flat). Runs already in `keep`
    (render_runs) are not rendered again."""
    with tempfile.TemporaryDirectory(prefix="register-runs-") as directory:
        folder = keep or Path(directory)
        folder.mkdir(parents=True, exist_ok=True)

        def run_job(index: int, build: Callable[[], str], pages: int) -> Callable[[], dict[str, Any]]:
            def make() -> dict[str, Any]:
                text = build()
                target = _run_file(folder, index, text)
                if target.exists():
                    return {"done": {"pdf": str(target)}}
                html = Path(directory) / f"run-{index:04d}.html"
                html.write_text(text, encoding="utf-8")
                return {"html": str(html), "pdf": str(target), "pages": pages}
            return make

        jobs = [run_job(i, build, pages) for i, (build, pages) in enumerate(runs)]
        parts = [answer["pdf"] for answer in run_jobs(jobs, processes)]
        joined = str(Path(directory) / "joined.pdf")
        joiner = RenderProcess("join")  # a fresh child per join, gone after it: its memory is the join's alone
        try:
            joiner.send({"join": parts, "pdf": joined})
            if not select.select([joiner.replies], [], [], JOB_SECONDS)[0]:
                joiner.process.kill()
                raise RenderError("joining the page runs took too long")
            joiner.answer()
        finally:
            joiner.retire()
        return Path(joined).read_bytes()


@atexit.register
def retire_all() -> None:
    while _children:
        _children.pop().retire()


# --- the child -------------------------------------------------------------------------------------------------

def _do(job: dict[str, Any]) -> dict[str, Any]:
    if "join" in job:
        content = pdf.join_tagged([Path(p) for p in job["join"]])
    else:
        html = Path(job["html"]).read_text(encoding="utf-8")
        content = pdf.html_to_pdf(html, expected_pages=job["pages"])
    partial = job["pdf"] + ".part"
    Path(partial).write_bytes(content)
    os.replace(partial, job["pdf"])
    return {"pdf": job["pdf"]}


def _peak_rss_kb() -> int:
    """This process's peak resident memory. Not getrusage's ru_maxrss: that counts the parent's memory too,
    which a child had between fork and exec (a 17-page render child "peaked" at the worker's 200 MB)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):  # not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


PR_SET_PDEATHSIG = 1


def end_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this child when the process that started it dies (a pool child killed by SIGKILL or
    the out-of-memory killer): an orphaned render never runs on, holding memory, after its job was taken over.
    Elsewhere the closed stdin still ends an idle child."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def main() -> None:
    end_with_parent(int(os.environ.get("RENDER_PARENT_PID", os.getppid())))
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to stderr (the worker's log), never among the answers
    import pikepdf  # noqa: F401  (imported while the parent writes the first run's HTML)

    pdf._document_class()  # WeasyPrint imported, its user-agent stylesheet parsed
    while select.select([sys.stdin], [], [], IDLE_SECONDS)[0]:
        line = sys.stdin.readline()
        if not line:
            break  # the parent retired this child
        try:
            reply = _do(json.loads(line))
        except OSError as exc:
            reply = {"error": str(exc), "type": "OSError"}
        except Exception as exc:  # reported to the parent, which fails the build with it
            reply = {"error": str(exc) if isinstance(exc, RenderError) else f"{type(exc).__name__}: {exc}"}
        reply["peak_kb"] = _peak_rss_kb()
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
