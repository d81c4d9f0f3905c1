"""The header search: correctness for each key kind, scoping, and index use on a large table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.choices import Role
from crm.search import SearchKind, classify, search

from ..factories import CustomerFactory, UserFactory, VehicleFactory


@pytest.fixture
def people(rooftop):
    wang = CustomerFactory(dealership=rooftop, full_name="王伟", mobile="+8613800001111", other_phone="+862168881234")
    wang_long = CustomerFactory(dealership=rooftop, full_name="王伟东", mobile="+8613900002222")
    zhang = CustomerFactory(dealership=rooftop, full_name="张静", mobile="+8615000005678")
    smith = CustomerFactory(dealership=rooftop, full_name="John Smith", mobile="+8618600003333")
    car = VehicleFactory(dealership=rooftop, owner=zhang, plate="沪AD12345", vin="LSVAM4187C2184512")
    return {"wang": wang, "wang_long": wang_long, "zhang": zhang, "smith": smith, "car": car}


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("王伟", SearchKind.NAME),
        ("john", SearchKind.NAME),
        ("13800001111", SearchKind.PHONE),
        ("5678", SearchKind.LAST4),
        ("沪AD123", SearchKind.PLATE_OR_VIN),
        ("AD1234", SearchKind.PLATE_OR_VIN),
        ("", SearchKind.EMPTY),
    ],
)
def test_classify(query, kind):
    assert classify(query) == kind


def names(results):
    return [customer.full_name for customer in results.customers]


def test_two_character_name_finds_exact_match_first(people, advisor):
    found = names(search(advisor, "王伟"))
    assert found[0] == "王伟"
    assert "王伟东" in found and "张静" not in found


def test_one_character_and_latin_names(people, advisor):
    assert set(names(search(advisor, "王"))) == {"王伟", "王伟东"}
    assert names(search(advisor, "smith")) == ["John Smith"]
    assert names(search(advisor, "John  Smith")) == ["John Smith"]


def test_full_phone_in_any_format(people, advisor):
    for query in ("13800001111", "138 0000 1111", "+86 138-0000-1111"):
        assert names(search(advisor, query)) == ["王伟"], query


def test_landline_other_phone_is_found(people, advisor):
    assert names(search(advisor, "021 6888 1234")) == ["王伟"]


def test_last_four_digits(people, advisor):
    assert names(search(advisor, "5678")) == ["张静"]
    assert names(search(advisor, "1234")) == ["王伟"]  # the landline's last 4
    assert [v.plate for v in search(advisor, "2345").vehicles] == ["沪AD12345"]


def test_phone_fragment(people, advisor):
    assert names(search(advisor, "1390000")) == ["王伟东"]


def test_plate_fragments_in_any_case_and_spacing(people, advisor):
    for query in ("沪AD123", "ad 1234", "D1234", "沪a"):
        results = search(advisor, query)
        assert [v.plate for v in results.vehicles] == ["沪AD12345"], query
        assert results.vehicles[0].owner.full_name == "张静"


def test_digits_of_a_plate_find_the_vehicle(people, advisor):
    """Plates are read out by their digits: an ending first, a middle part when nothing ends with it."""
    for query in ("12345", "2345"):
        assert [v.plate for v in search(advisor, query).vehicles] == ["沪AD12345"], query


def test_a_phone_ending_does_not_hide_a_plate_with_the_digits_inside(people, advisor):
    # 张静's mobile ends with 5678; no plate ends with 1234, so the plate containing it is found too.
    results = search(advisor, "1234")
    assert [v.plate for v in results.vehicles] == ["沪AD12345"]
    assert names(results) == ["王伟"]  # whose landline ends with 1234


def test_endings_come_first_and_middles_only_when_nothing_ends_so(people, advisor, rooftop):
    VehicleFactory(dealership=rooftop, plate="沪B45123", vin="1HGCM82633A004352")
    assert [v.plate for v in search(advisor, "4512").vehicles] == ["沪AD12345"]  # its VIN ends …184512
    assert [v.plate for v in search(advisor, "5123").vehicles] == ["沪B45123"]
    assert [v.plate for v in search(advisor, "D123").vehicles] == ["沪AD12345"]  # nothing ends so: the middle


def test_letters_only_find_a_plate_as_well_as_names(people, advisor, rooftop):
    VehicleFactory(dealership=rooftop, plate="贵YMHTG6")
    assert [v.plate for v in search(advisor, "ymhtg").vehicles] == ["贵YMHTG6"]
    assert names(search(advisor, "smith")) == ["John Smith"]


def test_vin_fragment_and_last_six(people, advisor):
    assert [v.vin for v in search(advisor, "am4187").vehicles] == ["LSVAM4187C2184512"]
    assert [v.vin for v in search(advisor, "184512").vehicles] == ["LSVAM4187C2184512"]


def test_nothing_found_and_odd_input(people, advisor):
    assert search(advisor, "不存在的人").is_empty
    assert search(advisor, "%_").is_empty
    assert search(advisor, "'; DROP TABLE crm_customer; --").is_empty


def test_search_is_scoped_to_the_users_rooftops(people, other_rooftop):
    stranger = UserFactory(role=Role.SERVICE_ADVISOR, rooftops=[other_rooftop])
    CustomerFactory(dealership=other_rooftop, full_name="王伟", mobile="+8613800009999")
    assert [c.dealership_id for c in search(stranger, "王伟").customers] == [other_rooftop.pk]
    assert search(stranger, "13800001111").is_empty
    assert search(stranger, "沪AD123").is_empty


def test_search_page_masks_phones_and_shows_technicians_none(people, staff, client):
    client.force_login(staff[Role.TECHNICIAN])
    html = client.get("/search/", {"q": "王伟"}).content.decode()
    assert "王伟" in html and "1111" not in html
    client.force_login(staff[Role.SERVICE_ADVISOR])
    html = client.get("/search/", {"q": "王伟"}).content.decode()
    assert "+86 138****1111" in html and "+86 138 0000 1111" not in html  # in full on the 360, by a logged click


def test_search_page_links_vehicle_owner(people, advisor, client):
    client.force_login(advisor)
    html = client.get("/search/", {"q": "沪AD123"}).content.decode()
    assert f'href="/vehicles/{people["car"].pk}/"' in html
    assert f'href="/customers/{people["zhang"].pk}/"' in html


def test_search_requires_login(client, db):
    response = client.get("/search/", {"q": "王"})
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- index use on a large table --------------------------------------------------------


@pytest.fixture(scope="module")
def large_tables(django_db_setup, django_db_blocker):
    """100,000 customers and vehicles written by SQL and committed once for the module, then ANALYZEd."""
    from ..factories import DealershipFactory

    with django_db_blocker.unblock():
        rooftop = DealershipFactory(code="BIG1")
        user = UserFactory(role=Role.SERVICE_ADVISOR, rooftops=[rooftop])
        _fill_large_tables(rooftop)
    yield user
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE crm_vehicle, crm_customer, crm_user_dealerships, crm_user_groups, crm_user, crm_dealership CASCADE"
        )


def _fill_large_tables(rooftop):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_customer (dealership_id, kind, full_name, salutation, mobile, other_phone, email,
                preferred_channel, marketing_consent, source, notes, version, created_at, updated_at)
            SELECT %s, 'person',
                   substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗', (i %% 20) + 1, 1)
                   || substr('伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华', (i * 7 %% 24) + 1, 1)
                   || CASE WHEN i %% 2 = 0 THEN substr('文辉鹏宇浩然轩涵怡诺泽远', (i * 13 %% 12) + 1, 1) ELSE '' END,
                   '', '+861' || lpad((3000000000 + i * 7919)::text, 10, '0'), '', '', 'phone', false, 'walk_in', '', 1,
                   now(), now()
            FROM generate_series(1, 100000) AS i
            """,
            [rooftop.pk],
        )
        cursor.execute(
            """
            INSERT INTO crm_vehicle (dealership_id, vin, plate, make, model, trim, colour, version, created_at, updated_at)
            SELECT %s, 'LSV' || translate(upper(substr(md5(i::text), 1, 14)), 'IOQ', 'JPR'),
                   '沪' || chr(65 + i %% 8) || lpad((i * 37 %% 100000)::text, 5, '0'),
                   'VW', 'Lavida', '', '', 1, now(), now()
            FROM generate_series(1, 100000) AS i
            """,
            [rooftop.pk],
        )
        cursor.execute("ANALYZE crm_customer; ANALYZE crm_vehicle")


def search_plans(user, query):
    with CaptureQueriesContext(connection) as captured:
        search(user, query)
    plans = []
    with connection.cursor() as cursor:
        for executed in captured.captured_queries:
            sql = executed["sql"]
            if "WITH hits" in sql:
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("王伟", "crm_customer_name_grams"),  # 2 characters: beyond pg_trgm
        ("王", "crm_customer_name_grams"),
        ("李敏文", "crm_customer_name_grams"),
        ("13000007919", "crm_customer_unique_mobile_per_dealership"),
        ("30000791", "crm_customer_mobile_trgm"),  # from the middle: nothing ends with it
        ("7919", "crm_customer_mobile_reversed"),  # last 4 digits
        ("7919", "crm_vehicle_plate_reversed"),
        ("沪B12", "crm_vehicle_plate"),  # the start of a plate
        ("B1234", "crm_vehicle_plate_trgm"),  # from the middle of a plate
        (None, "crm_vehicle_vin_reversed"),  # the last 6 characters of a VIN in the table
    ],
)
def test_every_key_kind_uses_an_index(large_tables, db, query, index):
    if query is None:
        from crm.models import Vehicle

        query = Vehicle.objects.filter(dealership__code="BIG1").order_by("pk").values_list("vin", flat=True)[1234][-6:]
    plans = search_plans(large_tables, query)
    assert plans, "the search ran no query against the customer or vehicle tables"
    joined = "\n".join(plans)
    assert index in joined, joined
    assert "Seq Scan on crm_customer" not in joined and "Seq Scan on crm_vehicle" not in joined, joined
    # Sorting the table's rows (an ORDER BY) would sort every match; de-duplicating the <= 8 ids found is fine.
    assert "Sort Key: crm_" not in joined, joined


def test_plain_icontains_would_not_use_the_trigram_index(large_tables, db):
    """Why the search builds its own lookups: Django's icontains wraps the column in UPPER()."""
    from crm.models import Vehicle

    sql, params = Vehicle.objects.filter(plate__icontains="B12345").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "crm_vehicle_plate_trgm" not in plan
