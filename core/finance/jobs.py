"""Finance as job kinds (core.jobs): invoice and credit-note PDFs on the documents queue (the registers' failed
state and retry), and the nightly overdue run on the default queue (no row: run by beat or by hand)."""

from __future__ import annotations

from core import jobs
from core.registers.jobs import MAX_ATTEMPTS, back_to_pending, document_failed, failure_message

BUILD_INVOICE = jobs.register(jobs.JobKind(
    "finance.build_document", queue=jobs.DOCUMENTS, max_attempts=MAX_ATTEMPTS, transient=(Exception,),
    backoff=jobs.Backoff(base=30, setting="REGISTER_RETRY_SECONDS"), on_fail=document_failed,
    explain=failure_message, on_retry=back_to_pending))
MARK_OVERDUE = jobs.register(jobs.JobKind("finance.mark_overdue", max_attempts=6,
                                          backoff=jobs.Backoff(base=60, setting="REMINDER_RETRY_SECONDS"),
                                          per_row=False))
