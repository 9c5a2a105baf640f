"""Portal reports as jobs (core.jobs): built on the documents queue like the registers, whose failed state
and retry they share (they are register documents too)."""

from __future__ import annotations

from core import jobs
from core.registers.jobs import _back_to_pending, _gave_up

BUILD_REPORT = jobs.register(jobs.JobKind("portals.build_report", queue=jobs.DOCUMENTS, on_give_up=_gave_up,
                                          on_retry=_back_to_pending))
