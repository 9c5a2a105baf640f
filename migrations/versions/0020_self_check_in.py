"""self check-in (issue 21): how each mark was made, check-in windows, anti-sharing settings, attempts

Revision ID: 0020
Revises: 0019

attendance_records / corporate_attendance_records gain `source` (staff, self_check_in, auto; existing marks are
staff's) and `checked_in_at`. check_in_windows: one per session while check-in is or was open.
check_in_settings: an institution's anti-sharing rules (no row: all off). check_in_attempts: every attempt,
accepted or refused; at most one accepted per member and session (partial unique index).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    for table in ('attendance_records', 'corporate_attendance_records'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('source', sa.String(length=20), nullable=False,
                                          server_default=sa.text("'staff'")))
            batch_op.add_column(sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'check_in_windows',
        sa.Column('session_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=True),
        sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_job_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_check_in_windows_session_id_class_sessions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_check_in_windows_opened_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_check_in_windows')),
    )
    op.create_index('ix_check_in_windows_closes_at', 'check_in_windows', ['closes_at'])
    op.create_table(
        'check_in_settings',
        sa.Column('institution_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('one_device', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('networks', _JSON, nullable=True),
        sa.Column('geofence_lat', sa.Float(), nullable=True),
        sa.Column('geofence_lon', sa.Float(), nullable=True),
        sa.Column('geofence_radius_m', sa.Integer(), nullable=True),
        sa.Column('absent_at_close', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_check_in_settings_institution_id_institutions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_check_in_settings')),
    )
    op.create_table(
        'check_in_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('member_type', sa.String(length=20), nullable=True),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('device_id', sa.String(length=64), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('accepted', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=60), nullable=True),
        sa.Column('flagged', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_check_in_attempts_session_id_class_sessions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_check_in_attempts_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_attempts')),
    )
    op.create_index('ix_check_in_attempts_session_at', 'check_in_attempts', ['session_id', 'at'])
    op.create_index('ix_check_in_attempts_session_device', 'check_in_attempts', ['session_id', 'device_id'])
    op.create_index('uq_check_in_attempts_accepted_member', 'check_in_attempts',
                    ['session_id', 'member_type', 'member_id'], unique=True,
                    postgresql_where=sa.text('accepted'), sqlite_where=sa.text('accepted'))


def downgrade():
    op.drop_index('uq_check_in_attempts_accepted_member', table_name='check_in_attempts')
    op.drop_index('ix_check_in_attempts_session_device', table_name='check_in_attempts')
    op.drop_index('ix_check_in_attempts_session_at', table_name='check_in_attempts')
    op.drop_table('check_in_attempts')
    op.drop_table('check_in_settings')
    op.drop_index('ix_check_in_windows_closes_at', table_name='check_in_windows')
    op.drop_table('check_in_windows')
    for table in ('corporate_attendance_records', 'attendance_records'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('checked_in_at')
            batch_op.drop_column('source')
