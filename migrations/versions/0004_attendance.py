"""attendance, locking and reminders (issue 5)

Revision ID: 0004
Revises: 0003

Each feature owns one revision in a fixed chain so that parallel work never forks the history.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
