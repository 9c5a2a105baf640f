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
    pass


def downgrade():
    pass
