"""a tamper-evident audit trail (issue 22): audit_events hash-chained per institution; submissions record the
chain head

Revision ID: 0025
Revises: 0024

audit_events gets `institution_id` (the chain: NULL for rows of no institution, chain 0), `seq`, `prev_hash`
and `row_hash`; audit_chain_heads holds each chain's last link. The hash is defined in
core/audit_trail/chain.py (and the README). The database computes it for every inserted row, in the inserting
transaction, so no writer escapes the chain: on PostgreSQL a statement-level trigger (one lock of the chain's
head per statement and chain, the new rows chained in id order, one UPDATE of them), on SQLite a row trigger
calling the Python function the app registers on every connection (`audit_chain_hash`).

Existing rows: `institution_id` is backfilled from the entity each names (a session, a cohort, an attendance
record's enrolment or trainee…; a user or an import of no institution, the nightly lock sweep: none), then
every chain is built in id order.
"""
import hashlib
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

# The institution of each kind of entity an audit row names (existing rows only: new rows carry theirs).
_OWNER = {
    'attendance_record': "SELECT c.institution_id FROM attendance_records r JOIN enrolments e ON e.id = r.enrolment_id "
                         "JOIN cohorts c ON c.id = e.cohort_id WHERE r.id = audit_events.entity_id",
    'corporate_attendance_record': "SELECT c.institution_id FROM corporate_attendance_records r "
                                   "JOIN corporate_trainees t ON t.id = r.trainee_id "
                                   "JOIN cohorts c ON c.id = t.cohort_id WHERE r.id = audit_events.entity_id",
    'enrolment': "SELECT c.institution_id FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id "
                 "WHERE e.id = audit_events.entity_id",
    'corporate_agreement': "SELECT o.institution_id FROM corporate_agreements a JOIN organizations o "
                           "ON o.id = a.organization_id WHERE a.id = audit_events.entity_id",
    'trainee_import': "SELECT COALESCE(i.institution_id, c.institution_id) FROM trainee_imports i "
                      "LEFT JOIN cohorts c ON c.id = i.cohort_id WHERE i.id = audit_events.entity_id",
}
_DIRECT = {'class_session': 'class_sessions', 'cohort': 'cohorts', 'room': 'rooms', 'holiday': 'holidays',
           'learner': 'learners', 'apology': 'apologies', 'invoice': 'invoices', 'access_request': 'access_requests',
           'organization': 'organizations', 'submission': 'submissions', 'user': 'users'}

_LINE_PG = """CREATE FUNCTION audit_chain_line(seq bigint, institution_id integer, at timestamptz, actor_id integer,
    action text, entity_type text, entity_id integer, before jsonb, after jsonb, context jsonb)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT seq::text || E'\\n' || COALESCE(institution_id::text, '') || E'\\n'
      || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\\n'
      || COALESCE(actor_id::text, '') || E'\\n' || action || E'\\n' || entity_type || E'\\n' || entity_id::text
      || E'\\n' || COALESCE(before::text, '') || E'\\n' || COALESCE(after::text, '') || E'\\n'
      || COALESCE(context::text, '')
$$"""

# Chains the rows `new_ids` (rows without a link yet), chain by chain, in id order: the chain's head is locked
# FOR UPDATE (created at seq 0 the first time); the rows' lines are built set-based (their seqs follow the
# head's), so only the hashing itself, each row's after the one before, runs in the loop; the rows are written
# in one UPDATE and the head advanced.
_LINK_PG = """CREATE FUNCTION audit_chain_link(new_ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  c integer;
  r record;
  s bigint;
  h bytea;
  ids integer[] := '{}';
  seqs bigint[] := '{}';
  prevs bytea[] := '{}';
  hashes bytea[] := '{}';
BEGIN
  FOR c IN SELECT DISTINCT COALESCE(a.institution_id, 0) FROM audit_events a WHERE a.id = ANY(new_ids) ORDER BY 1 LOOP
    SELECT x.seq, x.row_hash INTO s, h FROM audit_chain_heads x WHERE x.chain_id = c FOR UPDATE;
    IF NOT FOUND THEN
      INSERT INTO audit_chain_heads (chain_id, seq, row_hash) VALUES (c, 0, decode(repeat('00', 32), 'hex'))
        ON CONFLICT (chain_id) DO NOTHING;
      SELECT x.seq, x.row_hash INTO s, h FROM audit_chain_heads x WHERE x.chain_id = c FOR UPDATE;
    END IF;
    FOR r IN SELECT t.id, t.next_seq AS seq, convert_to(audit_chain_line(t.next_seq, t.institution_id, t.at, t.actor_id, t.action,
                    t.entity_type, t.entity_id, t.before, t.after, t.context), 'UTF8') AS line
               FROM (SELECT a.*, s + row_number() OVER (ORDER BY a.id) AS next_seq FROM audit_events a
                      WHERE a.id = ANY(new_ids) AND COALESCE(a.institution_id, 0) = c) AS t
              ORDER BY t.next_seq LOOP
      ids := array_append(ids, r.id);
      seqs := array_append(seqs, r.seq);
      prevs := array_append(prevs, h);
      h := sha256(h || r.line);
      hashes := array_append(hashes, h);
    END LOOP;
    s := seqs[cardinality(seqs)];
    UPDATE audit_chain_heads SET seq = s, row_hash = h WHERE chain_id = c;
  END LOOP;
  UPDATE audit_events a SET seq = u.seq, prev_hash = u.prev_hash, row_hash = u.row_hash
    FROM unnest(ids, seqs, prevs, hashes) AS u(id, seq, prev_hash, row_hash) WHERE a.id = u.id;
END $$"""

_TRIGGER_PG = [
    """CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM audit_chain_link(ARRAY(SELECT id FROM new_audit_rows));
  RETURN NULL;
END $$""",
    "CREATE TRIGGER audit_events_chain AFTER INSERT ON audit_events REFERENCING NEW TABLE AS new_audit_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_chain()",
]

_CHAIN = "COALESCE(NEW.institution_id, 0)"
_TRIGGER_SQLITE = f"""CREATE TRIGGER audit_events_chain AFTER INSERT ON audit_events FOR EACH ROW BEGIN
  INSERT OR IGNORE INTO audit_chain_heads (chain_id, seq, row_hash) VALUES ({_CHAIN}, 0, zeroblob(32));
  UPDATE audit_events SET seq = (SELECT seq + 1 FROM audit_chain_heads WHERE chain_id = {_CHAIN}),
         prev_hash = (SELECT row_hash FROM audit_chain_heads WHERE chain_id = {_CHAIN}) WHERE id = NEW.id;
  UPDATE audit_events SET row_hash = audit_chain_hash(prev_hash, seq, institution_id, at, actor_id, action,
         entity_type, entity_id, before, after, context) WHERE id = NEW.id;
  UPDATE audit_chain_heads SET seq = seq + 1, row_hash = (SELECT row_hash FROM audit_events WHERE id = NEW.id)
   WHERE chain_id = {_CHAIN};
END"""


def _backfill_institutions():
    for kind, table in _DIRECT.items():
        op.execute(f"UPDATE audit_events SET institution_id = (SELECT t.institution_id FROM {table} t "
                   f"WHERE t.id = audit_events.entity_id) WHERE entity_type = '{kind}'")
    for kind, owner in _OWNER.items():
        op.execute(f"UPDATE audit_events SET institution_id = ({owner}) WHERE entity_type = '{kind}'")
    op.execute("UPDATE audit_events SET institution_id = entity_id WHERE entity_type = 'institution' "
               "AND EXISTS (SELECT 1 FROM institutions i WHERE i.id = audit_events.entity_id)")


def _chain_sqlite(conn):
    """The existing rows chained in Python (the same definition as core/audit_trail/chain.py, frozen here)."""
    rows = conn.execute(sa.text("SELECT id, institution_id, at, actor_id, action, entity_type, entity_id, before, "
                                "after, context FROM audit_events ORDER BY COALESCE(institution_id, 0), id")).all()
    heads = {}
    for row in rows:
        chain = row.institution_id or 0
        seq, prev = heads.get(chain, (0, bytes(32)))
        seq += 1
        at = dt.datetime.fromisoformat(row.at) if isinstance(row.at, str) else row.at
        line = "\n".join(("" if v is None else str(v)) for v in (
            seq, row.institution_id, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), row.actor_id, row.action,
            row.entity_type, row.entity_id, row.before, row.after, row.context))
        digest = hashlib.sha256(prev + line.encode()).digest()
        conn.execute(sa.text("UPDATE audit_events SET seq = :seq, prev_hash = :prev, row_hash = :hash WHERE id = :id"),
                     {"seq": seq, "prev": prev, "hash": digest, "id": row.id})
        heads[chain] = (seq, digest)
    for chain, (seq, digest) in heads.items():
        conn.execute(sa.text("INSERT INTO audit_chain_heads (chain_id, seq, row_hash) VALUES (:c, :s, :h)"),
                     {"c": chain, "s": seq, "h": digest})


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('audit_chain_heads',
                    sa.Column('chain_id', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('seq', sa.BigInteger(), nullable=False),
                    sa.Column('row_hash', sa.LargeBinary(length=32), nullable=False),
                    sa.PrimaryKeyConstraint('chain_id', name=op.f('pk_audit_chain_heads')))
    op.create_table(
        'audit_chain_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chain_id', sa.Integer(), nullable=False),
        sa.Column('break_key', sa.String(length=80), nullable=False),
        sa.Column('row_id', sa.Integer(), nullable=True),
        sa.Column('seq', sa.BigInteger(), nullable=True),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('PENDING', 'SENT', 'FAILED', name='reminderstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_audit_chain_alerts_recipient_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_alerts')),
        sa.UniqueConstraint('chain_id', 'break_key', 'recipient_id',
                            name=op.f('uq_audit_chain_alerts_chain_id_break_key_recipient_id')),
    )
    with op.batch_alter_table('audit_chain_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_chain_alerts_recipient_id'), ['recipient_id'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('institution_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.LargeBinary(length=32), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trail_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('trail_hash', sa.LargeBinary(length=32), nullable=True))
    _backfill_institutions()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('uq_audit_events_chain_seq', ['institution_id', 'seq'], unique=True)
    if postgres:
        op.execute(_LINE_PG)
        op.execute(_LINK_PG)
        # The existing rows in id order, 10,000 at a time (each call's id list stays small).
        conn, last = op.get_bind(), 0
        while True:
            ids = conn.execute(sa.text("SELECT id FROM audit_events WHERE id > :last ORDER BY id LIMIT 10000"),
                               {"last": last}).scalars().all()
            if not ids:
                break
            conn.execute(sa.text("SELECT audit_chain_link(CAST(:ids AS integer[]))"), {"ids": list(ids)})
            last = ids[-1]
        for statement in _TRIGGER_PG:
            op.execute(statement)
    else:
        _chain_sqlite(op.get_bind())
        op.execute(_TRIGGER_SQLITE)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS audit_events_chain" + (" ON audit_events" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS audit_events_chain()")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_link(integer[])")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_line(bigint, integer, timestamptz, integer, text, text, "
                   "integer, jsonb, jsonb, jsonb)")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('uq_audit_events_chain_seq')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('trail_hash')
        batch_op.drop_column('trail_seq')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
        batch_op.drop_column('institution_id')
    op.drop_table('audit_chain_heads')
    op.drop_table('audit_chain_alerts')
