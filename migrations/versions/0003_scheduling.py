"""scheduling (issue 4)

Revision ID: 0003
Revises: 0002

Each feature owns one revision in a fixed chain so that parallel work never forks the history.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
