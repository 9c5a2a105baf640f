"""Background jobs that are never stuck or lost: one runtime for every kind of work.

A *job kind* is declared once, here in core (`JobKind`): its queue, the most attempts, which errors are
transient, the backoff, and the one hook that records the final failure on the row people see. The task
wears `tasks.policy.job_task(KIND)`, which applies all of it; a task has no retry or failure code of its own.
For a kind on one row (`per_row`, the default; the task takes the row id) the platform also gives:

* **Outbox.** `enqueue(session, KIND, row_id)` writes a `jobs` row in the caller's transaction; after commit the
  process's relay thread sends it to the broker, the caller waiting at most half a second. A broker that is down
  or hangs makes no request fail or wait: the row stays in the outbox and the sweeper sends it when the broker
  is back. It is the only way to enqueue work.
* **Heartbeat and ownership.** When a worker runs the task, the decorator claims the job, beats a heartbeat
  from a thread every `JOB_HEARTBEAT_SECONDS`, and records how it ended. On PostgreSQL the running task holds
  an advisory lock on its job (store.Ownership): a duplicate delivery finds it held and skips, and a delivery
  after the holder died (SIGKILL, out of memory) takes the job over at once.
* **Attempts.** One count: the job row's `attempts` (a claim each). A transient error runs the task again
  after the backoff; after `max_attempts` the job ends FAILED and `on_fail` tells the row why, in words.
  A domain error (core.errors) is the task's answer: `on_fail` records it, nothing is retried.
* **Sweeper** (beat, every `JOB_SWEEP_SECONDS`): a stale heartbeat (killed worker) or a lost message
  (broker restarted) puts the job back in the outbox; after `max_attempts` runs it ends FAILED (`on_fail`).
  Then each job that ended FAILED or had to be rescued is mailed once to its institution's admins
  (reports.py; the kind's `institution_of` says whose).
* **Retry.** `retry(session, KIND, row_id)` resets the row (`on_retry`) and queues a new job.
* **Status.** `describe(session, [KIND.name], row_id)` gives "Queued 3 minutes ago, waiting for a worker."

Registering a new kind (e.g. invoices) takes a few lines::

    # core/invoices/jobs.py
    from core import jobs

    def _failed(session, invoice_id, message):        # the row's failed state, with the message people see
        jobs.move_row(session, Invoice, invoice_id, (InvoiceStatus.ISSUING,), status=InvoiceStatus.FAILED,
                      error=message)

    ISSUE = jobs.register(jobs.JobKind("invoices.issue", queue=jobs.DOCUMENTS, max_attempts=3,
                                       backoff=jobs.Backoff(base=30), on_fail=_failed, on_retry=_back_to_draft))

    # core/invoices/service.py: in the use case's unit of work
        jobs.enqueue(session, ISSUE, invoice.id)       # sent after commit

    # tasks/invoices.py (add the module to tasks.broker.TASK_MODULES)
    @job_task(ISSUE)
    def issue_invoice(invoice_id: int) -> str: ...     # one use case; idempotent (the sweeper may run it again)

Transient trouble beyond the declared errors (some recipients' mail refused) raises `TryAgain`. A kind run
by beat on no row (the nightly lock, reminders) says `per_row=False`: the same policy, without a job row.
Routing by queue follows the kind.
"""

from . import runner
from .outbox import Publisher, QueueDepths, enqueue, latest_job, publish, retry, send_bounded, use_broker
from .registry import (
    DEFAULT,
    DOCUMENTS,
    GAVE_UP,
    IMPORTS,
    INTERNAL,
    QUEUES,
    TRANSIENT,
    Backoff,
    JobKind,
    TryAgain,
    Verdict,
    backoff_seconds,
    institution_column,
    kind_named,
    move_row,
    register,
    registered,
)
from .runner import Claim
from .status import (
    JobView,
    describe,
    forget_worker,
    live_workers,
    oldest_queued,
    record_worker,
    trouble,
    workers_for,
)
from .sweeper import SweepReport, SweepSettings, sweep

__all__ = [
    "DEFAULT", "DOCUMENTS", "GAVE_UP", "IMPORTS", "INTERNAL", "QUEUES", "TRANSIENT", "Backoff", "Claim", "JobKind",
    "JobView", "Publisher", "QueueDepths", "SweepReport", "SweepSettings", "TryAgain", "Verdict", "backoff_seconds",
    "describe", "enqueue", "forget_worker", "institution_column", "kind_named", "latest_job", "live_workers",
    "move_row", "oldest_queued", "publish", "record_worker", "register", "registered", "retry", "runner",
    "send_bounded", "sweep", "trouble", "use_broker", "workers_for",
]
