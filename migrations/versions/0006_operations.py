"""operations: jobs (outbox + heartbeats), worker heartbeats, import identity, sign-in throttling (issue 13)

Revision ID: 0006
Revises: 0005

Adds: jobs and worker_heartbeats; trainee_imports.possible_duplicate_count, duplicate_file_confirmed,
include_possible_duplicates and an index on sha256; a unique (cohort_id, employee_code) on
corporate_trainees; an (ip, at) index on login_attempts.

The employee-code key is refused, with the clashing codes listed, if a cohort already holds the same code
twice: the migration changes no trainee; an operator decides which record keeps the code.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_JOB_STATUS = sa.Enum('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', name='jobstatus', native_enum=False, length=20)
_ACTIVE = sa.text("status IN ('QUEUED', 'RUNNING')")


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=80), nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=False),
        sa.Column('queue', sa.String(length=40), nullable=False),
        sa.Column('status', _JOB_STATUS, nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.String(length=200), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    op.create_index('uq_jobs_active_kind_entity', 'jobs', ['kind', 'entity_id'], unique=True,
                    postgresql_where=_ACTIVE, sqlite_where=_ACTIVE)
    op.create_index('ix_jobs_status_created_at', 'jobs', ['status', 'created_at'])
    op.create_index('ix_jobs_kind_entity_id', 'jobs', ['kind', 'entity_id'])

    op.create_table(
        'worker_heartbeats',
        sa.Column('hostname', sa.String(length=200), nullable=False),
        sa.Column('queues', sa.String(length=200), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('hostname', name=op.f('pk_worker_heartbeats')),
    )

    with op.batch_alter_table('trainee_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('possible_duplicate_count', sa.Integer(), server_default=sa.text('0'),
                                      nullable=False))
        batch_op.add_column(sa.Column('duplicate_file_confirmed', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('include_possible_duplicates', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index(batch_op.f('ix_trainee_imports_sha256'), ['sha256'], unique=False)

    clashes = op.get_bind().execute(sa.text(
        "SELECT cohort_id, employee_code, count(*) FROM corporate_trainees WHERE employee_code IS NOT NULL "
        "GROUP BY cohort_id, employee_code HAVING count(*) > 1 ORDER BY cohort_id, employee_code LIMIT 20"
    )).all()
    if clashes:
        listed = "; ".join(f"cohort {c} code {code!r} ×{n}" for c, code, n in clashes)
        raise RuntimeError("Employee codes must be unique within a cohort, and these are not: "
                           f"{listed}. Give each trainee its own code (or none), then upgrade again.")
    with op.batch_alter_table('corporate_trainees', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_corporate_trainees_cohort_id_employee_code'),
                                          ['cohort_id', 'employee_code'])

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_ip_at')
    with op.batch_alter_table('corporate_trainees', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_corporate_trainees_cohort_id_employee_code'), type_='unique')
    with op.batch_alter_table('trainee_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainee_imports_sha256'))
        batch_op.drop_column('include_possible_duplicates')
        batch_op.drop_column('duplicate_file_confirmed')
        batch_op.drop_column('possible_duplicate_count')
    op.drop_table('worker_heartbeats')
    op.drop_index('ix_jobs_kind_entity_id', table_name='jobs')
    op.drop_index('ix_jobs_status_created_at', table_name='jobs')
    op.drop_index('uq_jobs_active_kind_entity', table_name='jobs')
    op.drop_table('jobs')
