"""organization portal and regulator access (issue 11)

Revision ID: 0009
Revises: 0006

Access requests name any number of cohorts (access_request_cohorts; the old single cohort_id moves
there) or a whole institution (scope); deny and revoke keep their reason; REJECTED becomes DENIED.
Adds: users.agency_name (a regulator's organization), access_request_reads (every regulator read, by
grant), access_request_notices (mails about requests, never sent twice), organization_grants
(e.g. corporate_reports.view for a client organization), and corporate_session_counts: per corporate
session, how many trainees were marked with each status, kept by triggers on corporate_attendance_records
in the same transaction as the marks (PostgreSQL: one statement-level trigger per event with transition
tables, so a 500-row register costs one aggregated upsert; SQLite: row triggers). The portal sums these
rows instead of scanning every record.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0006'
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
    _create_session_counts()


_COUNTS = ("count(*) FILTER (WHERE status = 'PRESENT') AS present, count(*) FILTER (WHERE status = 'LATE') AS late, "
           "count(*) FILTER (WHERE status = 'ABSENT') AS absent, count(*) FILTER (WHERE status = 'EXCUSED') AS excused")
_ADD = ("ON CONFLICT (session_id) DO UPDATE SET present = c.present + EXCLUDED.present, "
        "late = c.late + EXCLUDED.late, absent = c.absent + EXCLUDED.absent, excused = c.excused + EXCLUDED.excused")

_POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION corporate_session_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO corporate_session_counts AS c (session_id, present, late, absent, excused)
  SELECT session_id, {_COUNTS} FROM new_rows GROUP BY session_id
  {_ADD};
  RETURN NULL;
END $$""",
    """CREATE FUNCTION corporate_session_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Old rows count -1, new rows +1; sessions whose counts did not move (a resent register) are left alone.
  INSERT INTO corporate_session_counts AS c (session_id, present, late, absent, excused)
  SELECT * FROM (
    SELECT session_id, coalesce(sum(n) FILTER (WHERE status = 'PRESENT'), 0) AS present,
           coalesce(sum(n) FILTER (WHERE status = 'LATE'), 0) AS late,
           coalesce(sum(n) FILTER (WHERE status = 'ABSENT'), 0) AS absent,
           coalesce(sum(n) FILTER (WHERE status = 'EXCUSED'), 0) AS excused
    FROM (SELECT session_id, status, -1 AS n FROM old_rows UNION ALL SELECT session_id, status, 1 FROM new_rows) d
    GROUP BY session_id) moved
  WHERE present <> 0 OR late <> 0 OR absent <> 0 OR excused <> 0
  ON CONFLICT (session_id) DO UPDATE SET present = c.present + EXCLUDED.present, late = c.late + EXCLUDED.late,
    absent = c.absent + EXCLUDED.absent, excused = c.excused + EXCLUDED.excused;
  RETURN NULL;
END $$""",
    f"""CREATE FUNCTION corporate_session_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An UPDATE, not an upsert: when the session itself is being deleted its counts row goes with it.
  UPDATE corporate_session_counts c SET present = c.present - d.present, late = c.late - d.late,
         absent = c.absent - d.absent, excused = c.excused - d.excused
  FROM (SELECT session_id, {_COUNTS} FROM old_rows GROUP BY session_id) d WHERE c.session_id = d.session_id;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER corporate_session_counts_insert AFTER INSERT ON corporate_attendance_records "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION corporate_session_counts_insert()",
    "CREATE TRIGGER corporate_session_counts_update AFTER UPDATE ON corporate_attendance_records "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION corporate_session_counts_update()",
    "CREATE TRIGGER corporate_session_counts_delete AFTER DELETE ON corporate_attendance_records "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION corporate_session_counts_delete()",
]


def _sqlite_row(prefix: str) -> str:
    return ", ".join(f"{prefix}.status = '{s}'" for s in ("PRESENT", "LATE", "ABSENT", "EXCUSED"))


_SQLITE_UPSERT = ("INSERT INTO corporate_session_counts (session_id, present, late, absent, excused) "
                  "VALUES (NEW.session_id, {row}) ON CONFLICT (session_id) DO UPDATE SET "
                  "present = present + excluded.present, late = late + excluded.late, "
                  "absent = absent + excluded.absent, excused = excused + excluded.excused;")
_SQLITE_SUBTRACT = ("UPDATE corporate_session_counts SET present = present - (OLD.status = 'PRESENT'), "
                    "late = late - (OLD.status = 'LATE'), absent = absent - (OLD.status = 'ABSENT'), "
                    "excused = excused - (OLD.status = 'EXCUSED') WHERE session_id = OLD.session_id;")
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER corporate_session_counts_insert AFTER INSERT ON corporate_attendance_records BEGIN "
    + _SQLITE_UPSERT.format(row=_sqlite_row("NEW")) + " END",
    "CREATE TRIGGER corporate_session_counts_update AFTER UPDATE OF status, session_id ON "
    "corporate_attendance_records WHEN OLD.status IS NOT NEW.status OR OLD.session_id IS NOT NEW.session_id BEGIN "
    + _SQLITE_SUBTRACT + " " + _SQLITE_UPSERT.format(row=_sqlite_row("NEW")) + " END",
    "CREATE TRIGGER corporate_session_counts_delete AFTER DELETE ON corporate_attendance_records BEGIN "
    + _SQLITE_SUBTRACT + " END",
]


def _create_session_counts():
    op.create_table(
        'corporate_session_counts',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('present', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('late', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('absent', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('excused', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['class_sessions.id'],
                                name=op.f('fk_corporate_session_counts_session_id_class_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', name=op.f('pk_corporate_session_counts')),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    counts = _COUNTS if postgres else ", ".join(
        f"sum(status = '{s}') AS {s.lower()}" for s in ("PRESENT", "LATE", "ABSENT", "EXCUSED"))
    op.execute(f"INSERT INTO corporate_session_counts (session_id, present, late, absent, excused) "
               f"SELECT session_id, {counts} FROM corporate_attendance_records GROUP BY session_id")
    for statement in (_POSTGRES_TRIGGERS if postgres else _SQLITE_TRIGGERS):
        op.execute(statement)


def _drop_session_counts():
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS corporate_session_counts_{event}"
                   + (" ON corporate_attendance_records" if op.get_bind().dialect.name == "postgresql" else ""))
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS corporate_session_counts_{event}()")
    op.drop_table('corporate_session_counts')


def downgrade():
    _drop_session_counts()
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
