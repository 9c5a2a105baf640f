"""Portal reports as jobs (core.jobs): built on the documents queue like the registers, whose failed state
and retry they share (they are register documents too)."""

from __future__ import annotations

from core import jobs
from core.models import RegisterDocument
from core.registers.jobs import back_to_pending, document_failed

BUILD_REPORT = jobs.register(jobs.JobKind("portals.build_report", queue=jobs.DOCUMENTS, backoff=jobs.Backoff(base=10),
                                          on_fail=document_failed, on_retry=back_to_pending,
                                          institution_of=jobs.institution_column(RegisterDocument)))
