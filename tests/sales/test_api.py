"""The sales API: the funnel over HTTP from lead to delivered car, every refusal with no side effect,
a consultant's own leads and the rooftop's scope (404, the row unchanged, nothing scheduled), bounded
list queries and the OpenAPI schema."""

import datetime
import random
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission

from crm import demo
from crm.choices import Role
from crm.models import BusinessHours, Vehicle
from followup.choices import FollowUpKind, FollowUpStatus
from followup.models import FollowUp
from sales import choices, models, services
from sales.choices import LostReview, OrderStatus, Stage, StockStatus

from ..conftest import api_client_for
from ..factories import CustomerFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
VIN = demo.vin(random.Random(6), "LSV", 2026)  # with a valid check digit
LICENCE = "310101199001011234"


def local(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def showroom(rooftop):
    """Open every day 08:30–18:00, one demo car and one Tiguan L in stock."""
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18, 0)
        )
    models.DemoVehicle.objects.create(
        dealership=rooftop, model="ID.4 CROZZ", plate="沪A0001试", vin="LSVDEMO0000000001"
    )
    models.StockVehicle.objects.create(
        dealership=rooftop,
        vin=VIN,
        make="Volkswagen",
        model="Tiguan L",
        list_price=Decimal("219900.00"),
        arrived_on=datetime.date(2026, 11, 1),
    )
    return rooftop


@pytest.fixture
def consultant(staff):
    return staff[Role.SALES_CONSULTANT]


@pytest.fixture
def manager(staff):
    return staff[Role.MANAGER]


@pytest.fixture
def sales(consultant):
    return api_client_for(consultant)


@pytest.fixture
def office(manager):
    return api_client_for(manager)


@pytest.fixture
def lead(showroom, customer, consultant):
    return services.lead_create(actor=consultant, customer=customer, source="walk_in", model_of_interest="Tiguan L")


@pytest.fixture
def car(showroom):
    return models.StockVehicle.objects.get(vin=VIN)


@pytest.fixture
def demo_car(showroom):
    return models.DemoVehicle.objects.get()


def quote_for(lead, consultant, **extra):
    return services.quote_create(
        actor=consultant, lead_id=lead.pk, model="Tiguan L", list_price=Decimal("219900.00"), **extra
    )


def lead_state(lead):
    """What a refused request must leave as it was."""
    lead.refresh_from_db()
    return (
        lead.stage,
        lead.grade,
        lead.owner_id,
        lead.lost_review,
        lead.version,
        lead.next_followup_on,
        lead.activities.count(),
        lead.events.count(),
        sorted(FollowUp.objects.filter(subject_id=lead.pk).values_list("kind", "status", "due_at")),
    )


# --- the whole funnel ----------------------------------------------------------------------------


def test_the_funnel_over_the_api_ends_with_the_two_day_follow_up(showroom, customer, consultant, staff, sales, car):
    with time_machine.travel(local(11, 20, 10), tick=False):
        created = sales.post(
            "/api/leads/",
            {"customer": customer.pk, "source": "walk_in", "model_of_interest": "Tiguan L", "budget": "230000.00"},
            format="json",
        )
        assert created.status_code == 201, created.json()
        lead = created.json()
        url = f"/api/leads/{lead['id']}"
        assert (lead["stage"], lead["owner"], lead["customer_name"], lead["budget"]) == (
            "new",
            consultant.pk,
            "王小明",
            "230000.00",
        )
        assert [event["to_value"] for event in lead["events"]] == ["new"]

        logged = sales.post(
            f"{url}/activities/", {"kind": "visit", "party_size": 2, "outcome": "看了途观L"}, format="json"
        )
        assert logged.status_code == 201, logged.json()
        assert logged.json()["actor_name"] == str(consultant)
        graded = sales.post(f"{url}/grade/", {"grade": "H"}, format="json")
        assert graded.status_code == 200, graded.json()
        assert (graded.json()["stage"], graded.json()["grade"], graded.json()["next_followup_on"]) == (
            "contacted",
            "H",
            "2026-11-22",
        )
        booked = sales.post(
            "/api/test-drives/",
            {
                "lead": lead["id"],
                "demo_vehicle": models.DemoVehicle.objects.get().pk,
                "starts_at": local(11, 20, 14).isoformat(),
                "licence_number": "3101 0119 9001 011234",
                "licence_expires_on": "2030-01-01",
            },
            format="json",
        )
        assert booked.status_code == 201, booked.json()
        drive = booked.json()
        assert drive["status"] == "booked" and drive["licence_number"] == LICENCE
        assert datetime.datetime.fromisoformat(drive["ends_at"]) == local(11, 20, 14, 30)

    with time_machine.travel(local(11, 20, 15), tick=False):
        done = sales.post(
            f"/api/test-drives/{drive['id']}/complete/", {"feedback": "动力满意,后排空间大"}, format="json"
        )
        assert done.status_code == 200 and done.json()["status"] == "done"
        quoted = sales.post(
            "/api/quotes/",
            {
                "lead": lead["id"],
                "stock_vehicle": car.pk,
                "list_price": "219900.00",
                "discount": "3000.00",
                "insurance": "6800.00",
                "down_payment": "80000.00",
                "term_months": 36,
                "annual_rate": "0.0399",
            },
            format="json",
        )
        assert quoted.status_code == 201, quoted.json()
        quote = quoted.json()
        assert (quote["version"], quote["model"], quote["total"]) == (1, "Tiguan L", "223700.00")
        assert quote["monthly_payment"] == "4241.96" and quote["needs_discount_approval"] is False
        ordered = sales.post(
            "/api/orders/", {"quote": quote["id"], "stock_vehicle": car.pk, "deposit": "10000.00"}, format="json"
        )
        assert ordered.status_code == 201, ordered.json()
        order = ordered.json()
        assert order["number"] == f"{showroom.code}-C2026-{order['id']:07d}"
        assert (order["status"], order["paid"], order["balance"], order["stock_vehicle_vin"]) == (
            "contracted",
            "10000.00",
            "213700.00",
            VIN,
        )
        assert models.StockVehicle.objects.get(pk=car.pk).status == StockStatus.RESERVED
        paid = sales.post(f"/api/orders/{order['id']}/payment/", {"amount": "213700.00"}, format="json")
        assert paid.status_code == 200, paid.json()
        assert (paid.json()["status"], paid.json()["balance"]) == ("paid", "0.00")

    delivered_at = local(11, 21, 16)
    with time_machine.travel(delivered_at, tick=False):
        delivered = sales.post(
            f"/api/orders/{order['id']}/deliver/",
            {
                "delivery_advisor": staff[Role.SERVICE_ADVISOR].pk,
                "pdi_checklist": {"外观": True, "电瓶": True},
                "documents_checklist": {"发票": True, "合格证": True},
            },
            format="json",
        )
        assert delivered.status_code == 200, delivered.json()
        assert delivered.json()["status"] == "delivered"

    car_record = Vehicle.objects.get(vin=VIN)
    assert car_record.owner == customer and delivered.json()["vehicle"] == car_record.pk
    follow_up = FollowUp.objects.get(kind=FollowUpKind.DELIVERY_FOLLOWUP, subject_id=order["id"])
    assert follow_up.status == FollowUpStatus.SCHEDULED
    assert delivered_at < follow_up.due_at <= delivered_at + datetime.timedelta(days=2)
    history = sales.get(url + "/").json()
    assert history["stage"] == "delivered" and history["orders"] == [order["id"]]
    assert [event["to_value"] for event in history["events"] if event["field"] == "stage"] == [
        "delivered",
        "ordered",
        "negotiating",
        "test_driven",
        "contacted",
        "new",
    ]
    assert [activity["kind"] for activity in sales.get(f"{url}/activities/").json()["results"]] == [
        "test_drive",
        "visit",
    ]


# --- bad input: 400 with field messages, nothing written ------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"list_price": "-1.00"}, "list_price"),
        ({"term_months": 0}, "term_months"),
        ({"annual_rate": "0.5000"}, "annual_rate"),
        ({"down_payment": "300000.00"}, "down_payment"),
        ({"discount": "abc"}, "discount"),
    ],
)
def test_a_bad_quote_is_a_400_and_nothing_is_written(lead, sales, bad, field):
    before = lead_state(lead)
    refused = sales.post(
        "/api/quotes/",
        {
            "lead": lead.pk,
            "list_price": "219900.00",
            "down_payment": "0.00",
            "term_months": 36,
            "annual_rate": "0.0399",
            **bad,
        },
        format="json",
    )
    assert refused.status_code == 400 and field in refused.json(), refused.json()
    assert refused.json()[field][0]
    assert not models.Quote.objects.exists() and lead_state(lead) == before


def test_a_deposit_larger_than_the_total_is_refused_and_the_car_stays_free(lead, consultant, sales, car):
    quote = quote_for(lead, consultant)
    before = lead_state(lead)
    for deposit in ("219900.01", "0.00"):
        refused = sales.post(
            "/api/orders/", {"quote": quote.pk, "stock_vehicle": car.pk, "deposit": deposit}, format="json"
        )
        assert refused.status_code == 400 and "deposit" in refused.json(), refused.json()
    assert not models.Order.objects.exists()
    assert models.StockVehicle.objects.get(pk=car.pk).status == StockStatus.IN_STOCK and lead_state(lead) == before


@pytest.mark.parametrize(
    ("licence", "field"),
    [
        ({"licence_number": "12"}, "licence_number"),
        ({"licence_expires_on": "2026-11-01"}, "licence_expires_on"),
        ({"licence_expires_on": "not a date"}, "licence_expires_on"),
    ],
)
def test_a_test_drive_with_a_bad_licence_is_refused(lead, sales, demo_car, licence, field):
    with time_machine.travel(local(11, 23, 9), tick=False):
        refused = sales.post(
            "/api/test-drives/",
            {
                "lead": lead.pk,
                "demo_vehicle": demo_car.pk,
                "starts_at": local(11, 24, 10).isoformat(),
                "licence_number": LICENCE,
                "licence_expires_on": "2030-01-01",
                **licence,
            },
            format="json",
        )
    assert refused.status_code == 400 and field in refused.json(), refused.json()
    assert not models.TestDrive.objects.exists()


def test_a_taken_slot_is_refused_with_a_message(lead, sales, demo_car):
    with time_machine.travel(local(11, 23, 9), tick=False):
        book = {
            "lead": lead.pk,
            "demo_vehicle": demo_car.pk,
            "licence_number": LICENCE,
            "licence_expires_on": "2030-01-01",
        }
        first = sales.post("/api/test-drives/", {**book, "starts_at": local(11, 23, 14).isoformat()}, format="json")
        assert first.status_code == 201
        taken = sales.post("/api/test-drives/", {**book, "starts_at": local(11, 23, 14, 15).isoformat()}, format="json")
    assert taken.status_code == 400 and "already booked" in taken.json()["starts_at"][0]
    assert models.TestDrive.objects.count() == 1


def test_delivery_before_payment_is_a_conflict_and_changes_nothing(lead, consultant, staff, sales, car):
    quote = quote_for(lead, consultant)
    order = services.order_create(actor=consultant, quote_id=quote.pk, stock_vehicle_id=car.pk, deposit=Decimal("5000"))
    before = lead_state(lead)
    refused = sales.post(
        f"/api/orders/{order.pk}/deliver/",
        {
            "delivery_advisor": staff[Role.SERVICE_ADVISOR].pk,
            "pdi_checklist": {"外观": True},
            "documents_checklist": {"发票": True},
        },
        format="json",
    )
    assert refused.status_code == 409 and "paid" in str(refused.json()), refused.json()
    order.refresh_from_db()
    assert (order.status, order.version, order.delivered_at, order.vehicle_id) == (
        OrderStatus.CONTRACTED,
        1,
        None,
        None,
    )
    assert models.StockVehicle.objects.get(pk=car.pk).status == StockStatus.RESERVED
    assert not Vehicle.objects.filter(vin=VIN).exists()
    assert not FollowUp.objects.filter(kind=FollowUpKind.DELIVERY_FOLLOWUP).exists() and lead_state(lead) == before
    too_much = sales.post(f"/api/orders/{order.pk}/payment/", {"amount": "999999.00"}, format="json")
    assert too_much.status_code == 400 and "amount" in too_much.json()
    order.refresh_from_db()
    assert order.paid == Decimal("5000.00")


def test_lost_needs_a_reason_and_a_managers_review(lead, showroom, sales, office):
    before = lead_state(lead)
    refused = sales.post(f"/api/leads/{lead.pk}/apply-lost/", {"note": "嫌贵"}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json(), refused.json()
    assert lead_state(lead) == before
    by_hand = sales.post(f"/api/leads/{lead.pk}/stage/", {"stage": "lost"}, format="json")
    assert by_hand.status_code == 400 and "stage" in by_hand.json()
    assert lead_state(lead) == before

    reason = services.dealership_lost_reasons(showroom)[0]
    applied = sales.post(f"/api/leads/{lead.pk}/apply-lost/", {"reason": reason.pk, "note": "嫌贵"}, format="json")
    assert applied.status_code == 200 and applied.json()["lost_review"] == LostReview.APPLIED
    assert applied.json()["lost_reason_name"] == reason.name
    assert sales.post(f"/api/leads/{lead.pk}/review-lost/", {"approve": True}, format="json").status_code == 403
    assert sales.post(f"/api/leads/{lead.pk}/reactivate/", {}, format="json").status_code == 403
    without_note = office.post(f"/api/leads/{lead.pk}/review-lost/", {"approve": False}, format="json")
    assert without_note.status_code == 400 and "note" in without_note.json()
    approved = office.post(f"/api/leads/{lead.pk}/review-lost/", {"approve": True}, format="json")
    assert approved.status_code == 200 and approved.json()["stage"] == Stage.LOST
    again = office.post(f"/api/leads/{lead.pk}/review-lost/", {"approve": True}, format="json")
    assert again.status_code == 409
    reactivated = office.post(f"/api/leads/{lead.pk}/reactivate/", {"note": "客户回来了"}, format="json")
    assert reactivated.status_code == 200 and reactivated.json()["stage"] == Stage.NEW


def test_stage_grade_and_owner_change_only_through_the_actions(lead, consultant, sales, office, showroom):
    # The lead has no update endpoint: its stage, grade and owner are read-only.
    assert sales.patch(f"/api/leads/{lead.pk}/", {"stage": "negotiating"}, format="json").status_code == 405
    colleague = UserFactory(role=Role.SALES_CONSULTANT, rooftops=[showroom])
    before = lead_state(lead)
    assert sales.post(f"/api/leads/{lead.pk}/reassign/", {"owner": colleague.pk}, format="json").status_code == 403
    assert lead_state(lead) == before
    moved = office.post(f"/api/leads/{lead.pk}/reassign/", {"owner": colleague.pk}, format="json")
    assert moved.status_code == 200 and moved.json()["owner"] == colleague.pk
    assert [event["field"] for event in moved.json()["events"]][0] == "owner"
    assert sales.get(f"/api/leads/{lead.pk}/").status_code == 404  # no longer the consultant's


def test_a_stale_version_is_a_conflict_and_keeps_the_first_change(lead, sales, office):
    version = lead.version
    first = office.post(f"/api/leads/{lead.pk}/stage/", {"stage": "contacted", "version": version}, format="json")
    assert first.status_code == 200 and first.json()["version"] == version + 1
    stale = sales.post(f"/api/leads/{lead.pk}/stage/", {"stage": "dormant", "version": version}, format="json")
    assert stale.status_code == 409 and "reload" in str(stale.json())
    stale_grade = sales.post(f"/api/leads/{lead.pk}/grade/", {"grade": "A", "version": version}, format="json")
    assert stale_grade.status_code == 409
    lead.refresh_from_db()
    assert (lead.stage, lead.grade, lead.version) == (Stage.CONTACTED, "", version + 1)


def test_a_discount_beyond_the_limit_waits_for_a_manager(lead, consultant, sales, office, car):
    quoted = sales.post(
        "/api/quotes/", {"lead": lead.pk, "list_price": "219900.00", "discount": "12000.00"}, format="json"
    )
    assert quoted.status_code == 201 and quoted.json()["needs_discount_approval"] is True
    quote_id = quoted.json()["id"]
    early = sales.post("/api/orders/", {"quote": quote_id, "stock_vehicle": car.pk, "deposit": "5000"}, format="json")
    assert early.status_code == 409 and not models.Order.objects.exists()
    assert models.StockVehicle.objects.get(pk=car.pk).status == StockStatus.IN_STOCK
    assert sales.post(f"/api/quotes/{quote_id}/approve-discount/").status_code == 403
    assert models.Quote.objects.get(pk=quote_id).discount_approved_by is None
    approved = office.post(f"/api/quotes/{quote_id}/approve-discount/")
    assert approved.status_code == 200 and approved.json()["needs_discount_approval"] is False
    ordered = sales.post("/api/orders/", {"quote": quote_id, "stock_vehicle": car.pk, "deposit": "5000"}, format="json")
    assert ordered.status_code == 201 and ordered.json()["total"] == "207900.00"


# --- scope: a consultant's own leads, the caller's rooftops, the sales roles -----------------------


def test_another_consultants_lead_is_404_and_unchanged(lead, showroom, consultant, car, demo_car):
    colleague = api_client_for(UserFactory(role=Role.SALES_CONSULTANT, rooftops=[showroom]))
    quote = quote_for(lead, consultant)
    before = lead_state(lead)
    url = f"/api/leads/{lead.pk}"
    assert colleague.get(f"{url}/").status_code == 404
    assert colleague.get(f"{url}/activities/").status_code == 404
    for path, body in (
        ("stage", {"stage": "contacted"}),
        ("grade", {"grade": "H"}),
        ("activities", {"kind": "call", "outcome": "抢客户"}),
        ("apply-lost", {"reason": services.dealership_lost_reasons(showroom)[0].pk}),
    ):
        assert colleague.post(f"{url}/{path}/", body, format="json").status_code == 404, path
    assert colleague.get("/api/leads/").json()["count"] == 0
    assert colleague.get(f"/api/quotes/{quote.pk}/").status_code == 404
    assert colleague.get("/api/quotes/").json()["count"] == 0
    # their own quote or test drive cannot hang on someone else's lead either
    on_it = colleague.post("/api/quotes/", {"lead": lead.pk, "list_price": "1.00"}, format="json")
    assert on_it.status_code == 400 and "lead" in on_it.json()
    ordered = colleague.post(
        "/api/orders/", {"quote": quote.pk, "stock_vehicle": car.pk, "deposit": "1"}, format="json"
    )
    assert ordered.status_code == 400 and "quote" in ordered.json()
    assert lead_state(lead) == before and models.Quote.objects.count() == 1 and not models.Order.objects.exists()


def test_another_rooftops_rows_are_404_and_unchanged(lead, consultant, other_rooftop, car, demo_car):
    quote = quote_for(lead, consultant)
    order = services.order_create(actor=consultant, quote_id=quote.pk, stock_vehicle_id=car.pk, deposit=Decimal("5000"))
    with time_machine.travel(local(11, 23, 9), tick=False):
        drive = services.test_drive_book(
            actor=consultant,
            lead_id=lead.pk,
            demo_vehicle_id=demo_car.pk,
            starts_at=local(11, 24, 10),
            licence_number=LICENCE,
            licence_expires_on=datetime.date(2030, 1, 1),
        )
    before = lead_state(lead)
    for role in (Role.SALES_CONSULTANT, Role.MANAGER):
        outsider = api_client_for(UserFactory(role=role, rooftops=[other_rooftop]))
        for path in (
            f"/api/leads/{lead.pk}/",
            f"/api/quotes/{quote.pk}/",
            f"/api/orders/{order.pk}/",
            f"/api/test-drives/{drive.pk}/",
            f"/api/stock-vehicles/{car.pk}/",
        ):
            assert outsider.get(path).status_code == 404, path
        for path, body in (
            (f"/api/leads/{lead.pk}/stage/", {"stage": "dormant"}),
            (f"/api/leads/{lead.pk}/reassign/", {"owner": consultant.pk}),
            (f"/api/leads/{lead.pk}/reactivate/", {}),
            (f"/api/quotes/{quote.pk}/approve-discount/", {}),
            (f"/api/orders/{order.pk}/payment/", {"amount": "1.00"}),
            (f"/api/test-drives/{drive.pk}/complete/", {"feedback": "好"}),
        ):
            assert outsider.post(path, body, format="json").status_code == 404, path
        assert outsider.patch(f"/api/stock-vehicles/{car.pk}/", {"list_price": "1.00"}, format="json").status_code in (
            403,
            404,
        )
        for path in ("/api/leads/", "/api/quotes/", "/api/orders/", "/api/test-drives/", "/api/stock-vehicles/"):
            assert outsider.get(path).json()["count"] == 0, path
        # nor may they choose this rooftop's customer, car or quote
        stolen = outsider.post("/api/leads/", {"customer": lead.customer_id, "source": "phone"}, format="json")
        assert stolen.status_code == 400 and "customer" in stolen.json()
    for row in (order, drive, car):
        row.refresh_from_db()
    assert lead_state(lead) == before and models.Lead.objects.count() == 1
    assert (order.paid, drive.status, car.list_price) == (
        Decimal("5000.00"),
        choices.TestDriveStatus.BOOKED,
        Decimal("219900.00"),
    )


def test_a_technician_may_not_use_the_sales_api(lead, staff):
    bench = api_client_for(staff[Role.TECHNICIAN])
    for path in ("/api/leads/", "/api/test-drives/", "/api/quotes/", "/api/orders/", f"/api/leads/{lead.pk}/"):
        assert bench.get(path).status_code == 403, path
    before = lead_state(lead)
    assert bench.post(f"/api/leads/{lead.pk}/stage/", {"stage": "contacted"}, format="json").status_code == 403
    assert (
        bench.post("/api/leads/", {"customer": lead.customer_id, "source": "phone"}, format="json").status_code == 403
    )
    assert lead_state(lead) == before and models.Lead.objects.count() == 1


def test_a_customer_specialist_reads_leads_and_a_role_without_phones_sees_them_masked(lead, rooftop, staff):
    specialist = api_client_for(staff[Role.CUSTOMER_SPECIALIST])
    listed = specialist.get("/api/leads/").json()["results"]
    assert [row["customer_mobile"] for row in listed] == ["+8613812345678"]
    assert specialist.post(f"/api/leads/{lead.pk}/grade/", {"grade": "H"}, format="json").status_code == 403
    reader = Group.objects.create(name="lead reader")
    reader.permissions.set(Permission.objects.filter(content_type__app_label="sales", codename="view_lead"))
    nobody = api_client_for(UserFactory(rooftops=[rooftop]))
    assert nobody.get("/api/leads/").status_code == 403  # no role, no leads
    user = UserFactory(rooftops=[rooftop])
    user.groups.add(reader)
    shown = api_client_for(user).get(f"/api/leads/{lead.pk}/").json()
    assert shown["customer_mobile"] == "" and shown["customer_name"] == "王小明"  # no phone permission: no digits


def test_a_lead_for_another_rooftops_customer_or_owner_is_refused(showroom, other_rooftop, sales, office):
    outside = CustomerFactory(dealership=other_rooftop)
    refused = sales.post("/api/leads/", {"customer": outside.pk, "source": "phone"}, format="json")
    assert refused.status_code == 400 and "customer" in refused.json()
    customer = CustomerFactory(dealership=showroom)
    no_source = sales.post("/api/leads/", {"customer": customer.pk}, format="json")
    assert no_source.status_code == 400 and "source" in no_source.json()
    referral = sales.post("/api/leads/", {"customer": customer.pk, "source": "referral"}, format="json")
    assert referral.status_code == 400 and "referrer" in referral.json()
    colleague = UserFactory(role=Role.SALES_CONSULTANT, rooftops=[showroom])
    for_colleague = sales.post(
        "/api/leads/", {"customer": customer.pk, "source": "phone", "owner": colleague.pk}, format="json"
    )
    assert for_colleague.status_code == 400 and "owner" in for_colleague.json()
    assert not models.Lead.objects.exists() and not FollowUp.objects.exists()
    given = office.post(
        "/api/leads/", {"customer": customer.pk, "source": "phone", "owner": colleague.pk}, format="json"
    )
    assert given.status_code == 201 and given.json()["owner"] == colleague.pk


# --- stock ---------------------------------------------------------------------------------------


def test_managers_keep_the_stock_and_days_count_in_the_rooftops_time_zone(showroom, other_rooftop, sales, office, car):
    # 23:30 UTC on the 20th is 07:30 on the 21st in Shanghai: 20 days since the 1st there, 19 in UTC.
    with time_machine.travel(datetime.datetime(2026, 11, 20, 23, 30, tzinfo=datetime.UTC), tick=False):
        assert sales.get(f"/api/stock-vehicles/{car.pk}/").json()["days_in_stock"] == 20
        new_car = {
            "dealership": showroom.pk,
            "vin": demo.vin(random.Random(9), "LSV", 2026).lower(),
            "make": "Volkswagen",
            "model": "ID.4 CROZZ",
            "list_price": "199900.00",
            "status": "in_transit",
        }
        assert sales.post("/api/stock-vehicles/", new_car, format="json").status_code == 403
        added = office.post("/api/stock-vehicles/", new_car, format="json")
        assert added.status_code == 201, added.json()
        assert added.json()["vin"] == new_car["vin"].upper() and added.json()["days_in_stock"] is None
        arrived = office.patch(
            f"/api/stock-vehicles/{added.json()['id']}/",
            {"status": "in_stock", "arrived_on": "2026-11-21"},
            format="json",
        )
        assert arrived.status_code == 200 and arrived.json()["days_in_stock"] == 0
    assert office.post("/api/stock-vehicles/", new_car, format="json").json() == {
        "vin": ["This rooftop's stock already has a car with this VIN."]
    }
    other_vin = demo.vin(random.Random(10), "LSV", 2026)
    for bad, field in (
        ({"vin": "LSV123"}, "vin"),
        ({"list_price": "-1.00"}, "list_price"),
        ({"dealership": other_rooftop.pk}, "dealership"),
        ({"status": "sold"}, "status"),
    ):
        refused = office.post("/api/stock-vehicles/", {**new_car, "vin": other_vin, **bad}, format="json")
        assert refused.status_code == 400 and field in refused.json(), (bad, refused.json())
    assert models.StockVehicle.objects.count() == 2
    models.StockVehicle.objects.filter(pk=car.pk).update(status=StockStatus.RESERVED)
    freed = office.patch(f"/api/stock-vehicles/{car.pk}/", {"status": "in_stock", "vin": other_vin}, format="json")
    assert freed.status_code == 400 and {"status", "vin"} <= set(freed.json()), freed.json()
    repriced = office.patch(f"/api/stock-vehicles/{car.pk}/", {"list_price": "215000.00"}, format="json")
    assert repriced.status_code == 200 and repriced.json()["status"] == StockStatus.RESERVED


# --- bounded queries and the schema ---------------------------------------------------------------


@pytest.fixture
def many(showroom, manager):
    """50 leads of 5 consultants, each with a quote, a test drive, an order and its own car in stock."""
    consultants = [UserFactory(role=Role.SALES_CONSULTANT, rooftops=[showroom]) for _ in range(5)]
    demo_car = models.DemoVehicle.objects.get()
    start = local(11, 24, 8)
    for index in range(50):
        customer = CustomerFactory(dealership=showroom)
        owner = consultants[index % 5]
        lead = models.Lead.objects.create(
            dealership=showroom, customer=customer, owner=owner, source="phone", stage=Stage.NEGOTIATING
        )
        car = models.StockVehicle.objects.create(
            dealership=showroom,
            vin=f"LSVTEST{index:010d}",
            make="Volkswagen",
            model="Lavida",
            list_price=Decimal("120000.00"),
            arrived_on=datetime.date(2026, 10, 1),
        )
        quote = models.Quote.objects.create(
            dealership=showroom,
            lead=lead,
            version=1,
            stock_vehicle=car,
            model="Lavida",
            list_price=Decimal("120000.00"),
            discount=Decimal(index * 200),
            total=Decimal("120000.00") - Decimal(index * 200),
            created_by=owner,
        )
        models.TestDrive.objects.create(
            dealership=showroom,
            lead=lead,
            demo_vehicle=demo_car,
            starts_at=start + datetime.timedelta(minutes=30 * index),
            ends_at=start + datetime.timedelta(minutes=30 * index + 30),
            licence_number=LICENCE,
            licence_expires_on=datetime.date(2030, 1, 1),
            booked_by=owner,
        )
        models.Order.objects.create(
            dealership=showroom,
            number=f"SH01-C2026-{index:07d}",
            lead=lead,
            customer=customer,
            quote=quote,
            stock_vehicle=car,
            consultant=owner,
            total=quote.total,
            deposit=Decimal("5000.00"),
            paid=Decimal("5000.00"),
        )
    return 50


# The count and the page; quotes also read the rooftop's discount limit, once a page.
LISTS = {"/api/leads/": 2, "/api/test-drives/": 2, "/api/quotes/": 3, "/api/orders/": 2, "/api/stock-vehicles/": 2}


@pytest.mark.parametrize("path", list(LISTS))
def test_the_list_queries_do_not_grow_with_the_page(many, office, path, django_assert_max_num_queries):
    office.get(path)  # the caller's permissions are cached from here on
    with django_assert_max_num_queries(LISTS[path]):
        small = office.get(path, {"page_size": 5})
    with django_assert_max_num_queries(LISTS[path]):
        big = office.get(path, {"page_size": 50})
    assert len(small.json()["results"]) == 5 and len(big.json()["results"]) == 50
    assert big.json()["count"] >= many


def test_the_schema_describes_the_sales_endpoints(client, manager):
    client.force_login(manager)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path in [
        "/api/leads/",
        "/api/leads/{id}/",
        "/api/leads/{id}/stage/",
        "/api/leads/{id}/grade/",
        "/api/leads/{id}/reassign/",
        "/api/leads/{id}/activities/",
        "/api/leads/{id}/apply-lost/",
        "/api/leads/{id}/review-lost/",
        "/api/leads/{id}/reactivate/",
        "/api/test-drives/",
        "/api/test-drives/{id}/complete/",
        "/api/quotes/",
        "/api/quotes/{id}/approve-discount/",
        "/api/orders/",
        "/api/orders/{id}/payment/",
        "/api/orders/{id}/deliver/",
        "/api/stock-vehicles/",
        "/api/stock-vehicles/{id}/",
    ]:
        assert path in paths, path
    assert set(paths["/api/leads/{id}/activities/"]) == {"get", "post"}
    assert "patch" not in paths["/api/leads/{id}/"] and "patch" in paths["/api/stock-vehicles/{id}/"]
    parameters = {parameter["name"] for parameter in paths["/api/leads/"]["get"]["parameters"]}
    assert {"stage", "grade", "source", "owner", "dealership", "follow_up_by", "ordering", "page_size"} <= parameters
    components = schema["components"]["schemas"]
    assert {"stage", "grade", "owner", "lost_review"} <= set(components["LeadDetail"]["properties"])
    assert not {"stage", "lost_review", "lost_reason"} & set(components["LeadInputRequest"]["properties"])
    assert {"monthly_payment", "total", "needs_discount_approval"} <= set(components["Quote"]["properties"])
    assert components["Quote"]["properties"]["total"]["type"] == "string"
    assert "days_in_stock" in components["StockVehicle"]["properties"]


def test_lost_reasons_are_listed_for_the_callers_rooftops(showroom, consultant, other_rooftop):
    client = api_client_for(consultant)
    reasons = client.get("/api/lost-reasons/").json()
    assert {row["name"] for row in reasons} >= {"Price", "Postponed"}
    assert {row["dealership"] for row in reasons} == {showroom.pk}
