"""personal data (issue 25): corrections kept, erasures and their legal holds, data exports, the access log,
retention policies and runs, the institution's information officer

Revision ID: 0028
Revises: 0027
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _institution(table, nullable=True):
    return [sa.Column('institution_id', sa.Integer(), nullable=nullable),
            sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                    name=op.f(f'fk_{table}_institution_id_institutions'), ondelete='CASCADE')]


def _person():
    return [sa.Column('person_kind', sa.String(length=20), nullable=False),
            sa.Column('person_id', sa.Integer(), nullable=False)]


def upgrade():
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('information_officer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('information_officer_email', sa.String(length=254), nullable=True))
    op.create_table(
        'personal_data_corrections',
        sa.Column('id', sa.Integer(), nullable=False),
        *_institution('personal_data_corrections'), *_person(),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('old_value', sa.Text(), nullable=True),
        sa.Column('new_value', sa.Text(), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_corrections')),
    )
    op.create_index('ix_personal_data_corrections_person', 'personal_data_corrections', ['person_kind', 'person_id'])
    op.create_index(op.f('ix_personal_data_corrections_institution_id'), 'personal_data_corrections',
                    ['institution_id'])
    op.create_table(
        'personal_data_erasures',
        sa.Column('id', sa.Integer(), nullable=False),
        *_institution('personal_data_erasures'), *_person(),
        sa.Column('pseudonym', sa.String(length=60), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('summary', _JSON, nullable=False),
        sa.Column('held', _JSON, nullable=False),
        sa.Column('pending_files', _JSON, nullable=False),
        sa.Column('files_deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_erasures')),
        sa.UniqueConstraint('person_kind', 'person_id', name=op.f('uq_personal_data_erasures_person_kind_person_id')),
    )
    op.create_index(op.f('ix_personal_data_erasures_institution_id'), 'personal_data_erasures', ['institution_id'])
    op.create_table(
        'data_exports',
        sa.Column('id', sa.Integer(), nullable=False),
        *_institution('data_exports'), *_person(),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=8), server_default=sa.text("'en'"), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=True),
        sa.Column('size_bytes', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('error_message', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
    )
    op.create_index('ix_data_exports_person', 'data_exports', ['person_kind', 'person_id'])
    op.create_index(op.f('ix_data_exports_institution_id'), 'data_exports', ['institution_id'])
    op.create_table(
        'personal_data_access_log',
        sa.Column('id', sa.Integer(), nullable=False),
        *_institution('personal_data_access_log'), *_person(),
        sa.Column('viewer_id', sa.Integer(), nullable=True),
        sa.Column('viewer_role', sa.String(length=20), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_access_log')),
    )
    op.create_index('ix_personal_data_access_log_person', 'personal_data_access_log',
                    ['person_kind', 'person_id', 'at'])
    op.create_table(
        'retention_policies',
        sa.Column('institution_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('import_files_days', sa.Integer(), server_default=sa.text('90'), nullable=False),
        sa.Column('error_reports_days', sa.Integer(), server_default=sa.text('90'), nullable=False),
        sa.Column('evidence_years', sa.Integer(), server_default=sa.text('5'), nullable=False),
        sa.Column('registers_years', sa.Integer(), server_default=sa.text('10'), nullable=False),
        sa.Column('invoices_years', sa.Integer(), server_default=sa.text('10'), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_retention_policies_institution_id_institutions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_retention_policies')),
    )
    op.create_table(
        'retention_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        *_institution('retention_runs', nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('counts', _JSON, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_runs')),
    )
    op.create_index('ix_retention_runs_institution_started', 'retention_runs', ['institution_id', 'started_at'])
    op.create_table(
        'processing_registers',
        sa.Column('institution_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('entries', _JSON, nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'],
                                name=op.f('fk_processing_registers_institution_id_institutions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('institution_id', name=op.f('pk_processing_registers')),
    )
    op.create_table(
        'breaches',
        sa.Column('id', sa.Integer(), nullable=False),
        *_institution('breaches', nullable=False),
        sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('data_categories', _JSON, nullable=False),
        sa.Column('named', _JSON, nullable=False),
        sa.Column('affected', _JSON, nullable=False),
        sa.Column('affected_count', sa.Integer(), nullable=False),
        sa.Column('measures', sa.Text(), nullable=True),
        sa.Column('notified_whom', sa.Text(), nullable=True),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminders_sent', _JSON, nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_breaches')),
    )
    op.create_index('ix_breaches_institution_found', 'breaches', ['institution_id', 'found_at'])


def downgrade():
    for table in ('breaches', 'processing_registers', 'retention_runs', 'retention_policies', 'personal_data_access_log', 'data_exports',
                  'personal_data_erasures', 'personal_data_corrections'):
        op.drop_table(table)
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('information_officer_email')
        batch_op.drop_column('information_officer_name')
