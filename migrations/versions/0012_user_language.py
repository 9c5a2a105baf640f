"""languages (issue 12): a user's own language

Revision ID: 0012
Revises: 0010_import_rows

users.language: the language a user chose on Profile ("en", "fr", "ar"); NULL means none chosen, so the
browser's Accept-Language and then the institution's default language decide.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0010_import_rows'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
