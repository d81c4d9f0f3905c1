"""Follow-up KPIs (followup/kpis.py) on a hand-built March: the 2-day follow-up done within 48 h and contact
success, from the raw rows and from the rollups, per specialist, at Shanghai's day boundaries."""

import datetime
import itertools
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from crm.choices import Role
from crm.models import Dealership, Vehicle
from dms import rollups
from followup import kpis
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import Attempt, FollowUp

from ..factories import CustomerFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
_subjects = itertools.count(1)


def at(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def two_day(customer, ends, status, assignee=None, done_at=None, kind=FollowUpKind.SERVICE_FOLLOWUP):
    """A follow-up whose 48 h window ends at ``ends``."""
    return FollowUp.objects.create(
        dealership=customer.dealership,
        kind=kind,
        customer=customer,
        subject_type=ContentType.objects.get_for_model(Vehicle),
        subject_id=next(_subjects),
        due_at=ends - datetime.timedelta(hours=47),
        window_ends_at=ends,
        assignee=assignee,
        status=status,
        done_at=done_at,
    )


def attempt(followup, outcome, when, actor=None):
    row = Attempt.objects.create(
        followup=followup, number=followup.attempt_log.count() + 1, actor=actor, outcome=outcome
    )
    Attempt.objects.filter(pk=row.pk).update(created_at=when)
    return row


def facts_both_ways(rooftops, first, last):
    """The counters computed from the raw rows, and read from the rollups after a refresh: always equal."""
    raw = rollups.raw_facts(kpis.METRICS, rooftops, first, last)
    rollups.refresh()
    read = rollups.read_periods(kpis.METRICS, rooftops, {"c": (first, last)})["c"]
    assert raw == read
    return raw, read


@pytest.fixture
def people(staff):
    return staff[Role.CUSTOMER_SPECIALIST], staff[Role.MANAGER]


@pytest.fixture
def march(rooftop, other_rooftop, customer, people):
    """Follow-ups whose windows end in and around March, with the calls made on them."""
    specialist, manager = people
    done, failed, queued = FollowUpStatus.DONE, FollowUpStatus.FAILED, FollowUpStatus.QUEUED
    rows = {
        "in_time": two_day(customer, at(3, 5), done, specialist, at(3, 4)),
        "late": two_day(customer, at(3, 10), done, specialist, at(3, 11)),
        "failed": two_day(customer, at(3, 12), failed, manager),
        "overdue": two_day(customer, at(3, 15), queued, specialist),
        "manager_in_time": two_day(customer, at(3, 20), done, manager, at(3, 19), kind=FollowUpKind.DELIVERY_FOLLOWUP),
        "in_time_2": two_day(customer, at(3, 25), done, specialist, at(3, 25, 9)),
        # 23:30 in Shanghai is still March 31st (15:30 UTC); 00:10 on April 1st is 16:10 UTC on March 31st.
        "last_minute": two_day(customer, at(3, 31, 23, 30), done, specialist, at(3, 31, 8)),
        "april": two_day(customer, at(4, 1, 0, 10), queued, specialist),
        # not counted: cancelled, not a 2-day kind, another rooftop
        "cancelled": two_day(customer, at(3, 6), FollowUpStatus.CANCELLED, specialist),
        "lead": two_day(customer, at(3, 7), done, specialist, at(3, 6), kind=FollowUpKind.LEAD_FOLLOWUP),
        "elsewhere": two_day(CustomerFactory(dealership=other_rooftop), at(3, 5), done, None, at(3, 4)),
    }
    call = rows["overdue"]
    for outcome, day in (
        (Outcome.NO_ANSWER, 3),
        (Outcome.REACHED, 4),
        (Outcome.BOOKED, 5),
        (Outcome.WRONG_NUMBER, 6),
        (Outcome.CALL_BACK, 7),
        (Outcome.REFUSED, 8),
    ):
        attempt(call, outcome, at(3, day), specialist)
    attempt(call, Outcome.REACHED, at(3, 31, 23, 59), specialist)  # March in Shanghai
    attempt(call, Outcome.NO_ANSWER, at(4, 1, 0, 0), specialist)  # April in Shanghai, March 31st in UTC
    attempt(call, Outcome.NO_ANSWER, at(3, 9), manager)
    attempt(call, Outcome.REACHED, at(3, 10), manager)
    # messages are not calls
    attempt(call, Outcome.SENT, at(3, 4))
    attempt(call, Outcome.SEND_FAILED, at(3, 4))
    attempt(call, Outcome.SEND_UNKNOWN, at(3, 4))
    attempt(rows["elsewhere"], Outcome.REACHED, at(3, 4), specialist)
    return rows


def test_two_day_in_time_rate_for_march(rooftop, march, people):
    specialist, manager = people
    for facts in facts_both_ways([rooftop.pk], *MARCH):
        assert facts.by_dim("two_day") == {
            "in_time": (4, 0),
            "late": (1, 0),
            "failed": (1, 0),
            "open": (1, 0),
        }
        # in time / (in time + late + failed + overdue) = 4 / 7
        assert kpis.two_day_in_time_rate(facts) == Decimal("0.5714")
        assert kpis.two_day_in_time_rate(facts, specialist.pk) == Decimal("0.6000")  # 3 / 5
        assert kpis.two_day_in_time_rate(facts, manager.pk) == Decimal("0.5000")  # 1 / 2
        assert kpis.two_day_in_time_rate(facts, 999_999) is None


def test_open_follow_ups_from_today_on_are_not_judged(rooftop, march):
    """Today is April 1st: the open follow-up whose window ends today is left out, the ones done are in."""
    first, last, today = datetime.date(2026, 3, 20), datetime.date(2026, 4, 5), datetime.date(2026, 4, 1)
    raw = rollups.raw_facts(kpis.METRICS, [rooftop.pk], first, last)
    rollups.refresh()
    read = rollups.read_periods(kpis.METRICS, [rooftop.pk], {"c": (first, last), "pending": (today, last)})
    assert raw == read["c"]
    assert read["pending"].by_dim("two_day") == {"open": (1, 0)}
    # in time: manager_in_time, in_time_2, last_minute; open from today on: april
    assert kpis.two_day_in_time_rate(read["c"], pending=read["pending"]) == Decimal("1.0000")
    assert kpis.two_day_in_time_rate(read["c"]) == Decimal("0.7500")  # 3 / 4 when april counted overdue


def test_contact_success_rate_for_march(rooftop, march, people):
    specialist, manager = people
    for facts in facts_both_ways([rooftop.pk], *MARCH):
        assert facts.n("contact_attempts") == 9
        assert facts.n("contact_attempts", Outcome.NO_ANSWER) == 2  # April 1st's is not March's
        # spoken to / calls: specialist 5 / 7 (reached twice, booked, call back, refused), manager 1 / 2
        assert kpis.contact_success_rate(facts) == Decimal("0.6667")
        assert kpis.contact_success_rate(facts, specialist.pk) == Decimal("0.7143")
        assert kpis.contact_success_rate(facts, manager.pk) == Decimal("0.5000")


def test_the_other_rooftop_and_an_empty_period(rooftop, other_rooftop, march):
    for facts in facts_both_ways([other_rooftop.pk], *MARCH):
        assert kpis.two_day_in_time_rate(facts) == Decimal("1.0000")
        assert kpis.contact_success_rate(facts) == Decimal("1.0000")
    for facts in facts_both_ways([rooftop.pk], datetime.date(2025, 1, 1), datetime.date(2025, 1, 31)):
        assert facts.counters == {}
        assert kpis.two_day_in_time_rate(facts) is None
        assert kpis.contact_success_rate(facts) is None


def test_a_month_and_days_read_from_the_rollups_equal_the_raw_rows(rooftop, other_rooftop, march):
    """March from its monthly rows, April's days from the daily ones, both rooftops; the other one keeps Tokyo
    time, so the two rooftops' days overlap and an attempt lies in both (it counts once, for its own)."""
    Dealership.objects.filter(pk=other_rooftop.pk).update(time_zone="Asia/Tokyo")
    first, last = datetime.date(2026, 3, 1), datetime.date(2026, 4, 3)
    rooftops = [rooftop.pk, other_rooftop.pk]
    raw, read = facts_both_ways(rooftops, first, last)
    assert kpis.two_day_in_time_rate(read) == Decimal("0.5556")  # 5 / 9 (april open, elsewhere in time)
    assert read.n("contact_attempts") == 11  # March's 9, April 1st's, the other rooftop's
    rollups.rebuild(rooftops, first, last)  # every day of both rooftops at once
    assert rollups.read_periods(kpis.METRICS, rooftops, {"c": (first, last)})["c"] == raw
    assert (
        rollups.raw_facts(kpis.METRICS, rooftops, first, last, staff_ids=[0])
        == rollups.read_periods(kpis.METRICS, rooftops, {"c": (first, last)}, staff_ids=[0])["c"]
    )


def test_a_later_write_changes_the_figure_after_the_next_refresh(rooftop, march, people):
    specialist, _manager = people
    facts_both_ways([rooftop.pk], *MARCH)
    FollowUp.objects.filter(pk=march["overdue"].pk).update(status=FollowUpStatus.DONE, done_at=at(3, 14))
    Attempt.objects.filter(followup=march["overdue"], outcome=Outcome.WRONG_NUMBER).update(outcome=Outcome.REACHED)
    stale = rollups.read_periods(kpis.METRICS, [rooftop.pk], {"c": MARCH})["c"]
    assert kpis.two_day_in_time_rate(stale) == Decimal("0.5714")
    assert kpis.contact_success_rate(stale, specialist.pk) == Decimal("0.7143")
    for facts in facts_both_ways([rooftop.pk], *MARCH):
        assert kpis.two_day_in_time_rate(facts) == Decimal("0.7143")  # 5 / 7
        assert kpis.contact_success_rate(facts, specialist.pk) == Decimal("0.8571")  # 6 / 7


def test_only_two_day_follow_ups_log_stale_days(rooftop, customer):
    """Claims and updates of other follow-ups (campaign calls have windows too) leave the rollups alone."""
    rollups.refresh()
    campaign_call = two_day(customer, at(3, 5), FollowUpStatus.QUEUED, kind=FollowUpKind.CAMPAIGN_CALL)
    FollowUp.objects.filter(pk=campaign_call.pk).update(status=FollowUpStatus.IN_PROGRESS)
    assert rollups.refresh() == 0
    two_day(customer, at(3, 5), FollowUpStatus.QUEUED)
    assert rollups.refresh() == 1
