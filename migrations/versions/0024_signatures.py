"""signatures on registers (issue 22): sign-offs and learners' drawn signatures, never changed once written

Revision ID: 0024
Revises: 0023

A trigger refuses any UPDATE of a sign-off or a learner's signature, on PostgreSQL and SQLite alike: a later
sign-off is a new row, and a void one stays as it was signed (rows go only with their institution or session).
"""
import sqlalchemy as sa
from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_TABLES = ("sign_offs", "learner_signatures")
_MESSAGE = "signatures are never changed"


def _triggers(postgres: bool) -> list[str]:
    if not postgres:
        return [f"CREATE TRIGGER {t}_frozen BEFORE UPDATE ON {t} BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
                for t in _TABLES]
    return [f"""CREATE FUNCTION signatures_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation'; END $$""",
            *(f"CREATE TRIGGER {t}_frozen BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION signatures_frozen()"
              for t in _TABLES)]


def upgrade():
    op.create_table(
        'sign_offs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('subject_type', sa.String(length=30), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('signature', sa.String(length=200), nullable=True),
        sa.Column('signed_by_id', sa.Integer(), nullable=True),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=True),
        sa.Column('data_version', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_sign_offs_institution_id_institutions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_sign_offs_signed_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_offs')),
    )
    op.create_index(op.f('ix_sign_offs_institution_id'), 'sign_offs', ['institution_id'])
    op.create_index('ix_sign_offs_subject', 'sign_offs', ['subject_type', 'subject_id', 'id'])
    op.create_table(
        'learner_signatures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('member_type', sa.String(length=20), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('captured_by_id', sa.Integer(), nullable=True),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ip_address', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_learner_signatures_institution_id_institutions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_learner_signatures_session_id_class_sessions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['captured_by_id'], ['users.id'],
                                name=op.f('fk_learner_signatures_captured_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_signatures')),
        sa.UniqueConstraint('session_id', 'member_type', 'member_id',
                            name=op.f('uq_learner_signatures_session_id_member_type_member_id')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_learner_signatures_storage_key')),
    )
    op.create_index(op.f('ix_learner_signatures_institution_id'), 'learner_signatures', ['institution_id'])
    for statement in _triggers(op.get_bind().dialect.name == "postgresql"):
        op.execute(statement)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS signatures_frozen()")
    op.drop_table('learner_signatures')
    op.drop_table('sign_offs')
