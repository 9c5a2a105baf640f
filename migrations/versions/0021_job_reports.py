"""jobs: when the sweeper rescued a job, and when its trouble was reported to the institution's admins (issue 20)

Revision ID: 0021
Revises: 0020

A job that used all its attempts (FAILED) or that the sweeper had to rescue (its worker died) is mailed to the
institution's admins once: `reported_at` is set in the transaction that owes the mails. Jobs that failed before
this revision count as reported (no mail about old trouble).
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('jobs', sa.Column('rescued_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('jobs', sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE jobs SET reported_at = finished_at WHERE status = 'FAILED'")


def downgrade() -> None:
    op.drop_column('jobs', 'reported_at')
    op.drop_column('jobs', 'rescued_at')
