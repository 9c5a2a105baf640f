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
    # The cohort's trainee list pages by name: keep that an index scan for cohorts of 100k trainees.
    with op.batch_alter_table('corporate_trainees', schema=None) as batch_op:
        batch_op.create_index('ix_corporate_trainees_cohort_name', ['cohort_id', 'full_name', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('corporate_trainees', schema=None) as batch_op:
        batch_op.drop_index('ix_corporate_trainees_cohort_name')
