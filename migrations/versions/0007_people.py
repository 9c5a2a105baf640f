"""a training provider from day one: institutions, qualifications, learners, enrolments, learner imports (issue 9)

Revision ID: 0007
Revises: 0008

Adds: institution profile (default language, accreditation number, address, contact); qualification level and
active flag; learner date of birth and a name index; enrolment withdrawal (date, reason); learner imports ride
on trainee_imports (`kind`, `institution_id`, `enrolled_count`; `cohort_id` becomes optional) with two more
row columns (id_number, date_of_birth); public_session_counts: per public session, how many learners were marked
with each status, kept by triggers on attendance_records in the marks' own transaction, as 0009 does for
corporate sessions (legacy daily records, with no session, are not counted). The cohort list sums these rows.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0008'
branch_labels = None
depends_on = None

_KIND = sa.Enum('trainees', 'learners', name='importkind', native_enum=False, length=20)


_STATUSES = ("PRESENT", "LATE", "ABSENT", "EXCUSED")
_FIELDS = ("present", "late", "absent", "excused")
_COUNTS = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS {f}" for s, f in zip(_STATUSES, _FIELDS))
_ADD = ", ".join(f"{f} = c.{f} + EXCLUDED.{f}" for f in _FIELDS)
_SUMS = ", ".join(f"coalesce(sum(n) FILTER (WHERE status = '{s}'), 0) AS {f}" for s, f in zip(_STATUSES, _FIELDS))

_POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION public_session_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public_session_counts AS c (session_id, {", ".join(_FIELDS)})
  SELECT session_id, {_COUNTS} FROM new_rows WHERE session_id IS NOT NULL GROUP BY session_id
  ON CONFLICT (session_id) DO UPDATE SET {_ADD};
  RETURN NULL;
END $$""",
    f"""CREATE FUNCTION public_session_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Old rows count -1, new rows +1; sessions whose counts did not move (a resent register) are left alone.
  INSERT INTO public_session_counts AS c (session_id, {", ".join(_FIELDS)})
  SELECT * FROM (
    SELECT session_id, {_SUMS}
    FROM (SELECT session_id, status, -1 AS n FROM old_rows WHERE session_id IS NOT NULL
          UNION ALL SELECT session_id, status, 1 FROM new_rows WHERE session_id IS NOT NULL) d
    GROUP BY session_id) moved
  WHERE {" OR ".join(f"{f} <> 0" for f in _FIELDS)}
  ON CONFLICT (session_id) DO UPDATE SET {_ADD};
  RETURN NULL;
END $$""",
    f"""CREATE FUNCTION public_session_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An UPDATE, not an upsert: when the session itself is being deleted its counts row goes with it.
  UPDATE public_session_counts c SET {", ".join(f"{f} = c.{f} - d.{f}" for f in _FIELDS)}
  FROM (SELECT session_id, {_COUNTS} FROM old_rows WHERE session_id IS NOT NULL GROUP BY session_id) d
  WHERE c.session_id = d.session_id;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER public_session_counts_insert AFTER INSERT ON attendance_records "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public_session_counts_insert()",
    "CREATE TRIGGER public_session_counts_update AFTER UPDATE ON attendance_records "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION public_session_counts_update()",
    "CREATE TRIGGER public_session_counts_delete AFTER DELETE ON attendance_records "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public_session_counts_delete()",
]

# SQLite: row triggers; a row without a session (a legacy daily record) is skipped.
_NEW_IS = ", ".join(f"NEW.status = '{s}'" for s in _STATUSES)
_SQLITE_ADD = (f"INSERT INTO public_session_counts (session_id, {', '.join(_FIELDS)}) "
               f"SELECT NEW.session_id, {_NEW_IS} WHERE NEW.session_id IS NOT NULL "
               "ON CONFLICT (session_id) DO UPDATE SET " + ", ".join(f"{f} = {f} + excluded.{f}" for f in _FIELDS) + ";")
_SQLITE_SUBTRACT = ("UPDATE public_session_counts SET "
                    + ", ".join(f"{f} = {f} - (OLD.status = '{s}')" for s, f in zip(_STATUSES, _FIELDS))
                    + " WHERE session_id = OLD.session_id;")
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER public_session_counts_insert AFTER INSERT ON attendance_records BEGIN {_SQLITE_ADD} END",
    "CREATE TRIGGER public_session_counts_update AFTER UPDATE OF status, session_id ON attendance_records "
    f"WHEN OLD.status IS NOT NEW.status OR OLD.session_id IS NOT NEW.session_id BEGIN {_SQLITE_SUBTRACT} "
    f"{_SQLITE_ADD} END",
    f"CREATE TRIGGER public_session_counts_delete AFTER DELETE ON attendance_records BEGIN {_SQLITE_SUBTRACT} END",
]


def _create_session_counts():
    op.create_table(
        'public_session_counts',
        sa.Column('session_id', sa.Integer(), nullable=False),
        *(sa.Column(f, sa.Integer(), server_default=sa.text('0'), nullable=False) for f in _FIELDS),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_public_session_counts_session_id_class_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_public_session_counts')),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    counts = _COUNTS if postgres else ", ".join(f"sum(status = '{s}') AS {f}" for s, f in zip(_STATUSES, _FIELDS))
    op.execute(f"INSERT INTO public_session_counts (session_id, {', '.join(_FIELDS)}) "
               f"SELECT session_id, {counts} FROM attendance_records WHERE session_id IS NOT NULL GROUP BY session_id")
    for statement in (_POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS):
        op.execute(statement)


def _drop_session_counts():
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS public_session_counts_{event}" + (" ON attendance_records" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS public_session_counts_{event}()")
    op.drop_table('public_session_counts')


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

    _create_session_counts()


def downgrade():
    _drop_session_counts()
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
