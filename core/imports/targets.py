"""The import targets, side by side: trainees (into a corporate cohort) and learners (into an institution,
optionally enrolled into a public cohort). A new target is one more ImportTarget here (core.imports.pipeline)."""

from __future__ import annotations

from core.models import ImportKind

from . import commit, learners, rules, trainees
from .pipeline import ImportTarget

TARGETS: dict[ImportKind, ImportTarget] = {
    target.kind: target for target in (
        ImportTarget(ImportKind.TRAINEES, columns=rules.COLUMNS, validator=trainees.trainee_validator,
                     commit=commit.commit_trainees),
        ImportTarget(ImportKind.LEARNERS, columns=learners.COLUMNS, validator=learners.learner_validator,
                     commit=learners.commit_learner_import),
    )
}


def target_for(kind: ImportKind | str | None) -> ImportTarget:
    """The target of an import of this kind (rows written before kinds existed are trainee imports)."""
    return TARGETS[ImportKind(kind or ImportKind.TRAINEES)]
