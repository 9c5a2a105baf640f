"""audit_events without a per-row foreign key check on its actor (issue 14, bulk mark speed)

Revision ID: 0015
Revises: 0014

A bulk mark of a 500-trainee register writes 500 audit events in the statement that writes the marks; the
foreign key to users checked (and key-share locked) the same user 500 times, a tenth of the request. The key
goes; a trigger on users keeps what its ON DELETE SET NULL did. Events are only written with the signed-in
user (or none, for jobs), so none can name a missing user.
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_FK = 'fk_audit_events_actor_id_users'

_POSTGRES = [
    """CREATE FUNCTION audit_events_forget_actor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit_events a SET actor_id = NULL FROM gone_users g WHERE a.actor_id = g.id;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER audit_events_forget_actor AFTER DELETE ON users "
    "REFERENCING OLD TABLE AS gone_users FOR EACH STATEMENT EXECUTE FUNCTION audit_events_forget_actor()",
]
_SQLITE = [
    "CREATE TRIGGER audit_events_forget_actor AFTER DELETE ON users "
    "BEGIN UPDATE audit_events SET actor_id = NULL WHERE actor_id = OLD.id; END",
]


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_='foreignkey')
    for statement in (_POSTGRES if postgres else _SQLITE):
        op.execute(statement)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS audit_events_forget_actor" + (" ON users" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS audit_events_forget_actor()")
    op.execute("UPDATE audit_events SET actor_id = NULL WHERE actor_id IS NOT NULL "
               "AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = audit_events.actor_id)")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_foreign_key(_FK, 'users', ['actor_id'], ['id'], ondelete='SET NULL')
