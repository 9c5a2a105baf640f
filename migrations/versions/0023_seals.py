"""institution seals: the certificate and encrypted private key that seal every issued PDF (issue 22)

Revision ID: 0023
Revises: 0022

Institutions that exist already get their seal on their first sealed document (core.seals.service.ensure_seal):
making keys needs SEAL_KEY_SECRET, which a migration does not hold.
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'institution_seals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('certificate_pem', sa.Text(), nullable=False),
        sa.Column('encrypted_key', sa.LargeBinary(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=400), nullable=False),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
        sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name='fk_institution_seals_institution_id_institutions', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name='fk_institution_seals_created_by_id_users',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_institution_seals'),
        sa.UniqueConstraint('fingerprint', name='uq_institution_seals_fingerprint'),
    )
    op.create_index('ix_institution_seals_institution_id', 'institution_seals', ['institution_id'])
    op.create_index('uq_institution_seals_in_force', 'institution_seals', ['institution_id'], unique=True,
                    postgresql_where=sa.text('replaced_at IS NULL'), sqlite_where=sa.text('replaced_at IS NULL'))
    op.add_column('register_documents', sa.Column('seal_fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('register_documents', 'seal_fingerprint')
    op.drop_index('uq_institution_seals_in_force', table_name='institution_seals')
    op.drop_index('ix_institution_seals_institution_id', table_name='institution_seals')
    op.drop_table('institution_seals')
