"""The complaint life-cycle 投诉处理: every step with its actor, the call-back through the follow-up engine,
the customer's answer on it, escalation of overdue complaints to the manager."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ObjectDoesNotExist, ValidationError

from crm import services
from crm.choices import ComplaintStatus, Role
from crm.models import BusinessHours, Complaint
from dms.errors import Conflict
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import FollowUp
from followup.services import followup_record_outcome

from ..factories import CustomerFactory, UserFactory

MONDAY = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def open_hours(rooftop):
    for weekday in range(7):
        BusinessHours.objects.create(
            dealership=rooftop, weekday=weekday, opens_at=datetime.time(0, 0), closes_at=datetime.time(23, 59)
        )
    return rooftop


@pytest.fixture
def specialist(staff):
    return staff[Role.CUSTOMER_SPECIALIST]


def open_one(customer, specialist, **extra):
    return services.complaint_open(
        customer=customer,
        source="phone",
        description="保养后异响没解决",
        actor=specialist,
        severity=extra.pop("severity", "medium"),
        owner=specialist,
        category="service_quality",
        **extra,
    )


def advance(complaint, actor, to_status, **extra):
    return services.complaint_advance(actor=actor, complaint_id=complaint.pk, to_status=to_status, **extra)


def test_the_whole_life_cycle_with_the_call_back_in_the_queue(open_hours, customer, specialist):
    with time_machine.travel(MONDAY, tick=False):
        complaint = open_one(customer, specialist)
        assert complaint.due_at == MONDAY + datetime.timedelta(days=1)
        advance(complaint, specialist, ComplaintStatus.INVESTIGATING)
        with pytest.raises(ValidationError) as refused:
            advance(complaint, specialist, ComplaintStatus.SOLUTION_AGREED)
        assert "solution" in refused.value.message_dict
        advance(complaint, specialist, ComplaintStatus.SOLUTION_AGREED, solution="免费返修并赠送一次保养")
        assert not FollowUp.objects.filter(kind=FollowUpKind.COMPLAINT_CALLBACK).exists()
        advance(complaint, specialist, ComplaintStatus.IMPLEMENTED)
        callback = FollowUp.objects.get(kind=FollowUpKind.COMPLAINT_CALLBACK, subject_id=complaint.pk)
        assert callback.assignee == specialist and callback.status == FollowUpStatus.SCHEDULED
        FollowUp.objects.filter(pk=callback.pk).update(status=FollowUpStatus.QUEUED)
        followup_record_outcome(
            followup_id=callback.pk, actor=specialist, outcome=Outcome.REACHED, satisfaction=5, notes="满意"
        )
        complaint.refresh_from_db()
        assert complaint.status == ComplaintStatus.CALLBACK_DONE
        advance(complaint, specialist, ComplaintStatus.CLOSED)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.closed_at == MONDAY
    assert complaint.solution == "免费返修并赠送一次保养"
    steps = list(complaint.events.values_list("from_status", "to_status", "actor"))
    assert [step[1] for step in steps] == [
        "received",
        "investigating",
        "solution_agreed",
        "implemented",
        "callback_done",
        "closed",
    ]
    assert all(actor == specialist.pk for *_, actor in steps)
    assert Complaint.objects.count() == 1


def test_still_unhappy_on_the_call_back_goes_back_to_investigating_not_a_new_complaint(
    open_hours, customer, specialist
):
    with time_machine.travel(MONDAY, tick=False):
        complaint = open_one(customer, specialist, severity="high")
        advance(complaint, specialist, ComplaintStatus.INVESTIGATING)
        advance(complaint, specialist, ComplaintStatus.SOLUTION_AGREED, solution="更换皮带")
        advance(complaint, specialist, ComplaintStatus.IMPLEMENTED)
    callback = FollowUp.objects.get(kind=FollowUpKind.COMPLAINT_CALLBACK)
    FollowUp.objects.filter(pk=callback.pk).update(status=FollowUpStatus.QUEUED)
    later = MONDAY + datetime.timedelta(days=2)
    with time_machine.travel(later, tick=False):
        followup_record_outcome(
            followup_id=callback.pk, actor=specialist, outcome=Outcome.REACHED, satisfaction=1, notes="还是响"
        )
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.INVESTIGATING
    assert complaint.due_at == later + datetime.timedelta(hours=4)
    assert Complaint.objects.count() == 1 and complaint.events.last().note == "还是响"


def test_an_illegal_step_or_a_stale_version_changes_nothing(open_hours, customer, specialist):
    complaint = open_one(customer, specialist)
    with pytest.raises(Conflict):
        advance(complaint, specialist, ComplaintStatus.CLOSED)
    with pytest.raises(Conflict, match="reload"):
        advance(complaint, specialist, ComplaintStatus.INVESTIGATING, version=complaint.version + 1)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED and complaint.events.count() == 1


def test_roles_and_rooftops_are_checked(open_hours, customer, staff, specialist, other_rooftop):
    complaint = open_one(customer, specialist)
    with pytest.raises(ObjectDoesNotExist):  # advisors record complaints but do not handle them
        advance(complaint, staff[Role.SERVICE_ADVISOR], ComplaintStatus.INVESTIGATING)
    elsewhere = UserFactory(role=Role.CUSTOMER_SPECIALIST, rooftops=[other_rooftop])
    with pytest.raises(ObjectDoesNotExist):
        advance(complaint, elsewhere, ComplaintStatus.INVESTIGATING)
    with pytest.raises(ValidationError):
        services.complaint_assign(actor=specialist, complaint_id=complaint.pk, owner=elsewhere)
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED and complaint.owner == specialist


def test_bad_input_opens_nothing(open_hours, customer, specialist):
    with pytest.raises(ValidationError) as refused:
        services.complaint_open(customer=customer, source="fax", description=" ", severity="urgent", category="x")
    assert set(refused.value.message_dict) == {"source", "description", "severity", "category"}
    assert not Complaint.objects.exists()


def test_overdue_complaints_escalate_to_the_manager_once(
    open_hours, rooftop, customer, specialist, staff, django_capture_on_commit_callbacks
):
    manager = staff[Role.MANAGER]
    manager.email = "manager@example.com"
    manager.save(update_fields=["email"])
    with time_machine.travel(MONDAY, tick=False):
        late = open_one(customer, specialist, severity="high")
        on_time = open_one(CustomerFactory(dealership=rooftop), specialist, severity="low")
    with (
        time_machine.travel(MONDAY + datetime.timedelta(hours=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.complaints_escalate_overdue() == 1
        assert services.complaints_escalate_overdue() == 0
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.escalated_to == manager and late.escalated_at == MONDAY + datetime.timedelta(hours=5)
    assert on_time.escalated_at is None
    assert "escalated" in late.events.last().note
    assert [message.to for message in mail.outbox] == [["manager@example.com"]]
