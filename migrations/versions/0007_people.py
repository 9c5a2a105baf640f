"""a training provider from day one: institutions, qualifications, learners, enrolments, learner imports (issue 9)

Revision ID: 0007
Revises: 0004

Adds: institution profile (default language, accreditation number, address, contact); qualification level and
active flag; learner date of birth and a name index; enrolment withdrawal (date, reason); learner imports ride
on trainee_imports (`kind`, `institution_id`, `enrolled_count`; `cohort_id` becomes optional) with two more
row columns (id_number, date_of_birth).
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None

_KIND = sa.Enum('trainees', 'learners', name='importkind', native_enum=False, length=20)


def upgrade():
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_language', sa.String(length=8), server_default=sa.text("'en'"),
                                      nullable=False))
        batch_op.add_column(sa.Column('accreditation_number', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('contact_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))

    with op.batch_alter_table('qualifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False))

    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_of_birth', sa.Date(), nullable=True))
        batch_op.create_index('ix_learners_institution_name', ['institution_id', 'full_name'], unique=False)

    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.String(length=300), nullable=True))

    with op.batch_alter_table('trainee_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', _KIND, server_default=sa.text("'trainees'"), nullable=False))
        batch_op.add_column(sa.Column('institution_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('enrolled_count', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.alter_column('cohort_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_trainee_imports_institution_id_institutions'), 'institutions',
                                    ['institution_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_trainee_imports_institution_id'), ['institution_id'], unique=False)

    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('date_of_birth', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.drop_column('date_of_birth')
        batch_op.drop_column('id_number')
    op.execute("DELETE FROM trainee_imports WHERE cohort_id IS NULL")
    with op.batch_alter_table('trainee_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainee_imports_institution_id'))
        batch_op.drop_constraint(batch_op.f('fk_trainee_imports_institution_id_institutions'), type_='foreignkey')
        batch_op.alter_column('cohort_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('enrolled_count')
        batch_op.drop_column('institution_id')
        batch_op.drop_column('kind')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_on')
    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.drop_index('ix_learners_institution_name')
        batch_op.drop_column('date_of_birth')
    with op.batch_alter_table('qualifications', schema=None) as batch_op:
        batch_op.drop_column('active')
        batch_op.drop_column('level')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('contact_name')
        batch_op.drop_column('address')
        batch_op.drop_column('accreditation_number')
        batch_op.drop_column('default_language')
