"""corporate cohorts and trainee imports (issue 3)

Revision ID: 0002
Revises: 0001

Each feature owns one revision in a fixed chain so that parallel work never forks the history.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Issue 3 needs no schema change: trainee_imports, trainee_import_rows and corporate_trainees (with
    # their unique keys and indexes) are in 0001. An extra (cohort_id, full_name) index for the trainee
    # list was measured and left out: it costs the 100k-row commit more than it saves a paged list.
    pass


def downgrade():
    pass
