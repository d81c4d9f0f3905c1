"""Scheduling promises: business hours, customer windows, exactly one live row, moves and cancels."""

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction

from crm.choices import Role
from crm.models import BusinessHours, Complaint, Holiday
from followup import services
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import FollowUp

from ..factories import CustomerFactory, UserFactory, VehicleFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def open_every_day(rooftop):
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(8, 30), closes_at=datetime.time(18, 0)
        )
    return rooftop


@pytest.fixture
def order(rooftop, customer):
    return VehicleFactory(dealership=rooftop, owner=customer)  # stands in for a sales order or repair order


def test_friday_evening_delivery_is_followed_up_next_business_morning_within_48h(open_every_day, customer, order):
    delivered = local(2026, 11, 20, 17, 30)  # a Friday
    with time_machine.travel(delivered):
        row = services.schedule_after_vehicle_delivery(order=order, customer=customer, delivered_at=delivered)
    assert row.due_at == local(2026, 11, 21, 8, 30)
    assert row.due_at - delivered <= datetime.timedelta(hours=48)
    assert row.window_ends_at == delivered + datetime.timedelta(hours=48)
    assert row.team == Role.CUSTOMER_SPECIALIST.value


def test_holidays_and_closed_days_are_skipped(open_every_day, customer, order):
    Holiday.objects.create(dealership=open_every_day, closed_on=datetime.date(2026, 11, 21), name="店休")
    BusinessHours.objects.filter(dealership=open_every_day, weekday=6).delete()  # closed on Sundays
    delivered = local(2026, 11, 20, 17, 30)
    with time_machine.travel(delivered):
        row = services.schedule_after_service_delivery(repair_order=order, customer=customer, delivered_at=delivered)
    assert row.due_at == local(2026, 11, 23, 8, 30)  # Monday


def test_the_customers_preferred_window_is_respected(open_every_day, customer, order):
    customer.contact_from, customer.contact_until = datetime.time(14, 0), datetime.time(16, 0)
    customer.save()
    delivered = local(2026, 11, 20, 17, 30)
    with time_machine.travel(delivered):
        row = services.schedule_after_vehicle_delivery(order=order, customer=customer, delivered_at=delivered)
    assert row.due_at == local(2026, 11, 21, 14, 0)


def test_scheduling_twice_is_a_no_op(open_every_day, customer, order):
    delivered = local(2026, 11, 20, 10, 0)
    first = services.schedule_after_vehicle_delivery(order=order, customer=customer, delivered_at=delivered)
    second = services.schedule_after_vehicle_delivery(order=order, customer=customer, delivered_at=delivered)
    assert first.pk == second.pk and FollowUp.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_schedules_give_one_row(rooftop):
    customer = CustomerFactory(dealership=rooftop)
    order = VehicleFactory(dealership=rooftop, owner=customer)
    barrier = threading.Barrier(50)
    ids, errors = [], []

    def schedule():
        try:
            barrier.wait()
            with transaction.atomic():
                ids.append(
                    services.schedule_after_vehicle_delivery(
                        order=order, customer=customer, delivered_at=local(2026, 11, 20, 10, 0)
                    ).pk
                )
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:3]
    assert len(set(ids)) == 1 and len(ids) == 50
    assert FollowUp.objects.count() == 1


def test_a_rolled_back_delivery_leaves_no_followup(open_every_day, customer, order):
    class DeliveryFailed(Exception):
        pass

    with pytest.raises(DeliveryFailed), transaction.atomic():
        services.schedule_after_vehicle_delivery(order=order, customer=customer, delivered_at=local(2026, 11, 20, 10))
        raise DeliveryFailed
    assert not FollowUp.objects.exists()


def test_appointment_reminder_and_confirmation_move_and_cancel_with_it(open_every_day, customer, order):
    with time_machine.travel(local(2026, 11, 20, 9, 0)):
        reminder, confirmation = services.schedule_for_appointment(
            appointment=order, customer=customer, starts_at=local(2026, 11, 25, 10, 0)
        )
        assert reminder.kind == FollowUpKind.APPOINTMENT_REMINDER and reminder.due_at == local(2026, 11, 24, 8, 30)
        assert confirmation.due_at == local(2026, 11, 25, 9, 0)

        services.schedule_for_appointment(appointment=order, customer=customer, starts_at=local(2026, 11, 27, 8, 30))
        moved = {row.kind: row.due_at for row in FollowUp.objects.filter(status=FollowUpStatus.SCHEDULED)}
        assert moved == {
            FollowUpKind.APPOINTMENT_REMINDER: local(2026, 11, 26, 8, 30),
            FollowUpKind.APPOINTMENT_CONFIRMATION: local(2026, 11, 26, 17, 30),  # before opening: the evening before
        }
        assert FollowUp.objects.count() == 2

        assert services.appointment_cancelled(appointment=order) == 2
        assert not FollowUp.objects.filter(status__in=["scheduled", "queued"]).exists()


@pytest.fixture
def queued_call(open_every_day, customer, order, staff):
    with time_machine.travel(local(2026, 11, 20, 10, 0)):
        row = services.schedule_after_service_delivery(
            repair_order=order,
            customer=customer,
            delivered_at=local(2026, 11, 20, 10, 0),
            advisor=staff[Role.SERVICE_ADVISOR],
        )
    FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.QUEUED)
    return row


def test_no_answer_retries_in_two_hours_then_escalates_to_the_lead(queued_call, staff):
    specialist = staff[Role.CUSTOMER_SPECIALIST]
    with time_machine.travel(local(2026, 11, 21, 9, 0)):
        first = services.followup_record_outcome(
            followup_id=queued_call.pk, actor=specialist, outcome=Outcome.NO_ANSWER
        )
        assert first.status == FollowUpStatus.QUEUED and first.due_at == local(2026, 11, 21, 11, 0)
    with time_machine.travel(local(2026, 11, 21, 17, 0)):
        first = services.followup_record_outcome(
            followup_id=queued_call.pk, actor=specialist, outcome=Outcome.NO_ANSWER
        )
    assert first.status == FollowUpStatus.ESCALATED
    assert first.assignee == staff[Role.MANAGER]
    assert list(first.attempt_log.values_list("outcome", flat=True)) == ["no_answer", "no_answer"]


def test_a_retry_after_closing_time_waits_for_the_next_morning(queued_call, staff):
    with time_machine.travel(local(2026, 11, 21, 17, 0)):
        row = services.followup_record_outcome(
            followup_id=queued_call.pk, actor=staff[Role.CUSTOMER_SPECIALIST], outcome=Outcome.NO_ANSWER
        )
    assert row.due_at == local(2026, 11, 22, 8, 30)


def test_a_dissatisfied_customer_opens_a_complaint_and_the_advisor_is_told(
    queued_call, staff, django_capture_on_commit_callbacks
):
    advisor = staff[Role.SERVICE_ADVISOR]
    advisor.email = "advisor@example.cn"
    advisor.save()
    with time_machine.travel(local(2026, 11, 21, 9, 0)), django_capture_on_commit_callbacks(execute=True):
        row = services.followup_record_outcome(
            followup_id=queued_call.pk,
            actor=staff[Role.CUSTOMER_SPECIALIST],
            outcome=Outcome.REACHED,
            satisfaction=2,
            notes="洗车没洗干净，等了两个小时",
        )
    assert row.status == FollowUpStatus.DONE
    complaint = Complaint.objects.get()
    assert complaint.owner == advisor and "洗车" in complaint.description
    assert (complaint.subject_type_id, complaint.subject_id) == (queued_call.subject_type_id, queued_call.subject_id)
    callback = FollowUp.objects.get(kind=FollowUpKind.COMPLAINT_CALLBACK)
    assert callback.subject == complaint and callback.status == FollowUpStatus.SCHEDULED
    assert [message.to for message in mail.outbox] == [["advisor@example.cn"]]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"outcome": Outcome.REACHED}, "satisfaction"),
        ({"outcome": Outcome.CALL_BACK}, "callback_at"),
        ({"outcome": Outcome.REFUSED}, "refusal_reason"),
        ({"outcome": "sent"}, "outcome"),
        ({"outcome": Outcome.REACHED, "satisfaction": 9}, "satisfaction"),
    ],
)
def test_bad_outcomes_are_refused_and_change_nothing(queued_call, staff, fields, error):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        services.followup_record_outcome(followup_id=queued_call.pk, actor=staff[Role.CUSTOMER_SPECIALIST], **fields)
    assert error in raised.value.message_dict
    queued_call.refresh_from_db()
    assert queued_call.status == FollowUpStatus.QUEUED and queued_call.attempts == 0


def test_another_rooftops_followup_cannot_be_worked(queued_call, other_rooftop):
    stranger = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    with pytest.raises(FollowUp.DoesNotExist):
        services.followup_record_outcome(followup_id=queued_call.pk, actor=stranger, outcome=Outcome.NO_ANSWER)
