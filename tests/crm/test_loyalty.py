"""Loyalty 会员积分: points for each paid invoice once (service and sales delivery), the balance and the tier it
reaches, and birthday greetings 生日祝福 scheduled once a year for consenting customers."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django_celery_beat.models import PeriodicTask

from crm import care_panels
from crm.choices import Role
from crm.loyalty import customer_tier, points_award, points_balance, points_for
from crm.models import BusinessHours, CareSettings, LoyaltyTier, PointsEntry
from followup import dispatch, scans
from followup.choices import FollowUpKind, FollowUpStatus
from followup.models import FollowUp
from sales import services as sales_services
from service import pricing
from service import services as service_services

from ..factories import CustomerFactory
from .test_vouchers import repair_order_for, sales_order_for

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def at(year, month, day, hour=6, minute=15):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def delivered_repair_order(customer, advisor, technician, hours=Decimal("2.5")):
    """A repair order worked, checked, paid in full and delivered through the service functions."""
    order = repair_order_for(customer, advisor)
    service_services.labour_line_add(
        actor=advisor, repair_order_id=order.pk, operation_code="M10K", description="1万公里保养", hours=hours
    )
    service_services.repair_order_approve(
        actor=advisor, repair_order_id=order.pk, approved_by_name=customer.full_name, channel="in_person"
    )
    job = service_services.job_dispatch(
        actor=advisor, repair_order_id=order.pk, technician=technician, planned_hours=hours
    )
    service_services.clock_on(actor=technician, job_id=job.pk)
    service_services.clock_off(actor=technician, job_id=job.pk)
    service_services.repair_order_transition(actor=technician, repair_order_id=order.pk, to_status="quality_check")
    service_services.quality_check_record(actor=advisor, repair_order_id=order.pk, passed=True)
    order.refresh_from_db()
    due = pricing.totals(order).customer_due
    service_services.payment_record(actor=advisor, repair_order_id=order.pk, amount=due, method="wechat")
    service_services.repair_order_deliver(actor=advisor, repair_order_id=order.pk)
    return order, due


# --- points --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "rate", "points"),
    [("1999.99", 1, 19), ("100.00", 1, 1), ("99.99", 1, 0), ("1999.00", 3, 59), ("0", 5, 0), ("250000.00", 2, 5000)],
)
def test_points_are_the_paid_hundreds_times_the_rate_rounded_down(paid, rate, points):
    assert points_for(Decimal(paid), rate) == points


def test_a_paid_invoice_earns_once_however_often_it_is_awarded(rooftop, customer, advisor):
    order = repair_order_for(customer, advisor)
    settings = CareSettings.of(rooftop)
    settings.points_per_100_yuan = 2
    settings.save()
    first = points_award(subject=order, customer=customer, paid_amount=Decimal("1234.56"))
    again = points_award(subject=order, customer=customer, paid_amount=Decimal("1234.56"))
    assert first.pk == again.pk and first.points == 24
    assert PointsEntry.objects.count() == 1 and points_balance(customer) == 24
    assert (
        points_award(subject=repair_order_for(customer, advisor), customer=customer, paid_amount=Decimal("49.99"))
        is None
    )


def test_service_delivery_awards_the_paid_amount_once(rooftop, customer, staff):
    advisor, technician = staff[Role.SERVICE_ADVISOR], staff[Role.TECHNICIAN]
    order, paid = delivered_repair_order(customer, advisor, technician)
    entry = PointsEntry.objects.get()
    assert (entry.customer, entry.subject_id, entry.reason) == (customer, order.pk, "paid_invoice")
    assert entry.points == int(paid // 100) and entry.points > 0
    points_award(subject=order, customer=customer, paid_amount=paid)  # delivery retried, a task run twice
    assert PointsEntry.objects.count() == 1


def test_sales_delivery_awards_the_cars_price(rooftop, customer, staff):
    consultant, advisor = staff[Role.SALES_CONSULTANT], staff[Role.SERVICE_ADVISOR]
    order = sales_order_for(customer, consultant, list_price=Decimal("189900"))
    sales_services.order_payment(actor=consultant, order_id=order.pk, amount=order.total - order.paid)
    sales_services.order_deliver(
        actor=consultant,
        order_id=order.pk,
        delivery_advisor=advisor,
        pdi_checklist={"exterior": True},
        documents_checklist={"invoice": True},
    )
    assert points_balance(customer) == int(order.total // 100) == 1899


def test_the_tier_is_the_highest_threshold_the_balance_reaches(rooftop, other_rooftop, customer, advisor):
    for name, threshold in (("银卡", 100), ("金卡", 500), ("钻石卡", 2000)):
        LoyaltyTier.objects.create(dealership=rooftop, name=name, threshold=threshold)
    LoyaltyTier.objects.create(dealership=other_rooftop, name="别家金卡", threshold=10)
    assert customer_tier(customer) is None
    points_award(subject=repair_order_for(customer, advisor), customer=customer, paid_amount=Decimal("10000"))
    assert customer_tier(customer).name == "银卡"
    points_award(subject=repair_order_for(customer, advisor), customer=customer, paid_amount=Decimal("40099.99"))
    assert points_balance(customer) == 500 and customer_tier(customer).name == "金卡"
    PointsEntry.objects.create(dealership=rooftop, customer=customer, points=-450, reason="redeemed gift")
    assert points_balance(customer) == 50 and customer_tier(customer) is None


def test_the_customer_360_shows_points_and_tier(client, rooftop, customer, advisor):
    care_panels.register()
    LoyaltyTier.objects.create(dealership=rooftop, name="金卡", threshold=10)
    points_award(subject=repair_order_for(customer, advisor), customer=customer, paid_amount=Decimal("1500"))
    client.force_login(advisor)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert 'id="points-balance">15<' in page and "金卡" in page


# --- birthday greetings ----------------------------------------------------------------------------


@pytest.fixture
def birthdays(rooftop):
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(9, 0), closes_at=datetime.time(18, 0)
        )
    return {
        "today": CustomerFactory(dealership=rooftop, born_on=datetime.date(1988, 12, 1), marketing_consent=True),
        "no_consent": CustomerFactory(dealership=rooftop, born_on=datetime.date(1990, 12, 1), marketing_consent=False),
        "tomorrow": CustomerFactory(dealership=rooftop, born_on=datetime.date(1988, 12, 2), marketing_consent=True),
        "leapling": CustomerFactory(dealership=rooftop, born_on=datetime.date(2000, 2, 29), marketing_consent=True),
        "unknown": CustomerFactory(dealership=rooftop, born_on=None, marketing_consent=True),
    }


def greeted(customer):
    return FollowUp.objects.filter(kind=FollowUpKind.GREETING, customer=customer)


def test_a_consenting_customer_gets_one_greeting_on_their_birthday(birthdays):
    with time_machine.travel(at(2026, 12, 1), tick=False):
        assert scans.scan_birthdays() == 1
        assert scans.scan_birthdays() == 0  # run again: nothing more
    greeting = greeted(birthdays["today"]).get()
    assert greeting.status == FollowUpStatus.SCHEDULED
    assert greeting.due_at == at(2026, 12, 1, 9, 0)  # at opening, not at 06:15
    assert (greeting.subject_type.model, greeting.subject_id) == ("customer", birthdays["today"].pk)
    assert greeting.data == {"occasion": "birthday", "birthday_year": 2026}
    assert not greeted(birthdays["no_consent"]).exists() and not greeted(birthdays["tomorrow"]).exists()
    assert "生日快乐" in dispatch.message_text(greeting)  # a CN rooftop writes in Chinese


def test_once_a_year_even_after_the_greeting_was_sent(birthdays, settings, tmp_path):
    settings.FOLLOWUP_CONSOLE_PATH = str(tmp_path / "console.jsonl")
    settings.FOLLOWUP_CHANNELS = dict.fromkeys(("sms", "wechat", "email"), "followup.channels.ConsoleProvider")
    with time_machine.travel(at(2026, 12, 1), tick=False):
        scans.scan_birthdays()
    with time_machine.travel(at(2026, 12, 1, 9, 1), tick=False):
        token, ids = dispatch.claim_due()
        assert dispatch.process_batch(token, ids)["sent"] == 1
        assert scans.scan_birthdays() == 0  # sent already: no second greeting this year
    with time_machine.travel(at(2027, 12, 1), tick=False):
        assert scans.scan_birthdays() == 1
    assert sorted(greeted(birthdays["today"]).values_list("data__birthday_year", flat=True)) == [2026, 2027]


def test_born_on_29_february_is_greeted_on_the_28th_in_other_years(birthdays):
    with time_machine.travel(at(2027, 2, 28), tick=False):
        assert scans.scan_birthdays() == 1
    with time_machine.travel(at(2027, 3, 1), tick=False):
        assert scans.scan_birthdays() == 0
    greeted(birthdays["leapling"]).update(status=FollowUpStatus.DONE)  # sent that day
    with time_machine.travel(at(2028, 2, 28), tick=False):
        assert scans.scan_birthdays() == 0  # a leap year: the 29th is coming
    with time_machine.travel(at(2028, 2, 29), tick=False):
        assert scans.scan_birthdays() == 1
    assert sorted(greeted(birthdays["leapling"]).values_list("data__birthday_year", flat=True)) == [2027, 2028]


def test_the_database_keeps_it_to_once_a_year_if_two_scans_race(birthdays):
    customer = birthdays["today"]
    with time_machine.travel(at(2026, 12, 1), tick=False):
        scans.scan_birthdays()
    FollowUp.objects.filter(customer=customer).update(status=FollowUpStatus.DONE)  # no longer live
    duplicate = FollowUp(
        dealership=customer.dealership,
        kind=FollowUpKind.GREETING,
        customer=customer,
        subject_type=greeted(customer).get().subject_type,
        subject_id=customer.pk,
        due_at=at(2026, 12, 1, 10),
        data={"occasion": "birthday", "birthday_year": 2026},
    )
    FollowUp.objects.bulk_create([duplicate], ignore_conflicts=True)
    assert greeted(customer).count() == 1


def test_the_birthday_scan_runs_daily_from_beat(db):
    task = PeriodicTask.objects.get(name="Birthday greetings scan")
    assert task.task == "followup.scan_birthdays" and (task.crontab.hour, task.crontab.minute) == ("6", "15")
