"""attendance, locking and reminders (issue 5)

Revision ID: 0004
Revises: 0003

Each feature owns one revision in a fixed chain so that parallel work never forks the history.
Adds: reminders_sent.attempts; at_risk_flags (one row per crossing into "at risk") and
at_risk_notices (one row per flag and recipient, inserted before the digest is sent).
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_STATUS = sa.Enum('PENDING', 'SENT', 'FAILED', name='reminderstatus', native_enum=False, length=20)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Re-marking a register rewrites every row; free space on each page keeps those updates HOT
        # (no index churn), since none of the changed columns is indexed.
        op.execute("ALTER TABLE attendance_records SET (fillfactor = 80)")
        op.execute("ALTER TABLE corporate_attendance_records SET (fillfactor = 80)")
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False))

    op.create_table(
        'at_risk_flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('member_type', sa.String(length=20), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('rate', sa.Float(), nullable=True),
        sa.Column('consecutive_misses', sa.Integer(), nullable=False),
        sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_at_risk_flags_cohort_id_cohorts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_at_risk_flags')),
    )
    with op.batch_alter_table('at_risk_flags', schema=None) as batch_op:
        batch_op.create_index('uq_at_risk_flags_open_member', ['cohort_id', 'member_type', 'member_id'], unique=True,
                              postgresql_where=sa.text('cleared_at IS NULL'),
                              sqlite_where=sa.text('cleared_at IS NULL'))

    op.create_table(
        'at_risk_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('flag_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('status', _STATUS, nullable=False),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['flag_id'], ['at_risk_flags.id'], name=op.f('fk_at_risk_notices_flag_id_at_risk_flags'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_at_risk_notices_recipient_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_at_risk_notices')),
        sa.UniqueConstraint('flag_id', 'recipient_id', name=op.f('uq_at_risk_notices_flag_id_recipient_id')),
    )
    with op.batch_alter_table('at_risk_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_at_risk_notices_recipient_id'), ['recipient_id'], unique=False)


def downgrade():
    with op.batch_alter_table('at_risk_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_at_risk_notices_recipient_id'))
    op.drop_table('at_risk_notices')
    with op.batch_alter_table('at_risk_flags', schema=None) as batch_op:
        batch_op.drop_index('uq_at_risk_flags_open_member')
    op.drop_table('at_risk_flags')
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_column('attempts')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE attendance_records RESET (fillfactor)")
        op.execute("ALTER TABLE corporate_attendance_records RESET (fillfactor)")
