"""Background jobs that are never stuck or lost: outbox, heartbeats, the sweeper, retries, status in words.

A *job* is one run of a Celery task on one domain row (an import, a document, a schedule run…). The
platform gives every registered kind the same guarantees, with no code in the task itself:

* **Outbox.** `enqueue(session, KIND, row_id)` writes a `jobs` row in the caller's transaction; it is sent
  to the broker after commit. A broker that is down makes no request fail or hang: the row waits in the
  outbox and the sweeper sends it when the broker is back.
* **Heartbeat.** When a worker runs the task, the wrapper in web/queue.py claims the job (a duplicate
  delivery is skipped), beats a heartbeat from a thread every `JOB_HEARTBEAT_SECONDS`, and records
  SUCCEEDED or FAILED at the end.
* **Sweeper** (beat, every `JOB_SWEEP_SECONDS`): a stale heartbeat (killed worker) or a lost message
  (broker restarted) puts the job back in the outbox; after `max_attempts` runs it ends FAILED and
  `on_give_up` tells the row why.
* **Retry.** `retry(session, KIND, row_id)` resets the row (`on_retry`) and queues a new job.
* **Status.** `describe(session, [KIND.name], row_id)` gives "Queued 3 minutes ago, waiting for a worker."

Registering a new kind (e.g. learner imports) takes a few lines::

    # core/learners/imports.py
    from core import jobs

    def _give_up(session, import_id, message):       # the row's failed state, with the message people see
        session.execute(update(LearnerImport).where(LearnerImport.id == import_id,
                        LearnerImport.status.in_(RUNNING_STATES)).values(status="FAILED", error=message))

    VALIDATE = jobs.register(jobs.JobKind("learner_imports.validate", queue=jobs.IMPORTS,
                                          on_give_up=_give_up, on_retry=_back_to_uploaded))

    def create_learner_import(session, ...):
        ...; session.flush()
        jobs.enqueue(session, VALIDATE, imp.id)      # sent after commit

    # tasks/learners.py: a task named like the kind, taking the row id. Nothing else: no heartbeat code.
    @shared_task(name="learner_imports.validate", acks_late=True)
    def validate_learner_import(import_id: int) -> None: ...

and import the core module from the task module (so the worker knows the kind). The task must be
idempotent: the sweeper may run it again after a crash. Routing by queue follows the kind.
"""

from .outbox import Publisher, QueueDepths, enqueue, latest_job, publish, retry, use_broker
from .registry import DEFAULT, DOCUMENTS, IMPORTS, QUEUES, JobKind, kind_named, move_row, register, registered
from .runner import Claim, tracked
from .status import JobView, describe, forget_worker, live_workers, oldest_queued, record_worker, workers_for
from .sweeper import SweepReport, SweepSettings, sweep

__all__ = [
    "DEFAULT", "DOCUMENTS", "IMPORTS", "QUEUES", "Claim", "JobKind", "JobView", "Publisher", "QueueDepths",
    "SweepReport",
    "SweepSettings", "describe", "enqueue", "forget_worker", "kind_named", "latest_job", "live_workers", "move_row",
    "oldest_queued", "publish", "record_worker", "register", "registered", "retry", "sweep", "tracked",
    "use_broker", "workers_for",
]
