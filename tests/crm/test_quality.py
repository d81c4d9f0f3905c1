"""Customer data quality: the completeness score on hand-built customers (SQL and Python agree), the list
of records to fix (lowest first, bounded queries), the customer 360's panel, roles and rooftops."""

import datetime

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from crm import quality, quality_panels
from crm.choices import Role
from crm.models import Customer, Vehicle
from tests.conftest import api_client_for

from ..factories import CustomerFactory, VehicleFactory

WINDOW = {"contact_from": datetime.time(9), "contact_until": datetime.time(18)}


def person(rooftop, name, *, vin=None, **fields):
    customer = CustomerFactory(dealership=rooftop, full_name=name, **{"mobile": "", **fields})
    if vin:
        vehicle = VehicleFactory(dealership=rooftop, owner=customer)
        Vehicle.objects.filter(pk=vehicle.pk).update(vin=vin)
    return customer


@pytest.fixture
def people(rooftop):
    """Each customer with the score counted by hand (mobile 30, vehicle 25, channel 15, address 15,
    consent 15), created oldest first."""
    now = timezone.now()
    consent = {"marketing_consent": True, "marketing_consent_at": now}
    built = {
        "complete": (
            person(
                rooftop,
                "完整",
                mobile="+8613800000001",
                address="上海浦东",
                vin="LSVAB2187RN000001",
                **WINDOW,
                **consent,
            ),
            100,
        ),
        "bare": (person(rooftop, "空白"), 0),
        "mobile_only": (person(rooftop, "只有手机", mobile="+8613800000002"), 30),
        "email_without_address": (
            person(rooftop, "邮件无址", mobile="+8613800000003", preferred_channel="email", **WINDOW),
            30,
        ),
        "email_reachable": (
            person(rooftop, "邮件", mobile="+8613800000004", preferred_channel="email", email="a@example.cn", **WINDOW),
            45,
        ),
        "car_address_consent": (person(rooftop, "有车", address="北京", vin="LSVAB2187RN000002", **consent), 55),
        "consent_without_time": (
            person(rooftop, "无时间", mobile="+8613800000005", marketing_consent=True, marketing_consent_at=None),
            30,
        ),
        "short_vin": (person(rooftop, "短码", mobile="+8613800000006", vin="LSV123"), 30),
        "landline_for_calls": (person(rooftop, "座机", other_phone="+862168888888", **WINDOW), 15),
    }
    for index, (customer, _score) in enumerate(built.values()):  # oldest first, an hour apart
        Customer.objects.filter(pk=customer.pk).update(created_at=now - datetime.timedelta(hours=100 - index))
    return built


@pytest.fixture
def own_cache(settings):
    """This test's own cache: another suite on the shared test Redis retiring the permission snapshots
    would add their reads to the queries counted here."""
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "own"}}
    caches["default"].clear()


def test_scores_by_hand_and_sql_agrees_with_python(people):
    rows = {customer.pk: customer for customer in quality.with_completeness(Customer.objects.all())}
    for name, (customer, score) in people.items():
        assert rows[customer.pk].completeness == score, name
        fresh = Customer.objects.get(pk=customer.pk)
        completeness = quality.customer_completeness(fresh)
        assert completeness.score == score, name
        assert [item.key for item in completeness.missing] == [
            item.key for item in quality.missing_items(rows[customer.pk])
        ]
    assert [item.key for item in quality.missing_items(rows[people["mobile_only"][0].pk])] == [
        "vehicle",
        "channel",
        "address",
        "consent",
    ]
    assert sum(item.weight for item in quality.ITEMS) == quality.FULL_SCORE


def test_records_to_fix_lowest_first_newest_first_among_equals(people):
    names = {customer.pk: name for name, (customer, _score) in people.items()}
    order = [names[customer.pk] for customer in quality.records_to_fix(Customer.objects.all())]
    assert order == [
        "bare",  # 0
        "landline_for_calls",  # 15
        "short_vin",  # 30, the newest of the three
        "consent_without_time",
        "email_without_address",
        "mobile_only",
        "email_reachable",  # 45
        "car_address_consent",  # 55
    ]  # the complete one is left out
    missing_address = quality.records_to_fix(Customer.objects.all(), missing="address")
    assert "car_address_consent" not in {names[customer.pk] for customer in missing_address}
    assert len(quality.records_to_fix(Customer.objects.all(), include_complete=True)) == len(people)


def test_a_car_sold_on_no_longer_counts(people):
    customer, _score = people["car_address_consent"]
    Vehicle.objects.filter(owner=customer).update(owner=None, updated_at=Now())
    assert quality.with_completeness(Customer.objects.filter(pk=customer.pk)).get().completeness == 30


# --- the list page and the API -------------------------------------------------------------------


def test_the_page_lists_what_each_record_lacks(client, people, staff, other_rooftop):
    CustomerFactory(dealership=other_rooftop, full_name="别家客户", mobile="")
    client.force_login(staff[Role.CUSTOMER_SPECIALIST])
    html = client.get("/data-quality/").content.decode()
    assert html.index("空白") < html.index("座机") < html.index("有车")
    assert "完整" not in html and "别家客户" not in html
    assert 'data-score="0"' in html and "missing-consent" in html
    only = client.get("/data-quality/", {"missing": "vehicle"}).content.decode()
    assert "有车" not in only and "空白" in only


@pytest.mark.parametrize("role", [Role.TECHNICIAN])
def test_roles_that_cannot_fix_records_get_403(client, staff, role):
    client.force_login(staff[role])
    assert client.get("/data-quality/").status_code == 403
    assert api_client_for(staff[role]).get("/api/data-quality/").status_code == 403


def test_another_rooftop_is_404_on_the_api_and_empty_on_the_page(client, staff, other_rooftop):
    CustomerFactory(dealership=other_rooftop, full_name="别家客户", mobile="")
    manager = staff[Role.MANAGER]
    assert api_client_for(manager).get("/api/data-quality/", {"dealership": other_rooftop.pk}).status_code == 404
    client.force_login(manager)
    assert "别家客户" not in client.get("/data-quality/", {"dealership": other_rooftop.pk}).content.decode()


@pytest.fixture
def many(rooftop):
    for index in range(40):
        person(
            rooftop, f"客户{index}", mobile=f"+86139000000{index:02d}" if index % 2 else "", address="x" * (index % 3)
        )
    return 40


def test_the_page_queries_do_not_grow(client, many, staff, own_cache, django_assert_max_num_queries):
    client.force_login(staff[Role.SERVICE_ADVISOR])
    client.get("/data-quality/")
    with django_assert_max_num_queries(3):  # the user, the count, the page
        small = client.get("/data-quality/", {"per_page": 25}).content.decode()
    with django_assert_max_num_queries(3):
        big = client.get("/data-quality/", {"per_page": 100}).content.decode()
    assert small.count("data-score=") == 25 and big.count("data-score=") == 40


def test_the_api_lists_scores_and_missing_items(people, staff, own_cache, django_assert_max_num_queries):
    api = api_client_for(staff[Role.MANAGER])
    api.get("/api/data-quality/")
    with django_assert_max_num_queries(2):
        data = api.get("/api/data-quality/", {"page_size": 3}).json()
    assert data["count"] == 8
    assert [(row["full_name"], row["completeness"]) for row in data["results"]] == [
        ("空白", 0),
        ("座机", 15),
        ("短码", 30),
    ]
    assert data["results"][1]["missing"] == ["mobile", "vehicle", "address", "consent"]
    lacking = api.get("/api/data-quality/", {"missing": "channel"}).json()
    assert {row["full_name"] for row in lacking["results"]} == {
        "空白",
        "只有手机",
        "邮件无址",
        "有车",
        "无时间",
        "短码",
    }


# --- the customer 360's panel ---------------------------------------------------------------------


@pytest.fixture
def panel():
    quality_panels.register()
    quality_panels.register()  # twice is once


def test_the_360_panel_shows_the_score_what_to_fix_and_duplicates(client, panel, people, staff, rooftop):
    customer, _score = people["mobile_only"]
    twin = CustomerFactory(dealership=rooftop, full_name="只有手机", mobile="", other_phone=customer.mobile)
    client.force_login(staff[Role.SERVICE_ADVISOR])
    html = client.get(customer.get_absolute_url()).content.decode()
    assert 'id="panel-data-quality"' in html and 'id="completeness-score">30<' in html
    assert "Add the customer&#x27;s vehicle with its VIN" in html or "Add the customer's vehicle" in html
    assert f"/customers/{customer.pk}/merge/?other={twin.pk}" in html


def test_technicians_do_not_see_the_panel(client, panel, customer, staff):
    client.force_login(staff[Role.TECHNICIAN])
    html = client.get(customer.get_absolute_url()).content.decode()
    assert 'id="panel-data-quality"' not in html


def test_possible_duplicates_stay_in_the_rooftop(people, rooftop, other_rooftop):
    customer, _score = people["mobile_only"]
    same_name = CustomerFactory(dealership=rooftop, full_name="只有手机", mobile="")
    CustomerFactory(dealership=other_rooftop, full_name="只有手机", mobile="")
    other_phone = CustomerFactory(dealership=rooftop, full_name="另一个", mobile="", other_phone=customer.mobile)
    assert {duplicate.pk for duplicate in quality_panels.possible_duplicates(customer)} == {
        same_name.pk,
        other_phone.pk,
    }
