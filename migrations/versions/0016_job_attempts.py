"""one count of attempts per job: the per-row counts the jobs table makes redundant go (issue 19)

Revision ID: 0016
Revises: 0015

A register build counted its attempts on its document (register_documents.attempts), on its job and in Celery;
an access notice on its row and on its job. Each job kind now declares its attempts (core.jobs) and the
`jobs` row counts them, one claim per run. Reminder rows keep theirs: a nightly run is no job on one row.
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_TABLES = ('register_documents', 'access_request_notices')


def upgrade():
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('attempts')


def downgrade():
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False))
