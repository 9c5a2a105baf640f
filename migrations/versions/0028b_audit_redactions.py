"""audit rows an erasure rewrote (issue 25): the audit hash chain's check takes their recorded hash

Revision ID: 0028b
Revises: 0028

A follow-up to 0028 (already merged): databases upgraded to 0028 get the table here.
"""
from alembic import op
import sqlalchemy as sa

revision = '0028b'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_redactions',
        sa.Column('audit_event_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('redacted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['audit_event_id'], ['audit_events.id'],
                                name=op.f('fk_audit_redactions_audit_event_id_audit_events'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('audit_event_id', name=op.f('pk_audit_redactions')),
    )


def downgrade():
    op.drop_table('audit_redactions')
