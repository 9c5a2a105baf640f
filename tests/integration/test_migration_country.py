"""Migration 0017 gives every existing institution a country from its time zone (the demo's Algiers: DZ,
a Johannesburg provider: ZA, a zone naming no country: DZ, the rule phones were read by until then)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.integration.test_migrations import scratch_app  # noqa: F401  (the fixture)


def test_existing_institutions_get_their_time_zones_country(scratch_app):  # noqa: F811
    from web.extensions import db

    upgrade(revision="0016")
    with db.engine.begin() as conn:
        for id_, zone in ((1, "Africa/Algiers"), (2, "Africa/Johannesburg"), (3, "UTC")):
            conn.execute(text("INSERT INTO institutions (id, name, slug, time_zone, created_at) "
                              "VALUES (:id, :name, :slug, :zone, CURRENT_TIMESTAMP)"),
                         {"id": id_, "name": f"I{id_}", "slug": f"i{id_}", "zone": zone})
    upgrade(revision="0017")
    with db.engine.connect() as conn:
        countries = dict(conn.execute(text("SELECT id, country FROM institutions ORDER BY id")).all())
    assert countries == {1: "DZ", 2: "ZA", 3: "DZ"}
    downgrade(revision="0016")
    upgrade()
