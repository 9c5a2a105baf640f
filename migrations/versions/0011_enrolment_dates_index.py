"""cohort list: an index on attendance records by enrolment and date (issue 9 figures)

Revision ID: 0011
Revises: 0007

The cohort list subtracts marks that fall outside a learner's enrolment (before it, or from the withdrawal on).
With (enrolment_id, record_date) those are found by two range probes per enrolment (usually empty) instead of
reading every record of every listed cohort and filtering them by date.
"""
from alembic import op

revision = '0011'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_attendance_records_enrolment_date", "attendance_records", ["enrolment_id", "record_date"])


def downgrade():
    op.drop_index("ix_attendance_records_enrolment_date", table_name="attendance_records")
