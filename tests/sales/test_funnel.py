"""The sales funnel through its service functions: lead to delivered car, and every refusal on the way."""

import datetime
import random
import threading
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection

from crm import demo
from crm.choices import Role
from crm.models import BusinessHours, Vehicle
from dms.errors import Conflict
from followup.choices import FollowUpKind, FollowUpStatus
from followup.models import FollowUp
from sales import services
from sales.choices import LostReview, OrderStatus, Stage, StockStatus
from sales.models import DemoVehicle, Lead, Order, SalesSettings, StockVehicle

from ..factories import CustomerFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
VIN = demo.vin(random.Random(6), "LSV", 2026)  # with a valid check digit


def local(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def showroom(rooftop):
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18, 0)
        )
    DemoVehicle.objects.create(dealership=rooftop, model="ID.4 CROZZ", plate="沪A0001试", vin="LSVDEMO0000000001")
    StockVehicle.objects.create(
        dealership=rooftop,
        vin=VIN,
        make="Volkswagen",
        model="Tiguan L",
        list_price=Decimal("219900.00"),
    )
    return rooftop


@pytest.fixture
def consultant(staff):
    return staff[Role.SALES_CONSULTANT]


@pytest.fixture
def manager(staff):
    return staff[Role.MANAGER]


def new_lead(consultant, customer, **extra):
    return services.lead_create(
        actor=consultant, customer=customer, source="walk_in", model_of_interest="Tiguan L", **extra
    )


def test_lead_to_delivered_car_with_the_follow_up_two_days_later(showroom, customer, consultant, staff):
    with time_machine.travel(local(11, 20, 10), tick=False):
        lead = new_lead(consultant, customer)
        services.activity_log(actor=consultant, lead_id=lead.pk, kind="visit", party_size=2, outcome="看了途观L")
        services.lead_set_grade(actor=consultant, lead_id=lead.pk, grade="H")
        lead.refresh_from_db()
        assert (lead.stage, lead.next_followup_on) == (Stage.CONTACTED, datetime.date(2026, 11, 22))
        call = FollowUp.objects.get(
            kind=FollowUpKind.LEAD_FOLLOWUP, subject_id=lead.pk, status=FollowUpStatus.SCHEDULED
        )
        assert call.assignee == consultant and call.due_at == local(11, 22, 8, 30)
        drive = services.test_drive_book(
            actor=consultant,
            lead_id=lead.pk,
            demo_vehicle_id=DemoVehicle.objects.get().pk,
            starts_at=local(11, 20, 14),
            licence_number="310101199001011234",
            licence_expires_on=datetime.date(2030, 1, 1),
        )
    with time_machine.travel(local(11, 20, 15), tick=False):
        services.test_drive_complete(actor=consultant, test_drive_id=drive.pk, feedback="动力满意,后排空间大")
        quote = services.quote_create(
            actor=consultant,
            lead_id=lead.pk,
            model="Tiguan L",
            list_price=Decimal("219900.00"),
            discount=Decimal("3000.00"),
            insurance=Decimal("6800.00"),
            down_payment=Decimal("80000.00"),
            term_months=36,
            annual_rate=Decimal("0.0399"),
        )
        order = services.order_create(
            actor=consultant,
            quote_id=quote.pk,
            stock_vehicle_id=StockVehicle.objects.get().pk,
            deposit=Decimal("10000.00"),
        )
        assert StockVehicle.objects.get().status == StockStatus.RESERVED
        with pytest.raises(Conflict, match="paid"):
            services.order_deliver(
                actor=consultant,
                order_id=order.pk,
                delivery_advisor=staff[Role.SERVICE_ADVISOR],
                pdi_checklist={"外观": True},
                documents_checklist={"发票": True},
            )
        services.order_payment(actor=consultant, order_id=order.pk, amount=quote.total - Decimal("10000.00"))
    delivered_at = local(11, 21, 16, 0)
    with time_machine.travel(delivered_at, tick=False):
        services.order_deliver(
            actor=consultant,
            order_id=order.pk,
            delivery_advisor=staff[Role.SERVICE_ADVISOR],
            pdi_checklist={"外观": True, "电瓶": True},
            documents_checklist={"发票": True, "合格证": True},
        )
    order.refresh_from_db()
    lead.refresh_from_db()
    car = Vehicle.objects.get(vin=VIN)
    assert (order.status, lead.stage, car.owner) == (OrderStatus.DELIVERED, Stage.DELIVERED, customer)
    assert car.warranty_ends_on == datetime.date(2029, 11, 21) and car.next_service_km == 5000
    follow_up = FollowUp.objects.get(kind=FollowUpKind.DELIVERY_FOLLOWUP, subject_id=order.pk)
    assert delivered_at < follow_up.due_at <= delivered_at + datetime.timedelta(hours=48)
    assert follow_up.window_ends_at == delivered_at + datetime.timedelta(hours=48)
    assert not FollowUp.objects.filter(kind=FollowUpKind.LEAD_FOLLOWUP, subject_id=lead.pk, status="scheduled").exists()
    assert [event.to_value for event in lead.events.filter(field="stage")] == [
        "new",
        "contacted",
        "test_driven",
        "negotiating",
        "ordered",
        "delivered",
    ]


@pytest.mark.parametrize(
    ("contact", "grade", "expected"),
    [
        (local(1, 30, 10), "H", datetime.date(2026, 2, 1)),  # across a month end
        (local(2, 26, 10), "A", datetime.date(2026, 3, 1)),  # February has 28 days in 2026
        (local(12, 25, 10), "B", datetime.date(2027, 1, 1)),  # across the year
        (
            datetime.datetime(2026, 3, 31, 17, 30, tzinfo=datetime.UTC),
            "C",
            datetime.date(2026, 4, 15),
        ),  # 01:30 in Shanghai
    ],
)
def test_the_grade_sets_the_next_follow_up_date(showroom, customer, consultant, contact, grade, expected):
    with time_machine.travel(contact, tick=False):
        lead = new_lead(consultant, customer)
        services.activity_log(actor=consultant, lead_id=lead.pk, kind="call", occurred_at=contact, outcome="接通")
        services.lead_set_grade(actor=consultant, lead_id=lead.pk, grade=grade)
    lead.refresh_from_db()
    assert lead.next_followup_on == expected


def test_a_rooftops_own_cadence_is_used(showroom, customer, consultant):
    settings = SalesSettings.of(showroom)
    settings.cadence_h = 1
    settings.save()
    with time_machine.travel(local(11, 23, 9), tick=False):
        lead = new_lead(consultant, customer, grade="H")
        services.activity_log(actor=consultant, lead_id=lead.pk, kind="call")
    lead.refresh_from_db()
    assert lead.next_followup_on == datetime.date(2026, 11, 24)


def test_lost_needs_a_reason_and_the_managers_review(showroom, customer, consultant, manager):
    lead = new_lead(consultant, customer)
    with pytest.raises(ValidationError, match="why the lead was lost"):
        services.lead_apply_lost(actor=consultant, lead_id=lead.pk, reason_id=None)
    with pytest.raises(ValidationError):
        services.lead_set_stage(actor=consultant, lead_id=lead.pk, stage="lost")
    reason = services.dealership_lost_reasons(showroom)[0]
    services.lead_apply_lost(actor=consultant, lead_id=lead.pk, reason_id=reason.pk, note="嫌贵")
    with pytest.raises(PermissionDenied):
        services.lead_review_lost(actor=consultant, lead_id=lead.pk, approve=True)
    with pytest.raises(ValidationError, match="what to try next"):
        services.lead_review_lost(actor=manager, lead_id=lead.pk, approve=False)
    services.lead_review_lost(actor=manager, lead_id=lead.pk, approve=False, note="再约一次试驾")
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_review) == (Stage.NEW, LostReview.REJECTED)
    services.lead_apply_lost(actor=consultant, lead_id=lead.pk, reason_id=reason.pk)
    services.lead_review_lost(actor=manager, lead_id=lead.pk, approve=True)
    lead.refresh_from_db()
    assert lead.stage == Stage.LOST
    services.lead_reactivate(actor=manager, lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.stage == Stage.NEW and lead.lost_review == ""


def test_quote_maths_to_the_cent_and_bad_quotes_refused(showroom, customer, consultant):
    lead = new_lead(consultant, customer)
    quote = services.quote_create(
        actor=consultant,
        lead_id=lead.pk,
        model="Tiguan L",
        list_price=Decimal("100000.00"),
        down_payment=Decimal("0.00"),
        term_months=36,
        annual_rate=Decimal("0.0399"),
    )
    assert quote.monthly_payment == Decimal("2951.95") and quote.total == Decimal("100000.00")
    second = services.quote_create(
        actor=consultant,
        lead_id=lead.pk,
        model="Tiguan L",
        list_price=Decimal("152000.00"),
        discount=Decimal("2000.00"),
        accessories_price=Decimal("3500.00"),
        insurance=Decimal("4500.00"),
        trade_in_value=Decimal("8000.00"),
        down_payment=Decimal("30000.00"),
        term_months=60,
        annual_rate=Decimal("0.0599"),
    )
    assert second.version == 2 and second.total == Decimal("150000.00")
    assert second.monthly_payment == Decimal("2319.38")
    free = services.quote_create(
        actor=consultant,
        lead_id=lead.pk,
        model="x",
        list_price=Decimal("36000"),
        down_payment=Decimal("0"),
        term_months=12,
        annual_rate=Decimal("0"),
    )
    assert free.monthly_payment == Decimal("3000.00")
    for bad, field in (
        ({"list_price": Decimal("-1")}, "list_price"),
        ({"term_months": 0}, "term_months"),
        ({"annual_rate": Decimal("0.5")}, "annual_rate"),
        ({"down_payment": Decimal("200000")}, "down_payment"),
    ):
        arguments = {
            "list_price": Decimal("100000"),
            "down_payment": Decimal("0"),
            "term_months": 36,
            "annual_rate": Decimal("0.04"),
            **bad,
        }
        with pytest.raises(ValidationError) as refused:
            services.quote_create(actor=consultant, lead_id=lead.pk, model="x", **arguments)
        assert field in refused.value.message_dict
    assert lead.quotes.count() == 3  # nothing written by the refused ones


def test_a_discount_beyond_the_limit_needs_a_manager(showroom, customer, consultant, manager):
    lead = new_lead(consultant, customer)
    quote = services.quote_create(
        actor=consultant, lead_id=lead.pk, model="Tiguan L", list_price=Decimal("219900"), discount=Decimal("12000")
    )
    car = StockVehicle.objects.get()
    with pytest.raises(Conflict, match="manager must approve"):
        services.order_create(actor=consultant, quote_id=quote.pk, stock_vehicle_id=car.pk, deposit=Decimal("5000"))
    assert StockVehicle.objects.get().status == StockStatus.IN_STOCK
    services.quote_approve_discount(actor=manager, quote_id=quote.pk)
    with pytest.raises(ValidationError, match="deposit"):
        services.order_create(actor=consultant, quote_id=quote.pk, stock_vehicle_id=car.pk, deposit=Decimal("999999"))
    order = services.order_create(actor=consultant, quote_id=quote.pk, stock_vehicle_id=car.pk, deposit=Decimal("5000"))
    assert order.total == Decimal("207900.00")


def test_a_demo_car_is_never_booked_twice_and_the_licence_is_checked(showroom, customer, consultant):
    lead = new_lead(consultant, customer)
    demo = DemoVehicle.objects.get()
    with time_machine.travel(local(11, 23, 9), tick=False):
        book = {
            "actor": consultant,
            "lead_id": lead.pk,
            "demo_vehicle_id": demo.pk,
            "licence_number": "310101199001011234",
            "licence_expires_on": datetime.date(2030, 1, 1),
        }
        services.test_drive_book(starts_at=local(11, 23, 14), **book)
        with pytest.raises(ValidationError, match="already booked"):
            services.test_drive_book(starts_at=local(11, 23, 14, 15), **book)  # overlaps 14:00–14:30
        services.test_drive_book(starts_at=local(11, 23, 14, 30), **book)  # right after: fine
        with pytest.raises(ValidationError) as expired:
            services.test_drive_book(
                starts_at=local(11, 24, 10), **{**book, "licence_expires_on": datetime.date(2026, 11, 1)}
            )
        assert "licence_expires_on" in expired.value.message_dict
        with pytest.raises(ValidationError) as bad:
            services.test_drive_book(starts_at=local(11, 24, 10), **{**book, "licence_number": "12"})
        assert "licence_number" in bad.value.message_dict


def test_a_consultant_cannot_touch_another_consultants_lead(showroom, customer, consultant, manager):
    colleague = UserFactory(role=Role.SALES_CONSULTANT, rooftops=[showroom])
    lead = new_lead(consultant, customer)
    assert not services.leads_for(colleague).filter(pk=lead.pk).exists()
    with pytest.raises(ObjectDoesNotExist):
        services.lead_set_grade(actor=colleague, lead_id=lead.pk, grade="A")
    assert services.leads_for(manager).filter(pk=lead.pk).exists()
    services.lead_reassign(actor=manager, lead_id=lead.pk, owner=colleague)
    services.lead_set_grade(actor=colleague, lead_id=lead.pk, grade="A")
    assert (
        FollowUp.objects.get(kind=FollowUpKind.LEAD_FOLLOWUP, subject_id=lead.pk, status="scheduled").assignee
        == colleague
    )


@pytest.mark.django_db(transaction=True)
def test_two_orders_racing_for_one_car_exactly_one_wins(rooftop, staff):
    consultant = staff[Role.SALES_CONSULTANT]
    car = StockVehicle.objects.create(
        dealership=rooftop, vin=VIN, make="VW", model="Tiguan L", list_price=Decimal("200000")
    )
    quotes = []
    for _ in range(6):
        lead = services.lead_create(actor=consultant, customer=CustomerFactory(dealership=rooftop), source="phone")
        quotes.append(
            services.quote_create(actor=consultant, lead_id=lead.pk, model="Tiguan L", list_price=Decimal("200000"))
        )
    barrier = threading.Barrier(len(quotes))
    outcomes = []

    def order(quote):
        try:
            barrier.wait()
            services.order_create(actor=consultant, quote_id=quote.pk, stock_vehicle_id=car.pk, deposit=Decimal("5000"))
            outcomes.append("won")
        except ValidationError:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - reported below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=(quote,)) for quote in quotes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    assert Order.objects.count() == 1 and StockVehicle.objects.get().status == StockStatus.RESERVED
    assert Lead.objects.filter(stage=Stage.ORDERED).count() == 1
