"""organization portal and regulator access (issue 11)

Revision ID: 0009
Revises: 0004

Access requests name any number of cohorts (access_request_cohorts; the old single cohort_id moves
there) or a whole institution (scope); deny and revoke keep their reason; REJECTED becomes DENIED.
Adds: users.agency_name (a regulator's organization), access_request_reads (every regulator read, by
grant), access_request_notices (mails about requests, never sent twice), organization_grants
(e.g. corporate_reports.view for a client organization).
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0004'
branch_labels = None
depends_on = None

_SCOPE = sa.Enum('institution', 'cohorts', name='accessscope', native_enum=False, length=20)
_NOTICE_STATUS = sa.Enum('PENDING', 'SENT', 'FAILED', name='reminderstatus', native_enum=False, length=20)


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_name', sa.String(length=200), nullable=True))

    op.create_table(
        'access_request_cohorts',
        sa.Column('access_request_id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['access_request_id'], ['access_requests.id'],
                                name=op.f('fk_access_request_cohorts_access_request_id_access_requests'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_access_request_cohorts_cohort_id_cohorts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('access_request_id', 'cohort_id', name=op.f('pk_access_request_cohorts')),
    )
    with op.batch_alter_table('access_request_cohorts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_request_cohorts_cohort_id'), ['cohort_id'], unique=False)

    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', _SCOPE, server_default='institution', nullable=False))
        batch_op.add_column(sa.Column('decision_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_access_requests_revoked_by_id_users'), 'users',
                                    ['revoked_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_access_requests_institution_id'), ['institution_id'], unique=False)
    # No request loses its cohort: the single cohort becomes the first (only) named one.
    op.execute("INSERT INTO access_request_cohorts (access_request_id, cohort_id) "
               "SELECT id, cohort_id FROM access_requests WHERE cohort_id IS NOT NULL")
    op.execute("UPDATE access_requests SET scope = 'cohorts' WHERE cohort_id IS NOT NULL")
    op.execute("UPDATE access_requests SET status = 'DENIED' WHERE status = 'REJECTED'")
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.alter_column('scope', server_default=None)
        batch_op.drop_constraint('fk_access_requests_cohort_id_cohorts', type_='foreignkey')
        batch_op.drop_column('cohort_id')

    op.create_table(
        'access_request_reads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('access_request_id', sa.Integer(), nullable=False),
        sa.Column('regulator_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('endpoint', sa.String(length=100), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=True),
        sa.Column('resource_type', sa.String(length=40), nullable=True),
        sa.Column('resource_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['access_request_id'], ['access_requests.id'],
                                name=op.f('fk_access_request_reads_access_request_id_access_requests'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_access_request_reads_cohort_id_cohorts'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['regulator_id'], ['users.id'], name=op.f('fk_access_request_reads_regulator_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_request_reads')),
    )
    with op.batch_alter_table('access_request_reads', schema=None) as batch_op:
        batch_op.create_index('ix_access_request_reads_request_at', ['access_request_id', 'at'], unique=False)

    op.create_table(
        'access_request_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('access_request_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=20), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('status', _NOTICE_STATUS, nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['access_request_id'], ['access_requests.id'],
                                name=op.f('fk_access_request_notices_access_request_id_access_requests'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id'],
                                name=op.f('fk_access_request_notices_recipient_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_request_notices')),
        sa.UniqueConstraint('access_request_id', 'event', 'recipient_id',
                            name=op.f('uq_access_request_notices_access_request_id_event_recipient_id')),
    )
    with op.batch_alter_table('access_request_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_request_notices_recipient_id'), ['recipient_id'], unique=False)

    op.create_table(
        'organization_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('permission', sa.String(length=60), nullable=False),
        sa.Column('granted_by_id', sa.Integer(), nullable=True),
        sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_organization_grants_granted_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_organization_grants_organization_id_organizations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_grants')),
        sa.UniqueConstraint('organization_id', 'permission',
                            name=op.f('uq_organization_grants_organization_id_permission')),
    )


def downgrade():
    op.drop_table('organization_grants')
    op.drop_table('access_request_notices')
    op.drop_table('access_request_reads')
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohort_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_access_requests_cohort_id_cohorts', 'cohorts', ['cohort_id'], ['id'],
                                    ondelete='CASCADE')
    # The old schema holds one cohort per request: keep the first named one.
    op.execute("UPDATE access_requests SET cohort_id = (SELECT min(c.cohort_id) FROM access_request_cohorts c "
               "WHERE c.access_request_id = access_requests.id)")
    op.execute("UPDATE access_requests SET status = 'REJECTED' WHERE status = 'DENIED'")
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_institution_id'))
        batch_op.drop_constraint(batch_op.f('fk_access_requests_revoked_by_id_users'), type_='foreignkey')
        batch_op.drop_column('revoke_reason')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('revoked_by_id')
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('scope')
    op.drop_table('access_request_cohorts')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('agency_name')
