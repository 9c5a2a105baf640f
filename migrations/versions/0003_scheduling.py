"""scheduling (issue 4): background schedule runs and iCalendar feed tokens

Revision ID: 0003
Revises: 0002

Each feature owns one revision in a fixed chain so that parallel work never forks the history.
The exclusion constraints that forbid double-booking are in 0001 (class_sessions).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('schedule_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('plan', JSON, nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', name='schedulerunstatus', native_enum=False, length=20), nullable=False),
    sa.Column('progress', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('planned_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('existing_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('conflicts', JSON, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_schedule_runs_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_schedule_runs_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_schedule_runs_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_runs'))
    )
    with op.batch_alter_table('schedule_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_runs_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('calendar_feed_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('facilitator', 'cohort', 'room', name='feedkind', native_enum=False, length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feed_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_tokens_token_hash'))
    )
    with op.batch_alter_table('calendar_feed_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feed_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('calendar_feed_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_tokens_user_id'))
    op.drop_table('calendar_feed_tokens')
    with op.batch_alter_table('schedule_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_runs_cohort_id'))
    op.drop_table('schedule_runs')
