"""register_documents.verification_code indexed (issue 27: the verify page also accepts the code typed)

Revision ID: 0018
Revises: 0017

The public verify page looks a document up by the verification code printed beside its reference; without
an index every lookup would read the whole table.
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_register_documents_verification_code', 'register_documents', ['verification_code'])


def downgrade() -> None:
    op.drop_index('ix_register_documents_verification_code', table_name='register_documents')
