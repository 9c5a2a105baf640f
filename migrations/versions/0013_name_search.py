"""names found whatever their accents or case: names_fold() and trigram indexes on people's names (issue 12)

Revision ID: 0013
Revises: 0011

PostgreSQL only (SQLite registers a Python `names_fold` on each connection: core/collation.py):
- the `unaccent` and `pg_trgm` extensions (both trusted: a database owner may create them), where available;
- `names_fold(text)`: unaccent, Arabic hamza seats / madda / tatweel / harakat removed, lower-cased by ICU (the
  database's own locale may be "C"). IMMUTABLE (a wrapper: unaccent() itself is only STABLE, because its
  dictionary could change), so indexes can be built on it;
- GIN trigram indexes on names_fold(full_name) of learners and corporate trainees, the lists that grow to
  thousands: `names_fold(full_name) LIKE names_fold('%q%')` is answered from the index. (A stored folded column
  would need every writer, COPY imports included, to fill it; an expression index needs nothing.)
Smaller lists (staff, cohorts, organizations, institutions) fold on the fly.
"""
from alembic import op

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None

# Harakat U+064B-U+0652 and the superscript alef U+0670 are dropped; hamza seats and madda become a bare alef.
_ARABIC_FROM = "\u0623\u0625\u0622\u0671\u0640" + "".join(chr(c) for c in range(0x064B, 0x0653)) + "\u0670"
_ARABIC_TO = "\u0627\u0627\u0627\u0627"
_INDEXES = {"ix_learners_name_fold": "learners", "ix_corporate_trainees_name_fold": "corporate_trainees"}


def _available(bind, extension: str) -> bool:
    return bool(bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = %(n)s", {"n": extension}).scalar())


def _schema_of(bind, extension: str) -> str | None:
    return bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = %(n)s",
        {"n": extension}).scalar()


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    unaccented = "$1"
    if _available(bind, "unaccent"):
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        schema = _schema_of(bind, "unaccent")
        unaccented = f'"{schema}".unaccent(\'"{schema}".unaccent\'::regdictionary, $1)'
    icu = bind.exec_driver_sql("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'").scalar()
    lower_collation = ' COLLATE "und-x-icu"' if icu else ""
    op.execute(f"""CREATE OR REPLACE FUNCTION names_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT lower(translate({unaccented}, '{_ARABIC_FROM}', '{_ARABIC_TO}'){lower_collation})
$$""")
    if _available(bind, "pg_trgm"):
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        ops = f'"{_schema_of(bind, "pg_trgm")}".gin_trgm_ops'
        for name, table in _INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (names_fold(full_name) {ops})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS names_fold(text)")
    # The extensions stay: other databases objects may use them, and they cost nothing unused.
