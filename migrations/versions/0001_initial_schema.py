"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 10:46:28.154249

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


OVERLAP_COLUMNS = ("room_id", "instructor_id", "cohort_id")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('slug', name=op.f('uq_institutions_slug'))
    )
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_email_at', ['email', 'at'], unique=False)

    op.create_table('holidays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_holidays_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays')),
    sa.UniqueConstraint('institution_id', 'date', name=op.f('uq_holidays_institution_id_date'))
    )
    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registration_number', sa.String(length=80), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_organizations_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('institution_id', 'name', name=op.f('uq_organizations_institution_id_name'))
    )
    op.create_table('qualifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_qualifications_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualifications')),
    sa.UniqueConstraint('institution_id', 'code', name=op.f('uq_qualifications_institution_id_code'))
    )
    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_rooms_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('institution_id', 'name', name=op.f('uq_rooms_institution_id_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('super_admin', 'admin', 'support', 'teacher', 'org_member', 'regulator', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_users_institution_id_institutions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('corporate_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'ACTIVE', 'SUSPENDED', 'EXPIRED', 'TERMINATED', name='agreementstatus', native_enum=False, length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_corporate_agreements_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corporate_agreements')),
    sa.UniqueConstraint('reference', name=op.f('uq_corporate_agreements_reference'))
    )
    with op.batch_alter_table('corporate_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corporate_agreements_organization_id'), ['organization_id'], unique=False)

    op.create_table('evidence_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_evidence_files_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_files')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_evidence_files_storage_key'))
    )
    op.create_table('learners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('id_number', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone_e164', sa.String(length=20), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_learners_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_learners_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learners')),
    sa.UniqueConstraint('institution_id', 'id_number', name=op.f('uq_learners_institution_id_id_number'))
    )
    op.create_table('login_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('org_employees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('employee_code', sa.String(length=60), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone_e164', sa.String(length=20), nullable=True),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('job_title', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_org_employees_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_employees')),
    sa.UniqueConstraint('organization_id', 'employee_code', name=op.f('uq_org_employees_organization_id_employee_code'))
    )
    op.create_table('org_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_org_memberships_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_memberships')),
    sa.UniqueConstraint('organization_id', 'user_id', name=op.f('uq_org_memberships_organization_id_user_id'))
    )
    with op.batch_alter_table('org_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('ACTIVE', 'COMPLETED', 'ARCHIVED', 'CANCELLED', name='cohortstatus', native_enum=False, length=20), nullable=False),
    sa.Column('cohort_type', sa.Enum('public', 'corporate', name='cohorttype', native_enum=False, length=20), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('proposal_reference', sa.String(length=80), nullable=True),
    sa.Column('request_reference', sa.String(length=80), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('expected_trainee_count', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("cohort_type <> 'corporate' OR (organization_id IS NOT NULL AND agreement_id IS NOT NULL)", name=op.f('ck_cohorts_corporate_has_agreement')),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_cohorts_dates_ordered')),
    sa.ForeignKeyConstraint(['agreement_id'], ['corporate_agreements.id'], name=op.f('fk_cohorts_agreement_id_corporate_agreements')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cohorts_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_cohorts_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_cohorts_organization_id_organizations')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_cohorts_qualification_id_qualifications'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts'))
    )
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohorts_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index('ix_cohorts_institution_status', ['institution_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohorts_organization_id'), ['organization_id'], unique=False)

    op.create_table('access_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('regulator_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'APPROVED', 'REJECTED', 'REVOKED', name='accessrequeststatus', native_enum=False, length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_access_requests_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_access_requests_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_access_requests_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['regulator_id'], ['users.id'], name=op.f('fk_access_requests_regulator_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests'))
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_requests_regulator_id'), ['regulator_id'], unique=False)

    op.create_table('class_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('session_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('session_type', sa.Enum('THEORY', 'PRACTICAL', 'WBL', 'ASSESSMENT', 'ORIENTATION', 'OTHER', name='sessiontype', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('instructor_id', sa.Integer(), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('SCHEDULED', 'COMPLETED', 'CANCELLED', name='sessionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('is_locked', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by_id', sa.Integer(), nullable=True),
    sa.Column('lock_reason', sa.String(length=300), nullable=True),
    sa.Column('relock_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_class_sessions_ends_after_start')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_class_sessions_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_class_sessions_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instructor_id'], ['users.id'], name=op.f('fk_class_sessions_instructor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['locked_by_id'], ['users.id'], name=op.f('fk_class_sessions_locked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_class_sessions_room_id_rooms'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_sessions'))
    )
    with op.batch_alter_table('class_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_class_sessions_cohort_date', ['cohort_id', 'session_date'], unique=False)
        batch_op.create_index('ix_class_sessions_institution_starts', ['institution_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_class_sessions_instructor_id'), ['instructor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_class_sessions_room_id'), ['room_id'], unique=False)
        batch_op.create_index('ix_class_sessions_unlocked_ends_at', ['ends_at'], unique=False, postgresql_where=sa.text('NOT is_locked'), sqlite_where=sa.text('NOT is_locked'))

    op.create_table('cohort_facilitators',
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_facilitators_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cohort_facilitators_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cohort_id', 'user_id', name=op.f('pk_cohort_facilitators'))
    )
    with op.batch_alter_table('cohort_facilitators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_facilitators_user_id'), ['user_id'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('ACTIVE', 'WITHDRAWN', 'COMPLETED', name='enrolmentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_enrolments_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_enrolments_learner_id_learners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_enrolments_qualification_id_qualifications'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('learner_id', 'cohort_id', name=op.f('uq_enrolments_learner_id_cohort_id'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolments_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('trainee_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('UPLOADED', 'VALIDATING', 'VALIDATED', 'FAILED', 'COMMITTING', 'COMMITTED', 'CANCELLED', name='importstatus', native_enum=False, length=20), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('valid_count', sa.Integer(), nullable=False),
    sa.Column('invalid_count', sa.Integer(), nullable=False),
    sa.Column('errors_by_reason', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('inserted_count', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('committed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_trainee_imports_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['committed_by_id'], ['users.id'], name=op.f('fk_trainee_imports_committed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_trainee_imports_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainee_imports')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_trainee_imports_storage_key'))
    )
    with op.batch_alter_table('trainee_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainee_imports_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('attendance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('record_date', sa.Date(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('status', sa.Enum('PRESENT', 'ABSENT', 'LATE', 'EXCUSED', name='attendancestatus', native_enum=False, length=20), nullable=False),
    sa.Column('minutes_late', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('evidence_file_id', sa.Integer(), nullable=True),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('minutes_late IS NULL OR minutes_late >= 0', name=op.f('ck_attendance_records_minutes_late_positive')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_attendance_records_enrolment_id_enrolments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_file_id'], ['evidence_files.id'], name=op.f('fk_attendance_records_evidence_file_id_evidence_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_attendance_records_marked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'], name=op.f('fk_attendance_records_session_id_class_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_records'))
    )
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_records_record_date', ['record_date'], unique=False)
        batch_op.create_index('ix_attendance_records_session', ['session_id'], unique=False)
        batch_op.create_index('uq_attendance_records_enrolment_date_legacy', ['enrolment_id', 'record_date'], unique=True, postgresql_where=sa.text('session_id IS NULL'), sqlite_where=sa.text('session_id IS NULL'))
        batch_op.create_index('uq_attendance_records_enrolment_session', ['enrolment_id', 'session_id'], unique=True, postgresql_where=sa.text('session_id IS NOT NULL'), sqlite_where=sa.text('session_id IS NOT NULL'))

    op.create_table('corporate_trainees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('phone_e164', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('job_title', sa.String(length=120), nullable=True),
    sa.Column('employee_code', sa.String(length=60), nullable=True),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('org_employee_id', sa.Integer(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_corporate_trainees_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['import_id'], ['trainee_imports.id'], name=op.f('fk_corporate_trainees_import_id_trainee_imports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_employee_id'], ['org_employees.id'], name=op.f('fk_corporate_trainees_org_employee_id_org_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_corporate_trainees_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corporate_trainees')),
    sa.UniqueConstraint('cohort_id', 'email', name=op.f('uq_corporate_trainees_cohort_id_email')),
    sa.UniqueConstraint('cohort_id', 'phone_e164', name=op.f('uq_corporate_trainees_cohort_id_phone_e164'))
    )
    with op.batch_alter_table('corporate_trainees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corporate_trainees_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corporate_trainees_import_id'), ['import_id'], unique=False)

    op.create_table('register_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('REGISTER_PDF', 'REGISTER_CSV', name='documentkind', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'BUILDING', 'READY', 'FAILED', name='documentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_register_documents_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_register_documents_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'], name=op.f('fk_register_documents_session_id_class_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_documents')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_register_documents_storage_key'))
    )
    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_documents_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_documents_session_id'), ['session_id'], unique=False)

    op.create_table('reminders_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'SENT', 'FAILED', name='reminderstatus', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_reminders_sent_recipient_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'], name=op.f('fk_reminders_sent_session_id_class_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
    sa.UniqueConstraint('session_id', 'recipient_id', 'kind', name=op.f('uq_reminders_sent_session_id_recipient_id_kind'))
    )
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_sent_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('trainee_import_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=True),
    sa.Column('phone_e164', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('job_title', sa.String(length=120), nullable=True),
    sa.Column('employee_code', sa.String(length=60), nullable=True),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['trainee_imports.id'], name=op.f('fk_trainee_import_rows_import_id_trainee_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainee_import_rows')),
    sa.UniqueConstraint('import_id', 'row_number', name=op.f('uq_trainee_import_rows_import_id_row_number'))
    )
    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.create_index('ix_trainee_import_rows_import_ok', ['import_id', 'ok', 'row_number'], unique=False)

    op.create_table('corporate_attendance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trainee_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('status', sa.Enum('PRESENT', 'ABSENT', 'LATE', 'EXCUSED', name='attendancestatus', native_enum=False, length=20), nullable=False),
    sa.Column('minutes_late', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('evidence_file_id', sa.Integer(), nullable=True),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('minutes_late IS NULL OR minutes_late >= 0', name=op.f('ck_corporate_attendance_records_minutes_late_positive')),
    sa.ForeignKeyConstraint(['evidence_file_id'], ['evidence_files.id'], name=op.f('fk_corporate_attendance_records_evidence_file_id_evidence_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_corporate_attendance_records_marked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'], name=op.f('fk_corporate_attendance_records_session_id_class_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainee_id'], ['corporate_trainees.id'], name=op.f('fk_corporate_attendance_records_trainee_id_corporate_trainees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corporate_attendance_records')),
    sa.UniqueConstraint('trainee_id', 'session_id', name=op.f('uq_corporate_attendance_records_trainee_id_session_id'))
    )
    with op.batch_alter_table('corporate_attendance_records', schema=None) as batch_op:
        batch_op.create_index('ix_corporate_attendance_records_session', ['session_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_type', sa.Enum('ATTENDANCE_REGISTER', name='submissionresource', native_enum=False, length=40), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('submitted_to', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('DRAFT', 'SUBMITTED', 'ACCEPTED', 'REJECTED', name='submissionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['register_documents.id'], name=op.f('fk_submissions_document_id_register_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_submissions_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    if op.get_bind().dialect.name == "postgresql":
        # A room, an instructor or a cohort can never hold two overlapping non-cancelled sessions.
        for column in OVERLAP_COLUMNS:
            op.execute(
                f"ALTER TABLE class_sessions ADD CONSTRAINT ex_class_sessions_{column}_overlap "
                f"EXCLUDE USING gist ({column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
                f"WHERE (status <> 'CANCELLED' AND {column} IS NOT NULL)"
            )


def downgrade():
    op.drop_table('submissions')
    with op.batch_alter_table('corporate_attendance_records', schema=None) as batch_op:
        batch_op.drop_index('ix_corporate_attendance_records_session')

    op.drop_table('corporate_attendance_records')
    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_trainee_import_rows_import_ok')

    op.drop_table('trainee_import_rows')
    with op.batch_alter_table('reminders_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_sent_recipient_id'))

    op.drop_table('reminders_sent')
    with op.batch_alter_table('register_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_documents_session_id'))
        batch_op.drop_index(batch_op.f('ix_register_documents_cohort_id'))

    op.drop_table('register_documents')
    with op.batch_alter_table('corporate_trainees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corporate_trainees_import_id'))
        batch_op.drop_index(batch_op.f('ix_corporate_trainees_cohort_id'))

    op.drop_table('corporate_trainees')
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.drop_index('uq_attendance_records_enrolment_session', postgresql_where=sa.text('session_id IS NOT NULL'), sqlite_where=sa.text('session_id IS NOT NULL'))
        batch_op.drop_index('uq_attendance_records_enrolment_date_legacy', postgresql_where=sa.text('session_id IS NULL'), sqlite_where=sa.text('session_id IS NULL'))
        batch_op.drop_index('ix_attendance_records_session')
        batch_op.drop_index('ix_attendance_records_record_date')

    op.drop_table('attendance_records')
    with op.batch_alter_table('trainee_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainee_imports_cohort_id'))

    op.drop_table('trainee_imports')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolments_cohort_id'))

    op.drop_table('enrolments')
    with op.batch_alter_table('cohort_facilitators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_facilitators_user_id'))

    op.drop_table('cohort_facilitators')
    with op.batch_alter_table('class_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_class_sessions_unlocked_ends_at', postgresql_where=sa.text('NOT is_locked'), sqlite_where=sa.text('NOT is_locked'))
        batch_op.drop_index(batch_op.f('ix_class_sessions_room_id'))
        batch_op.drop_index(batch_op.f('ix_class_sessions_instructor_id'))
        batch_op.drop_index('ix_class_sessions_institution_starts')
        batch_op.drop_index('ix_class_sessions_cohort_date')

    op.drop_table('class_sessions')
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_regulator_id'))

    op.drop_table('access_requests')
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohorts_organization_id'))
        batch_op.drop_index('ix_cohorts_institution_status')
        batch_op.drop_index(batch_op.f('ix_cohorts_agreement_id'))

    op.drop_table('cohorts')
    with op.batch_alter_table('org_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_memberships_user_id'))

    op.drop_table('org_memberships')
    op.drop_table('org_employees')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))

    op.drop_table('login_sessions')
    op.drop_table('learners')
    op.drop_table('evidence_files')
    with op.batch_alter_table('corporate_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corporate_agreements_organization_id'))

    op.drop_table('corporate_agreements')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('rooms')
    op.drop_table('qualifications')
    op.drop_table('organizations')
    op.drop_table('holidays')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_email_at')

    op.drop_table('login_attempts')
    op.drop_table('institutions')
