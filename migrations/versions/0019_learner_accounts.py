"""learner accounts and apologies in advance (issue 21)

Revision ID: 0019
Revises: 0018

Role `learner` needs no DDL (roles are VARCHAR(20) without a CHECK). One account per person: a learner row has
at most one account (unique learners.user_id); a person in several corporate cohorts has one trainee row per
cohort, each tied to the same account (unique (cohort_id, user_id), and an index to find them by account).
apologies / apology_sessions: a learner's apology for one or more future sessions, pending until decided.
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('uq_learners_user_id', 'learners', ['user_id'], unique=True)
    op.create_index('uq_corporate_trainees_cohort_user', 'corporate_trainees', ['cohort_id', 'user_id'], unique=True)
    op.create_index('ix_corporate_trainees_user_id', 'corporate_trainees', ['user_id'])
    op.create_table(
        'apologies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('evidence_file_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('pending', 'approved', 'declined', name='apologystatus', native_enum=False,
                                    length=20), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_apologies_institution_id_institutions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_apologies_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['evidence_file_id'], ['evidence_files.id'],
                                name=op.f('fk_apologies_evidence_file_id_evidence_files'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_apologies_decided_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_apologies')),
    )
    op.create_index('ix_apologies_institution_status', 'apologies', ['institution_id', 'status'])
    op.create_index(op.f('ix_apologies_user_id'), 'apologies', ['user_id'])
    op.create_table(
        'apology_sessions',
        sa.Column('apology_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['apology_id'], ['apologies.id'],
                                name=op.f('fk_apology_sessions_apology_id_apologies'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_apology_sessions_session_id_class_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('apology_id', 'session_id', name=op.f('pk_apology_sessions')),
    )
    op.create_index(op.f('ix_apology_sessions_session_id'), 'apology_sessions', ['session_id'])


def downgrade():
    op.drop_index(op.f('ix_apology_sessions_session_id'), table_name='apology_sessions')
    op.drop_table('apology_sessions')
    op.drop_index(op.f('ix_apologies_user_id'), table_name='apologies')
    op.drop_index('ix_apologies_institution_status', table_name='apologies')
    op.drop_table('apologies')
    op.drop_index('ix_corporate_trainees_user_id', table_name='corporate_trainees')
    op.drop_index('uq_corporate_trainees_cohort_user', table_name='corporate_trainees')
    op.drop_index('uq_learners_user_id', table_name='learners')
