"""Names in lists sort by the request language's collation, in SQL and still paged (PostgreSQL: ICU collations;
SQLite: the same order through collations registered on each connection), and name searches ignore accents
and case ("elodie" finds "Élodie")."""

from __future__ import annotations

import datetime as dt

import pytest

from core.collation import engine, sort_key
from core.models import Cohort, CohortType, Institution, Learner, Role, User

# Byte order would give Elodie, Yanis, Zoé, Élodie, Émile, then the Arabic names.
NAMES = ["Zoé Brahimi", "ياسين", "Élodie Zérouali", "Yanis Zitouni", "أحمد بن علي", "Émile Dupont", "Elodie Amrani"]
ENGLISH = ["Elodie Amrani", "Élodie Zérouali", "Émile Dupont", "Yanis Zitouni", "Zoé Brahimi", "أحمد بن علي", "ياسين"]
ARABIC = ["أحمد بن علي", "ياسين", "Elodie Amrani", "Élodie Zérouali", "Émile Dupont", "Yanis Zitouni", "Zoé Brahimi"]
ICU_ONLY = pytest.mark.skipif(not engine().startswith("icu"), reason="the Arabic-first order is ICU's (PyICU)")


@pytest.fixture
def people(sql, demo):
    """NAMES as learners, as teachers and as cohorts (same start date: the list breaks the tie by name)."""
    inst = demo["institution_id"]
    for i, name in enumerate(NAMES):
        sql.add(Learner(institution_id=inst, full_name=name, id_number=f"COLL-{i}"))
        sql.add(User(institution_id=inst, email=f"collation{i}@demo.example", full_name=name, role=Role.TEACHER))
        sql.add(Cohort(institution_id=inst, name=name, cohort_type=CohortType.PUBLIC, start_date=dt.date(2099, 1, 1)))
    sql.commit()
    return NAMES


def _names(response, field: str) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item[field] for item in response.get_json()["items"] if item[field] in NAMES]


LISTS = [("/api/learners", "full_name"), ("/api/users", "full_name"), ("/api/institution/cohorts", "name")]


@pytest.mark.parametrize(("url", "field"), LISTS)
def test_lists_sort_names_by_english_collation_not_bytes(client, api, people, url, field):
    got = _names(client.get(url, headers={**api("admin"), "Accept-Language": "en"}), field)
    assert got == ENGLISH == sorted(NAMES, key=sort_key("en"))
    assert abs(got.index("Élodie Zérouali") - got.index("Elodie Amrani")) == 1  # Élodie beside Elodie


@ICU_ONLY
@pytest.mark.parametrize(("url", "field"), LISTS)
def test_lists_in_arabic_put_arabic_names_first(client, api, people, url, field):
    got = _names(client.get(url, headers={**api("admin"), "Accept-Language": "ar"}), field)
    assert got == ARABIC == sorted(NAMES, key=sort_key("ar"))


def test_paging_keeps_the_collation_order_across_pages(client, api, people):
    """The order is SQL's (LIMIT/OFFSET over the collated ORDER BY), so pages join up in order."""
    headers = {**api("admin"), "Accept-Language": "en"}
    seen: list[str] = []
    for page in range(1, 30):
        body = client.get(f"/api/learners?per_page=3&page={page}", headers=headers).get_json()
        seen += [item["full_name"] for item in body["items"]]
        if page >= body["pages"]:
            break
    assert [n for n in seen if n in NAMES] == ENGLISH
    assert seen == sorted(seen, key=sort_key("en"))


@pytest.mark.parametrize("q", ["elodie", "ELODIE", "Élodie", "élo"])
def test_learner_search_ignores_accents_and_case(client, api, people, q):
    got = _names(client.get("/api/learners", headers=api("admin"), query_string={"q": q}), "full_name")
    assert sorted(got) == ["Elodie Amrani", "Élodie Zérouali"]


def test_search_finds_the_accented_part_of_a_name(client, api, people):
    got = _names(client.get("/api/learners", headers=api("admin"), query_string={"q": "zerouali"}), "full_name")
    assert got == ["Élodie Zérouali"]


def test_arabic_search_ignores_the_hamza_seat(client, api, people):
    """"احمد" (typed without the hamza) finds "أحمد"."""
    got = _names(client.get("/api/learners", headers=api("admin"), query_string={"q": "احمد"}), "full_name")
    assert got == ["أحمد بن علي"]


@pytest.mark.parametrize(("url", "field"), LISTS[1:])
def test_staff_and_cohort_search_ignore_accents_and_case(client, api, people, url, field):
    got = _names(client.get(url, headers=api("admin"), query_string={"q": "EMILE"}), field)
    assert got == ["Émile Dupont"]


def test_the_regulators_pickers_find_institutions_and_cohorts_without_accents(client, api, sql, people):
    school = Institution(name="École Supérieure d'Oran", slug="ecole-oran", time_zone="Africa/Algiers")
    sql.add(school)
    sql.commit()
    sql.add(Cohort(institution_id=school.id, name="Électricité 2026", cohort_type=CohortType.PUBLIC))
    sql.commit()
    headers = api("regulator")
    found = client.get("/api/access-requests/institution-choices", headers=headers, query_string={"q": "ecole sup"})
    assert [i["name"] for i in found.get_json()["items"]] == ["École Supérieure d'Oran"]
    cohorts = client.get("/api/access-requests/cohort-choices", headers=headers,
                         query_string={"institution_id": school.id, "q": "ELECTRICITE"})
    assert [c["name"] for c in cohorts.get_json()["items"]] == ["Électricité 2026"]


def test_a_search_pattern_is_taken_literally(client, api, people):
    """% and _ typed by the user match themselves, not any text."""
    for q in ("%", "_"):
        assert _names(client.get("/api/learners", headers=api("admin"), query_string={"q": q}), "full_name") == []
