"""attendance rules that hold without the night job; speed budgets (issue 14)

Revision ID: 0005
Revises: 0004

The lock is a rule; the nightly sweep only records it, in session_lock_records (narrow: class_sessions and its
nine indexes are no longer rewritten), from a watermark kept in lock_sweeps. class_sessions: the partial
"NOT is_locked" index goes; an index on ends_at (the watermark) and a partial one on relock_after come.
Sessions the old nightly job had locked keep is_locked (they stay locked). calendar_event_versions holds the
SEQUENCE and LAST-MODIFIED of each iCalendar event. trainee_import_rows (written by COPY at validation) keeps
one index, its key (import_id, row_number), and a partial one on the errors, instead of a serial id and three.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('class_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_class_sessions_unlocked_ends_at', postgresql_where=sa.text('NOT is_locked'),
                            sqlite_where=sa.text('NOT is_locked'))
        batch_op.create_index('ix_class_sessions_ends_at', ['ends_at'], unique=False)
        batch_op.create_index('ix_class_sessions_relock_after', ['relock_after'], unique=False,
                              postgresql_where=sa.text('relock_after IS NOT NULL'),
                              sqlite_where=sa.text('relock_after IS NOT NULL'))

    op.create_table(
        'lock_sweeps',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('swept_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_locked', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lock_sweeps')),
    )
    op.create_table(
        'session_lock_records',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('locked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_session_lock_records_session_id_class_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_session_lock_records')),
    )
    op.create_table(
        'calendar_event_versions',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('modified_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_calendar_event_versions_session_id_class_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_calendar_event_versions')),
    )


    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_trainee_import_rows_import_ok')
        batch_op.drop_constraint('uq_trainee_import_rows_import_id_row_number', type_='unique')
        batch_op.drop_constraint('pk_trainee_import_rows', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_trainee_import_rows', ['import_id', 'row_number'])
        batch_op.create_index('ix_trainee_import_rows_errors', ['import_id', 'row_number'], unique=False,
                              postgresql_where=sa.text('NOT ok'), sqlite_where=sa.text('NOT ok'))


def downgrade():
    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_trainee_import_rows_errors', postgresql_where=sa.text('NOT ok'),
                            sqlite_where=sa.text('NOT ok'))
        batch_op.drop_constraint('pk_trainee_import_rows', type_='primary')
        batch_op.add_column(sa.Column('id', sa.Integer(), sa.Identity(), nullable=False))
        batch_op.create_primary_key('pk_trainee_import_rows', ['id'])
        batch_op.create_unique_constraint('uq_trainee_import_rows_import_id_row_number', ['import_id', 'row_number'])
        batch_op.create_index('ix_trainee_import_rows_import_ok', ['import_id', 'ok', 'row_number'], unique=False)
    op.drop_table('calendar_event_versions')
    op.drop_table('session_lock_records')
    op.drop_table('lock_sweeps')
    with op.batch_alter_table('class_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_class_sessions_relock_after', postgresql_where=sa.text('relock_after IS NOT NULL'),
                            sqlite_where=sa.text('relock_after IS NOT NULL'))
        batch_op.drop_index('ix_class_sessions_ends_at')
        batch_op.create_index('ix_class_sessions_unlocked_ends_at', ['ends_at'], unique=False,
                              postgresql_where=sa.text('NOT is_locked'), sqlite_where=sa.text('NOT is_locked'))
