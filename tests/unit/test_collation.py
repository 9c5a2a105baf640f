"""core.collation: what a search folds away, and the SQL each dialect gets for a collated ORDER BY."""

from __future__ import annotations

import pytest
from sqlalchemy import column, select
from sqlalchemy.dialects import postgresql, sqlite

from core.collation import collated, fold, name_matches, sql_language


@pytest.mark.parametrize(("text", "folded"), [
    ("Élodie", "elodie"), ("ÉLODIE", "elodie"), ("Zoé", "zoe"), ("Straße", "strasse"),
    ("أحمد", "احمد"), ("إيمان", "ايمان"), ("آمنة", "امنة"), ("مُحَمَّد", "محمد"), ("عـــمر", "عمر"),
])
def test_fold_drops_accents_case_harakat_and_hamza_seats(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(("language", "expected"), [("fr", "fr"), ("ar", "ar"), ("en-GB", "en"), ("fr_FR", "fr"),
                                                    ("de", "und"), (None, "und"), ("", "und")])
def test_a_query_uses_the_language_or_the_root_collation(language, expected):
    assert sql_language(language) == expected


def test_postgresql_orders_by_the_predefined_icu_collation():
    stmt = select(column("full_name")).order_by(collated(column("full_name"), "fr"))
    assert 'ORDER BY full_name COLLATE "fr-x-icu"' in str(stmt.compile(dialect=postgresql.dialect()))
    other = select(column("full_name")).order_by(collated(column("full_name"), "de"))
    assert 'COLLATE "und-x-icu"' in str(other.compile(dialect=postgresql.dialect()))


def test_sqlite_orders_by_the_collation_each_connection_registers():
    stmt = select(column("full_name")).order_by(collated(column("full_name"), "ar"))
    assert "ORDER BY full_name COLLATE names_ar" in str(stmt.compile(dialect=sqlite.dialect()))


def test_two_languages_are_two_cached_statements():
    """The language is part of the statement's cache key: French and Arabic never share compiled SQL."""
    fr = select(column("n")).order_by(collated(column("n"), "fr"))
    ar = select(column("n")).order_by(collated(column("n"), "ar"))
    assert fr._generate_cache_key() != ar._generate_cache_key()


def test_a_search_folds_both_sides_and_escapes_the_pattern():
    stmt = select(column("n")).where(name_matches(column("n"), "50%_off"))
    compiled = stmt.compile(dialect=sqlite.dialect())
    assert "names_fold(n) LIKE names_fold(?) ESCAPE '\\'" in str(compiled)
    assert list(compiled.params.values()) == ["%50\\%\\_off%"]  # the user's % and _ match themselves
