"""institution country (issue 27): phones and public holidays follow it; staff phones

Revision ID: 0017
Revises: 0016

institutions.country: ISO 3166-1 alpha-2. Existing institutions (the demo one included) get the country of
their time zone (Africa/Johannesburg → ZA, Africa/Algiers → DZ); a zone that names no country (UTC) gets DZ,
the rule every phone was read by until now (also the server default, for SQL that names no country). users.phone_e164: a staff member's mobile, optional.
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _country(zone):
    from core.institutions.countries import country_for_zone

    return country_for_zone(zone or '') or 'DZ'


def upgrade():
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=False, server_default=sa.text("'DZ'")))
    conn = op.get_bind()
    institutions = sa.table('institutions', sa.column('id', sa.Integer), sa.column('time_zone', sa.String),
                            sa.column('country', sa.String))
    for row in conn.execute(sa.select(institutions.c.id, institutions.c.time_zone)).all():
        if _country(row.time_zone) != 'DZ':
            conn.execute(institutions.update().where(institutions.c.id == row.id)
                         .values(country=_country(row.time_zone)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_e164', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone_e164')
    with op.batch_alter_table('institutions', schema=None) as batch_op:
        batch_op.drop_column('country')
