"""Retention 入库率 and lost customers 流失客户 on a hand-built rooftop: ten vehicles whose visits, purchase
dates and sales channels are known, so every figure is counted by hand (``crm.retention``)."""

import datetime
import zoneinfo
from decimal import Decimal
from itertools import count

import pytest
import time_machine

from crm import retention
from crm.choices import Role
from crm.models import CareSettings, Segment, Vehicle
from crm.segments import saved_segment_customers
from crm.validators import phone_display, phone_mask
from service.models import RepairOrder
from tests.conftest import api_client_for

from ..factories import CustomerFactory, UserFactory, VehicleFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=SHANGHAI)  # N = 12 → the window opens 2025-06-15 00:00
_numbers = count(1)


def local(year, month, day, hour=10, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def visit(vehicle, when, status="delivered"):
    number = next(_numbers)
    return RepairOrder.objects.create(
        dealership=vehicle.dealership,
        number=f"RO-T{number:05d}",
        year=when.year,
        sequence=number,
        customer=vehicle.owner,
        vehicle=vehicle,
        service_type="maintenance",
        status=status,
        odometer_km=20_000,
        concern="保养",
        tax_rate="0.1300",
        checked_in_at=when,
    )


def car(rooftop, model, channel, purchased_on, owner=True, recorded=None, make="Volkswagen"):
    vehicle = VehicleFactory(
        dealership=rooftop,
        owner=CustomerFactory(dealership=rooftop) if owner else None,
        make=make,
        model=model,
        sales_channel=channel,
        purchased_on=purchased_on,
    )
    if recorded:
        Vehicle.objects.filter(pk=vehicle.pk).update(created_at=recorded)
    return vehicle


@pytest.fixture
def travel():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def fleet(rooftop, travel):
    """The vehicles, by what each is on 2026-06-15 with N = 12."""
    d = datetime.date
    v = {
        # own showroom
        "returned_own": car(rooftop, "Lavida", "own", d(2023, 1, 10)),
        "lost_just_before": car(rooftop, "Lavida", "own", d(2023, 5, 1)),
        "returned_twice": car(rooftop, "Passat", "own", d(2022, 1, 1)),
        # secondary network
        "never_seen": car(rooftop, "Lavida", "secondary", d(2024, 2, 1)),
        "returned_just_after": car(rooftop, "Tiguan", "secondary", d(2024, 3, 1)),
        "newer": car(rooftop, "Tiguan", "secondary", d(2025, 9, 1)),
        "only_cancelled_since": car(rooftop, "Tiguan", "secondary", d(2024, 1, 1)),
        # no purchase date: on file from the first visit, or from the day recorded
        "other_dealer_gone": car(rooftop, "Passat", "other_dealer", None),
        "recorded_never_seen": car(rooftop, "Passat", "unknown", None, recorded=local(2024, 12, 1)),
        "recorded_lately": car(rooftop, "Passat", "unknown", None, recorded=local(2026, 1, 1)),
        # no owner: outside the base
        "ownerless": car(rooftop, "Lavida", "own", d(2021, 1, 1), owner=False),
    }
    visit(v["returned_own"], local(2026, 3, 1))
    visit(v["lost_just_before"], local(2025, 6, 14, 23, 59))
    visit(v["returned_twice"], local(2024, 1, 1))
    visit(v["returned_twice"], local(2026, 5, 1))
    visit(v["returned_just_after"], local(2025, 6, 15, 0, 30))
    visit(v["only_cancelled_since"], local(2024, 6, 1))
    visit(v["only_cancelled_since"], local(2026, 1, 10), status="cancelled")
    visit(v["other_dealer_gone"], local(2024, 11, 1))
    visit(v["other_dealer_gone"], local(2025, 1, 5))
    return v


LOST_AT_12 = {"lost_just_before", "never_seen", "only_cancelled_since", "other_dealer_gone", "recorded_never_seen"}


def by_key(tallies):
    return {
        tally.key: (tally.base, tally.returned, tally.lost, tally.return_rate, tally.lost_rate) for tally in tallies
    }


@pytest.fixture
def own_cache(settings):
    """This test's own cache: another suite on the shared test Redis retiring the permission snapshots
    would add their reads to the queries counted here."""
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "own"}}
    caches["default"].clear()


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert retention.months_before(datetime.date(2026, 6, 15), 12) == datetime.date(2025, 6, 15)
    assert retention.months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert retention.months_before(datetime.date(2028, 2, 29), 12) == datetime.date(2027, 2, 28)
    assert retention.months_before(datetime.date(2026, 1, 10), 18) == datetime.date(2024, 7, 10)


def test_figures_on_the_hand_built_rooftop(fleet, rooftop, django_assert_num_queries):
    window = retention.retention_window(dealership=rooftop)
    assert (window.months, window.today, window.cutoff) == (12, datetime.date(2026, 6, 15), datetime.date(2025, 6, 15))
    with django_assert_num_queries(1):
        figures = retention.retention_figures(window)
    total = figures.total
    # base: 8 (ten owned, two newer than 12 months), returned 3, lost 5
    assert (total.base, total.returned, total.lost, figures.newer) == (8, 3, 5, 2)
    assert (total.return_rate, total.lost_rate) == (Decimal("0.3750"), Decimal("0.6250"))
    assert by_key(figures.by_channel) == {
        "own": (3, 2, 1, Decimal("0.6667"), Decimal("0.3333")),
        "secondary": (3, 1, 2, Decimal("0.3333"), Decimal("0.6667")),
        "other_dealer": (1, 0, 1, Decimal("0"), Decimal("1")),
        "unknown": (1, 0, 1, Decimal("0"), Decimal("1")),
    }
    assert [tally.key for tally in figures.by_channel] == ["own", "secondary", "other_dealer", "unknown"]
    assert by_key(figures.by_model) == {
        "Volkswagen Lavida": (3, 1, 2, Decimal("0.3333"), Decimal("0.6667")),
        "Volkswagen Passat": (3, 1, 2, Decimal("0.3333"), Decimal("0.6667")),
        "Volkswagen Tiguan": (2, 1, 1, Decimal("0.5000"), Decimal("0.5000")),
    }
    assert [tally.key for tally in figures.by_model][-1] == "Volkswagen Tiguan"  # the most lost first

    lost = list(retention.lost_vehicles(window))
    names = {vehicle.pk: name for name, vehicle in fleet.items()}
    assert {names[vehicle.pk] for vehicle in lost} == LOST_AT_12
    # the most recently seen first: last visit, else the day on file (purchase, first visit, recorded)
    assert [names[vehicle.pk] for vehicle in lost] == [
        "lost_just_before",  # 2025-06-14
        "other_dealer_gone",  # 2025-01-05
        "recorded_never_seen",  # 2024-12-01
        "only_cancelled_since",  # 2024-06-01 (the cancelled order is no visit)
        "never_seen",  # bought 2024-02-01
    ]
    assert lost[0].last_seen_on == datetime.date(2025, 6, 14) and lost[-1].last_visit_at is None


def test_the_page_reads_the_figures_and_a_page_of_lost_vehicles_in_one_pass(fleet, rooftop, django_assert_num_queries):
    window = retention.retention_window(dealership=rooftop)
    with django_assert_num_queries(2):  # one pass over the vehicles, then the page's rows with their owners
        figures, page = retention.retention_overview(window, page_number=2, per_page=2)
        owners = [vehicle.owner.full_name for vehicle in page]
    expected = retention.retention_figures(window)
    assert (figures.total.base, figures.total.returned, figures.newer) == (8, 3, 2)
    assert by_key(figures.by_model) == by_key(expected.by_model)
    assert by_key(figures.by_channel) == by_key(expected.by_channel)
    lost = list(retention.lost_vehicles(window))[2:4]
    assert [(v.pk, v.last_visit_at, v.last_seen_on) for v in page] == [
        (v.pk, v.last_visit_at, v.last_seen_on) for v in lost
    ]
    assert owners == [vehicle.owner.full_name for vehicle in lost]
    _figures, beyond = retention.retention_overview(window, page_number=9, per_page=2)
    assert beyond == []


def test_each_rooftop_uses_its_own_months(fleet, rooftop, other_rooftop):
    settings = CareSettings.of(rooftop)
    settings.lost_after_months = 6  # the window opens 2025-12-15
    settings.save()
    elsewhere = car(other_rooftop, "Golf", "own", datetime.date(2020, 1, 1))
    visit(elsewhere, local(2025, 1, 1))
    CareSettings.objects.update_or_create(dealership=other_rooftop, defaults={"lost_after_months": 24})

    figures = retention.retention_figures(retention.retention_window(dealership=rooftop))
    # "newer" (bought 2025-09-01) is now in the base and lost; "returned_just_after" is lost now too
    assert (figures.total.base, figures.total.returned, figures.total.lost, figures.newer) == (9, 2, 7, 1)
    assert figures.total.return_rate == Decimal("0.2222")

    other = retention.retention_figures(retention.retention_window(dealership=other_rooftop))
    assert (other.total.base, other.total.returned, other.total.lost) == (1, 1, 0)  # 2025-01 is within 24 months
    assert other.by_model[0].label == "Volkswagen Golf"


def test_an_empty_rooftop_has_no_rates(other_rooftop, travel):
    figures = retention.retention_figures(retention.retention_window(dealership=other_rooftop))
    assert (figures.total.base, figures.total.return_rate, figures.by_model, figures.by_channel) == (0, None, [], [])


def test_win_back_segment_finds_the_lost_customers_it_can_name(fleet, rooftop, staff):
    manager = staff[Role.MANAGER]
    other_car_back = CustomerFactory(dealership=rooftop)  # one car lost, the other came back: not called
    VehicleFactory(dealership=rooftop, owner=other_car_back, purchased_on=datetime.date(2020, 1, 1))
    back = VehicleFactory(dealership=rooftop, owner=other_car_back, purchased_on=datetime.date(2021, 1, 1))
    visit(back, local(2026, 2, 1))
    CustomerFactory(dealership=rooftop)  # a prospect without a car is no lost customer

    segment = retention.winback_segment_create(actor=manager, dealership=rooftop)
    assert segment.criteria == {"visits_since": "2025-06-15", "visits_max": 0, "vehicle_age_min": 1}
    assert segment.created_by == manager and "2026-06-15" in segment.name
    found = set(saved_segment_customers(segment).values_list("pk", flat=True))
    # the lost list's owners, less those whose lost car has no purchase date
    expected = {fleet[name].owner_id for name in ("lost_just_before", "never_seen", "only_cancelled_since")}
    assert found == expected
    lost_owners = {
        vehicle.owner_id for vehicle in retention.lost_vehicles(retention.retention_window(dealership=rooftop))
    }
    assert found <= lost_owners

    again = retention.winback_segment_create(actor=manager, dealership=rooftop)
    assert again.pk == segment.pk and Segment.objects.filter(dealership=rooftop).count() == 1


def test_win_back_criteria_round_the_years_up():
    window = retention.RetentionWindow(dealership=None, months=18, today=datetime.date(2026, 6, 15))
    assert retention.winback_criteria(window) == {"visits_since": "2024-12-15", "visits_max": 0, "vehicle_age_min": 2}


# --- the page and the API --------------------------------------------------------------------


@pytest.fixture
def many_lost(rooftop, travel):
    """30 lost cars, each with a visit long ago, of 3 models and 2 channels."""
    for index in range(30):
        vehicle = car(rooftop, ("Lavida", "Passat", "Tiguan")[index % 3], ("own", "secondary")[index % 2], None)
        visit(vehicle, local(2024, 1 + index % 12, 1 + index % 28))
    return 30


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CUSTOMER_SPECIALIST])
def test_the_page_shows_the_figures_bars_and_lost_list(client, fleet, staff, role):
    client.force_login(staff[role])
    html = client.get("/retention/").content.decode()
    assert 'id="return-rate">37.5%' in html
    assert 'id="lost-count">5<' in html
    assert 'style="width: 66.7%"' in html  # the secondary network's lost bar
    assert "Secondary network" in html and "Volkswagen Tiguan" in html
    assert html.count('<tr data-key="') == 4 + 3  # channels and models
    assert fleet["never_seen"].owner.full_name in html
    assert fleet["returned_own"].owner.full_name not in html
    owner = fleet["never_seen"].owner
    assert phone_mask(owner.mobile) in html and phone_display(owner.mobile) not in html  # a list: masked
    assert 'id="win-back"' in html


def test_the_page_masks_phones_for_roles_without_them(client, fleet, rooftop):
    from django.contrib.auth.models import Permission

    reader = UserFactory(rooftops=[rooftop])
    reader.user_permissions.add(Permission.objects.get(codename="view_segment"))
    client.force_login(reader)
    html = client.get("/retention/").content.decode()
    owner = fleet["never_seen"].owner
    assert owner.full_name in html and owner.mobile[-4:] not in html  # no digits for a role without phones
    assert 'id="win-back"' not in html  # may not save segments


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.SERVICE_ADVISOR, Role.SALES_CONSULTANT])
def test_other_roles_get_403(client, staff, role, travel):
    client.force_login(staff[role])
    assert client.get("/retention/").status_code == 403
    assert client.post("/retention/win-back/", {"dealership": staff[role].dealerships.get().pk}).status_code == 403
    assert api_client_for(staff[role]).get("/api/retention/").status_code == 403


def test_another_rooftop_is_404_and_saves_nothing(client, staff, other_rooftop, travel):
    manager = staff[Role.MANAGER]
    client.force_login(manager)
    assert client.get(f"/retention/?dealership={other_rooftop.pk}").status_code == 404
    assert client.get("/retention/?dealership=x").status_code == 404
    assert client.post("/retention/win-back/", {"dealership": other_rooftop.pk}).status_code == 404
    api = api_client_for(manager)
    assert api.get("/api/retention/", {"dealership": other_rooftop.pk}).status_code == 404
    assert api.get("/api/retention/lost/", {"dealership": other_rooftop.pk}).status_code == 404
    assert api.post("/api/retention/win-back-segment/", {"dealership": other_rooftop.pk}).status_code == 404
    assert not Segment.objects.exists()


def test_the_win_back_button_saves_the_segment(client, fleet, staff, rooftop):
    client.force_login(staff[Role.CUSTOMER_SPECIALIST])
    response = client.post("/retention/win-back/", {"dealership": rooftop.pk}, follow=True)
    segment = Segment.objects.get(dealership=rooftop)
    assert segment.criteria["visits_since"] == "2025-06-15"
    assert "3 customers to win back" in response.content.decode()


def test_the_page_queries_do_not_grow_with_the_list(client, many_lost, staff, own_cache, django_assert_max_num_queries):
    client.force_login(staff[Role.MANAGER])
    client.get("/retention/")  # the session and permissions are cached from here on
    # the user, the rooftop, its care settings, one pass for the figures and the page, the page's rows
    with django_assert_max_num_queries(5):
        small = client.get("/retention/", {"per_page": 25})
    with django_assert_max_num_queries(5):
        big = client.get("/retention/", {"per_page": 100})
    assert small.content.decode().count('class="lost-row"') == 25
    assert big.content.decode().count('class="lost-row"') == 30
    second = client.get("/retention/", {"page": 2}).content.decode()
    assert second.count('class="lost-row"') == 5 and "Page 2 of 2" in second
    past_the_end = client.get("/retention/", {"page": 7}).content.decode()
    assert past_the_end.count('class="lost-row"') == 5 and "Page 2 of 2" in past_the_end
    assert client.get("/retention/", {"page": "x"}).status_code == 200


def test_the_api_figures_and_lost_list(fleet, staff, rooftop, own_cache, django_assert_max_num_queries):
    api = api_client_for(staff[Role.MANAGER])
    api.get("/api/retention/")
    with django_assert_max_num_queries(3):  # the rooftop, its settings, the GROUP BY
        data = api.get("/api/retention/").json()
    assert data["lost_after_months"] == 12 and data["cutoff"] == "2025-06-15" and data["newer"] == 2
    assert data["total"] == {
        "key": "all",
        "label": "All vehicles",
        "base": 8,
        "returned": 3,
        "lost": 5,
        "return_rate": "0.3750",
        "lost_rate": "0.6250",
    }
    assert {row["key"]: row["lost"] for row in data["by_channel"]} == {
        "own": 1,
        "secondary": 2,
        "other_dealer": 1,
        "unknown": 1,
    }
    with django_assert_max_num_queries(4):
        lost = api.get("/api/retention/lost/", {"page_size": 3}).json()
    assert lost["count"] == 5 and len(lost["results"]) == 3
    first = lost["results"][0]
    assert first["id"] == fleet["lost_just_before"].pk and first["last_seen_on"] == "2025-06-14"
    assert first["owner_mobile"] == phone_mask(fleet["lost_just_before"].owner.mobile)

    created = api.post("/api/retention/win-back-segment/", {"dealership": rooftop.pk})
    assert created.status_code == 201 and created.json()["customer_count"] == 3


def test_the_api_lost_list_queries_do_not_grow(many_lost, staff, own_cache, django_assert_max_num_queries):
    api = api_client_for(staff[Role.CUSTOMER_SPECIALIST])
    api.get("/api/retention/lost/")
    with django_assert_max_num_queries(4):  # the rooftop, its settings, the count and the page
        small = api.get("/api/retention/lost/", {"page_size": 5}).json()
    with django_assert_max_num_queries(4):
        big = api.get("/api/retention/lost/", {"page_size": 30}).json()
    assert (len(small["results"]), len(big["results"]), big["count"]) == (5, 30, 30)


def test_the_customer_care_menu_leads_to_retention_and_data_quality(client, staff, travel):
    client.force_login(staff[Role.MANAGER])
    html = client.get("/").content.decode()
    assert 'href="/retention/"' in html and 'href="/data-quality/"' in html
    client.force_login(staff[Role.SERVICE_ADVISOR])  # fixes records, builds no segments
    html = client.get("/").content.decode()
    assert 'href="/retention/"' not in html and 'href="/data-quality/"' in html
