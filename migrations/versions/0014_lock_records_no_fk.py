"""session_lock_records without a per-row foreign key check (issue 14, lock sweep speed)

Revision ID: 0014
Revises: 0012

Recording a night's locks inserted a record per session, and the foreign key to class_sessions looked up
and key-share locked each session row: a third of a normal night's sweep, and it dirtied a class_sessions
page per record (a day's sessions are spread over ~1,000 pages). The key goes; a trigger on class_sessions
keeps what its ON DELETE CASCADE did. Records are only written by the sweep, for sessions it has just read.

ix_class_sessions_ends_at (the sweep's watermark index) now carries what the sweep reads of a session, so a
night's sweep reads the index alone instead of a heap page per session.
"""
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

_FK = 'fk_session_lock_records_session_id_class_sessions'

_POSTGRES = [
    """CREATE FUNCTION session_lock_records_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM session_lock_records r USING gone_sessions g WHERE r.session_id = g.id;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER session_lock_records_cascade AFTER DELETE ON class_sessions "
    "REFERENCING OLD TABLE AS gone_sessions FOR EACH STATEMENT EXECUTE FUNCTION session_lock_records_cascade()",
]
_SQLITE = [
    "CREATE TRIGGER session_lock_records_cascade AFTER DELETE ON class_sessions "
    "BEGIN DELETE FROM session_lock_records WHERE session_id = OLD.id; END",
]


_COVERED = ['id', 'institution_id', 'session_date', 'is_locked', 'relock_after']


def _ends_at_index(include: list[str]) -> None:
    with op.batch_alter_table('class_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_class_sessions_ends_at')
        batch_op.create_index('ix_class_sessions_ends_at', ['ends_at'], unique=False, postgresql_include=include)


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    _ends_at_index(_COVERED)
    with op.batch_alter_table('session_lock_records', schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_='foreignkey')
    for statement in (_POSTGRES if postgres else _SQLITE):
        op.execute(statement)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    _ends_at_index([])
    op.execute("DROP TRIGGER IF EXISTS session_lock_records_cascade" + (" ON class_sessions" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS session_lock_records_cascade()")
    op.execute("DELETE FROM session_lock_records AS r "
               "WHERE NOT EXISTS (SELECT 1 FROM class_sessions AS s WHERE s.id = r.session_id)")
    with op.batch_alter_table('session_lock_records', schema=None) as batch_op:
        batch_op.create_foreign_key(_FK, 'class_sessions', ['session_id'], ['id'], ondelete='CASCADE')
