"""trainee_import_rows without a per-row foreign key check (issue 14, import validation speed)

Revision ID: 0010_import_rows
Revises: 0013

Validation writes up to hundreds of thousands of trainee_import_rows by COPY; the foreign key to
trainee_imports made PostgreSQL look up (and key-share lock) the import once per row, half of the COPY's
time. The key goes; a trigger on trainee_imports keeps what its ON DELETE CASCADE did: deleting an import
(or its cohort or institution) deletes its rows. Rows are only ever written for an import the writer
holds (its status is checked in the same transaction), so none can point at a missing import.
"""
from alembic import op

revision = '0010_import_rows'
down_revision = '0013'
branch_labels = None
depends_on = None

_FK = 'fk_trainee_import_rows_import_id_trainee_imports'

_POSTGRES = [
    """CREATE FUNCTION trainee_import_rows_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM trainee_import_rows r USING gone_imports g WHERE r.import_id = g.id;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER trainee_import_rows_cascade AFTER DELETE ON trainee_imports "
    "REFERENCING OLD TABLE AS gone_imports FOR EACH STATEMENT EXECUTE FUNCTION trainee_import_rows_cascade()",
]
_SQLITE = [
    "CREATE TRIGGER trainee_import_rows_cascade AFTER DELETE ON trainee_imports "
    "BEGIN DELETE FROM trainee_import_rows WHERE import_id = OLD.id; END",
]


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_='foreignkey')
    for statement in (_POSTGRES if postgres else _SQLITE):
        op.execute(statement)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS trainee_import_rows_cascade" + (" ON trainee_imports" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS trainee_import_rows_cascade()")
    op.execute("DELETE FROM trainee_import_rows WHERE import_id NOT IN (SELECT id FROM trainee_imports)")
    with op.batch_alter_table('trainee_import_rows', schema=None) as batch_op:
        batch_op.create_foreign_key(_FK, 'trainee_imports', ['import_id'], ['id'], ondelete='CASCADE')
