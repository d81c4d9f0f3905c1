"""CRM KPIs (crm/kpis.py) on hand-built data: CSI and complaints over March from the raw rows and from the
rollups, the complaints open now, the nightly retention snapshot against ``crm.retention`` computed directly,
and the win-back campaigns' results."""

import datetime
import itertools
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType

from crm import kpis, retention
from crm.campaigns import campaign_results
from crm.choices import CampaignStatus, ComplaintStatus, Role, SurveyKind, SurveyStatus, VoucherKind, VoucherStatus
from crm.models import (
    Campaign,
    Complaint,
    Dealership,
    Questionnaire,
    Segment,
    SurveyResponse,
    Vehicle,
    Voucher,
    VoucherType,
)
from crm.tasks import snapshot_retention
from dms import rollups
from dms.models import KpiRollup
from followup.choices import FollowUpKind, FollowUpStatus, Outcome
from followup.models import FollowUp

from ..factories import CustomerFactory
from .test_retention import car, local, visit

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
_serial = itertools.count(1)


def at(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def facts_both_ways(rooftops, first, last):
    """The counters computed from the raw rows, and read from the rollups after a refresh: always equal."""
    raw = rollups.raw_facts(kpis.METRICS, rooftops, first, last)
    rollups.refresh()
    read = rollups.read_periods(kpis.METRICS, rooftops, {"c": (first, last)})["c"]
    assert raw == read
    return raw, read


@pytest.fixture
def people(staff):
    return staff[Role.SERVICE_ADVISOR], staff[Role.SALES_CONSULTANT], staff[Role.CUSTOMER_SPECIALIST]


# --- CSI ---------------------------------------------------------------------------------------------


def survey(customer, staff, score, answered_at, status=SurveyStatus.ANSWERED):
    questionnaire, _created = Questionnaire.objects.get_or_create(
        dealership=customer.dealership, kind=SurveyKind.SERVICE_VISIT, defaults={"name": "售后满意度"}
    )
    return SurveyResponse.objects.create(
        dealership=customer.dealership,
        questionnaire=questionnaire,
        customer=customer,
        subject_type=ContentType.objects.get_for_model(Vehicle),
        subject_id=next(_serial),
        staff=staff,
        status=status,
        expires_at=at(12, 31),
        answered_at=answered_at,
        score=score,
    )


@pytest.fixture
def surveys(customer, other_rooftop, people):
    advisor, consultant, _specialist = people
    for staff, score, answered_at in (
        (advisor, "95.0", at(3, 2)),
        (advisor, "85.5", at(3, 3)),
        (advisor, "59.9", at(3, 4)),
        (consultant, "72.0", at(3, 5)),
        (consultant, "60.0", at(3, 6)),
        (consultant, "100.0", at(3, 31, 23, 59)),  # March 31st in Shanghai
        (consultant, "10.0", at(4, 1, 0, 0)),  # April 1st in Shanghai (March 31st in UTC)
        (advisor, None, at(3, 7)),  # answered with no scored question: no score
    ):
        survey(customer, staff, score and Decimal(score), answered_at)
    survey(customer, advisor, None, None, status=SurveyStatus.SENT)
    survey(CustomerFactory(dealership=other_rooftop), advisor, Decimal("50.0"), at(3, 5))


def test_csi_for_march(rooftop, surveys, people):
    advisor, consultant, specialist = people
    for facts in facts_both_ways([rooftop.pk], *MARCH):
        # (95 + 85.5 + 59.9 + 72 + 60 + 100) / 6 = 78.73
        assert kpis.csi_average(facts) == Decimal("78.7")
        assert kpis.csi_distribution(facts) == {"0-59": 1, "60-69": 1, "70-79": 1, "80-89": 1, "90-100": 2}
        assert kpis.csi_average(facts, advisor.pk) == Decimal("80.1")  # 240.4 / 3
        assert kpis.csi_average(facts, consultant.pk) == Decimal("77.3")  # 232 / 3
        assert kpis.csi_distribution(facts, advisor.pk) == {"0-59": 1, "60-69": 0, "70-79": 0, "80-89": 1, "90-100": 1}
        assert kpis.csi_average(facts, specialist.pk) is None
        assert kpis.csi_distribution(facts, specialist.pk) == dict.fromkeys(kpis.csi_distribution(facts), 0)


def test_csi_of_april_the_other_rooftop_and_an_empty_period(rooftop, other_rooftop, surveys):
    for facts in facts_both_ways([rooftop.pk], datetime.date(2026, 4, 1), datetime.date(2026, 4, 30)):
        assert kpis.csi_average(facts) == Decimal("10.0")
        assert kpis.csi_distribution(facts)["0-59"] == 1
    for facts in facts_both_ways([other_rooftop.pk], *MARCH):
        assert kpis.csi_average(facts) == Decimal("50.0")
    for facts in facts_both_ways([rooftop.pk], datetime.date(2025, 3, 1), datetime.date(2025, 3, 31)):
        assert kpis.csi_average(facts) is None
        assert set(kpis.csi_distribution(facts).values()) == {0}


# --- complaints --------------------------------------------------------------------------------------


def complaint(customer, owner, created_at, status=ComplaintStatus.RECEIVED, closed_at=None, category="waiting"):
    row = Complaint.objects.create(
        dealership=customer.dealership,
        customer=customer,
        source="phone",
        category=category,
        description="等待时间太长",
        owner=owner,
        status=status,
        due_at=created_at + datetime.timedelta(days=1),
        closed_at=closed_at,
    )
    Complaint.objects.filter(pk=row.pk).update(created_at=created_at)
    return row


@pytest.fixture
def complaints(customer, other_rooftop, staff):
    specialist, manager = staff[Role.CUSTOMER_SPECIALIST], staff[Role.MANAGER]
    closed = ComplaintStatus.CLOSED
    return {
        "two_days": complaint(customer, specialist, at(3, 1), closed, at(3, 3), category="service_quality"),
        "same_day": complaint(customer, specialist, at(3, 5, 8), closed, at(3, 5, 20, 30)),
        "from_february": complaint(customer, None, at(2, 20), closed, at(3, 2), category="price"),
        "open": complaint(customer, manager, at(3, 10), ComplaintStatus.INVESTIGATING),
        "last_minute": complaint(customer, None, at(3, 31, 23, 59)),
        "april": complaint(customer, None, at(4, 1, 0, 0)),
        "elsewhere": complaint(CustomerFactory(dealership=other_rooftop), None, at(3, 5)),
    }


def test_complaints_received_and_resolved_in_march(rooftop, complaints, staff):
    specialist, manager, consultant = (
        staff[role] for role in (Role.CUSTOMER_SPECIALIST, Role.MANAGER, Role.SALES_CONSULTANT)
    )
    for facts in facts_both_ways([rooftop.pk], *MARCH):
        assert kpis.complaints_received(facts) == 4  # two_days, same_day, open, last_minute
        assert kpis.complaints_received(facts, specialist.pk) == 2
        assert kpis.complaints_received(facts, manager.pk) == 1
        assert kpis.complaints_received(facts, 0) == 1  # last_minute has no owner
        assert facts.by_dim("complaints_received") == {"service_quality": (1, 0), "waiting": (3, 0)}
        # closed in March: 48 h, 12.5 h and (from February 20th) 240 h
        assert kpis.mean_resolution_hours(facts) == Decimal("100.2")  # 300.5 / 3
        assert kpis.mean_resolution_hours(facts, specialist.pk) == Decimal("30.3")  # 60.5 / 2, half up
        assert kpis.mean_resolution_hours(facts, 0) == Decimal("240.0")
        assert kpis.mean_resolution_hours(facts, consultant.pk) is None
        assert kpis.complaints_received(facts, consultant.pk) == 0
    for facts in facts_both_ways([rooftop.pk], datetime.date(2025, 3, 1), datetime.date(2025, 3, 31)):
        assert kpis.complaints_received(facts) == 0
        assert kpis.mean_resolution_hours(facts) is None
    for facts in facts_both_ways([rooftop.pk], datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)):
        assert kpis.complaints_received(facts) == 1
        assert kpis.mean_resolution_hours(facts) is None


def test_closing_a_complaint_changes_the_figures_after_the_next_refresh(rooftop, complaints):
    facts_both_ways([rooftop.pk], *MARCH)
    Complaint.objects.filter(pk=complaints["open"].pk).update(status=ComplaintStatus.CLOSED, closed_at=at(3, 20))
    stale = rollups.read_periods(kpis.METRICS, [rooftop.pk], {"c": MARCH})["c"]
    assert kpis.mean_resolution_hours(stale) == Decimal("100.2")
    for facts in facts_both_ways([rooftop.pk], *MARCH):
        assert kpis.mean_resolution_hours(facts) == Decimal("135.1")  # (300.5 + 240) / 4


def test_open_complaints_now(rooftop, other_rooftop, complaints, staff, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = kpis.open_complaints([rooftop.pk])
    assert counts == {
        "received": 2,  # last_minute, april
        "investigating": 1,
        "solution_agreed": 0,
        "implemented": 0,
        "callback_done": 0,
    }
    assert kpis.open_complaints([rooftop.pk, other_rooftop.pk])["received"] == 3
    assert kpis.open_complaints([rooftop.pk], owner=staff[Role.MANAGER].pk) == {
        **dict.fromkeys(counts, 0),
        "investigating": 1,
    }


# --- retention snapshot ------------------------------------------------------------------------------


def figures_of(dealership):
    """The figures ``crm.retention`` computes now, both ways, as the snapshot stores them."""
    window = retention.retention_window(dealership=dealership)
    figures = retention.retention_figures(window)
    overview, _page = retention.retention_overview(window)
    for one in (figures, overview):
        assert (one.total.base, one.total.returned, one.total.lost, one.newer) == (
            figures.total.base,
            figures.total.returned,
            figures.total.lost,
            figures.newer,
        )
    return {
        "base": figures.total.base,
        "returned": figures.total.returned,
        "lost": figures.total.lost,
        "newer": figures.newer,
        "return_rate": figures.total.return_rate,
        "lost_customers": figures.total.lost,
    }


@pytest.fixture
def fleet(rooftop, other_rooftop):
    """Shanghai, N = 12; the other rooftop keeps Los Angeles time, a day behind Shanghai's early morning."""
    Dealership.objects.filter(pk=other_rooftop.pk).update(time_zone="America/Los_Angeles")
    d = datetime.date
    v = {
        "returned": car(rooftop, "Lavida", "own", d(2023, 1, 10)),
        "lost_before_cutoff": car(rooftop, "Lavida", "own", d(2023, 5, 1)),
        "never_seen": car(rooftop, "Lavida", "secondary", d(2024, 2, 1)),
        "newer": car(rooftop, "Tiguan", "secondary", d(2026, 1, 1)),
        "ownerless": car(rooftop, "Lavida", "own", d(2021, 1, 1), owner=False),
        "only_cancelled": car(rooftop, "Passat", "own", d(2022, 1, 1)),
        "returned_at_the_edge": car(rooftop, "Passat", "own", d(2022, 1, 1)),
        "elsewhere": car(other_rooftop, "Lavida", "own", d(2020, 1, 1)),
    }
    visit(v["returned"], local(2026, 1, 10))
    visit(v["lost_before_cutoff"], local(2025, 6, 14, 23))
    visit(v["only_cancelled"], local(2026, 3, 1), status="cancelled")
    visit(v["returned_at_the_edge"], local(2025, 6, 16, 0, 30))
    visit(v["elsewhere"], local(2026, 5, 1))
    return v


FIRST_NIGHT = datetime.datetime(2026, 6, 15, 2, 20, tzinfo=SHANGHAI)  # June 14th in Los Angeles
SECOND_NIGHT = datetime.datetime(2026, 6, 16, 2, 20, tzinfo=SHANGHAI)  # June 15th in Los Angeles
JUNE = {day: datetime.date(2026, 6, day) for day in (13, 14, 15, 16)}


def test_the_nightly_snapshot_equals_the_retention_figures(rooftop, other_rooftop, fleet, django_assert_num_queries):
    assert snapshot_retention.name == "crm.snapshot_retention"
    with time_machine.travel(FIRST_NIGHT, tick=False):
        assert snapshot_retention() == Dealership.objects.count() == 2
        first = figures_of(rooftop)
    # base: every owned car on file by 2025-06-15 but "newer"; returned: a visit since 2025-06-15 00:00
    assert first == {
        "base": 5,
        "returned": 2,
        "lost": 3,
        "newer": 1,
        "return_rate": Decimal("0.4000"),
        "lost_customers": 3,
    }
    stored = KpiRollup.objects.filter(grain="s", metric="retention")
    assert set(stored.values_list("dealership_id", "day", "dim", "n")) == {
        *((rooftop.pk, JUNE[15], dim, first[dim]) for dim in ("base", "returned", "lost", "newer")),
        *((other_rooftop.pk, JUNE[14], dim, n) for dim, n in (("base", 1), ("returned", 1), ("lost", 0), ("newer", 0))),
    }
    with django_assert_num_queries(1):
        snapshot = kpis.retention_snapshot([rooftop.pk], JUNE[15])
    assert snapshot == {**first, "as_of": JUNE[15]}

    visit(fleet["never_seen"], local(2026, 6, 15, 13))
    with time_machine.travel(SECOND_NIGHT, tick=False):
        snapshot_retention()
        second = figures_of(rooftop)
        assert (second["returned"], second["lost"]) == (3, 2)  # never_seen came back
        visit(fleet["only_cancelled"], local(2026, 6, 16, 1))
        snapshot_retention()  # again the same night: that day's rows are replaced
        second = figures_of(rooftop)
        elsewhere = figures_of(other_rooftop)
    assert (second["returned"], second["lost"], second["return_rate"]) == (4, 1, Decimal("0.8000"))
    assert stored.filter(dealership_id=rooftop.pk, day=JUNE[16]).count() == 4
    assert kpis.retention_snapshot([rooftop.pk], JUNE[16]) == {**second, "as_of": JUNE[16]}
    assert kpis.retention_snapshot([rooftop.pk], datetime.date(2026, 7, 1)) == {**second, "as_of": JUNE[16]}
    assert kpis.retention_snapshot([rooftop.pk], JUNE[15]) == {**first, "as_of": JUNE[15]}
    both = kpis.retention_snapshot([rooftop.pk, other_rooftop.pk], JUNE[16])
    assert both["as_of"] == JUNE[15]  # Los Angeles' latest night is June 15th
    assert (both["base"], both["returned"], both["lost"], both["newer"]) == (
        second["base"] + elsewhere["base"],
        second["returned"] + elsewhere["returned"],
        second["lost"] + elsewhere["lost"],
        second["newer"] + elsewhere["newer"],
    )
    assert both["return_rate"] == Decimal("0.8333")  # 5 / 6
    assert kpis.retention_snapshot([rooftop.pk], JUNE[13]) == {
        "base": 0,
        "returned": 0,
        "lost": 0,
        "newer": 0,
        "return_rate": None,
        "lost_customers": 0,
        "as_of": None,
    }


# --- win-back ----------------------------------------------------------------------------------------


def campaign(rooftop, voucher_type, starts_on, status=CampaignStatus.FINISHED):
    segment = Segment.objects.create(dealership=rooftop, name=f"流失客户 {next(_serial)}", criteria={"visits_max": 0})
    return Campaign.objects.create(
        dealership=rooftop,
        name="老客户回厂关怀",
        segment=segment,
        voucher_type=voucher_type,
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=29),
        status=status,
    )


def contact(campaign, status, outcome="", redeemed_amount=None):
    """One customer of the campaign: the voucher it gave them, and the call about it."""
    customer = CustomerFactory(dealership=campaign.dealership)
    redeemed = redeemed_amount is not None
    voucher = Voucher.objects.create(
        dealership=campaign.dealership,
        voucher_type=campaign.voucher_type,
        customer=customer,
        campaign=campaign,
        code=f"WB{next(_serial):08d}",
        value=Decimal("300.00"),
        valid_from=campaign.starts_on,
        valid_until=campaign.ends_on + datetime.timedelta(days=90),
        status=VoucherStatus.REDEEMED if redeemed else VoucherStatus.ISSUED,
        redeemed_at=at(3, 20) if redeemed else None,
        redeemed_amount=redeemed_amount,
    )
    FollowUp.objects.create(
        dealership=campaign.dealership,
        kind=FollowUpKind.CAMPAIGN_CALL,
        customer=customer,
        subject_type=ContentType.objects.get_for_model(Voucher),
        subject_id=voucher.pk,
        due_at=at(3, 2),
        status=status,
        outcome=outcome,
        data={"campaign_id": campaign.pk, "voucher_id": voucher.pk},
    )


@pytest.fixture
def win_back_campaigns(rooftop, other_rooftop):
    win_back = VoucherType.objects.create(dealership=rooftop, kind=VoucherKind.WIN_BACK, name="回厂礼券", value="300")
    loyalty = VoucherType.objects.create(dealership=rooftop, kind=VoucherKind.LOYALTY, name="会员券", value="200")
    done, failed = FollowUpStatus.DONE, FollowUpStatus.FAILED
    main = campaign(rooftop, win_back, datetime.date(2026, 3, 2))
    contact(main, done, Outcome.REACHED, Decimal("1000.00"))
    contact(main, done, Outcome.BOOKED)
    contact(main, failed, Outcome.NO_ANSWER, Decimal("500.50"))  # came back all the same
    contact(main, FollowUpStatus.SCHEDULED)
    running = campaign(rooftop, win_back, datetime.date(2026, 3, 25), status=CampaignStatus.RUNNING)
    contact(running, FollowUpStatus.QUEUED)
    # not counted: another kind of campaign, a draft, one that started before March, another rooftop
    contact(campaign(rooftop, loyalty, datetime.date(2026, 3, 10)), done, Outcome.REACHED, Decimal("800.00"))
    campaign(rooftop, win_back, datetime.date(2026, 3, 15), status=CampaignStatus.DRAFT)
    contact(campaign(rooftop, win_back, datetime.date(2026, 2, 28)), done, Outcome.REACHED, Decimal("700.00"))
    elsewhere_type = VoucherType.objects.create(
        dealership=other_rooftop, kind=VoucherKind.WIN_BACK, name="回厂礼券", value="300"
    )
    contact(campaign(other_rooftop, elsewhere_type, datetime.date(2026, 3, 5)), done, Outcome.REACHED, Decimal("9"))
    return main


def test_win_back_figures(rooftop, win_back_campaigns, django_assert_num_queries):
    with django_assert_num_queries(1):
        figures = kpis.win_back([rooftop.pk], *MARCH)
    assert figures == {
        "campaigns": 2,
        "targeted": 5,
        "contacted": 2,  # reached, booked
        "booked": 1,
        "vouchers_redeemed": 2,
        "revenue": Decimal("1500.50"),
        "win_back_rate": Decimal("0.4000"),  # 2 / 5
    }
    main = campaign_results(campaign=win_back_campaigns)
    one = kpis.win_back([rooftop.pk], datetime.date(2026, 3, 1), datetime.date(2026, 3, 20))
    assert (one["targeted"], one["contacted"], one["booked"], one["vouchers_redeemed"], one["revenue"]) == (
        main.contacts,
        main.contacted,
        main.booked,
        main.vouchers_redeemed,
        main.revenue,
    )
    assert one["win_back_rate"] == Decimal("0.5000")
    assert kpis.win_back([rooftop.pk], datetime.date(2026, 4, 1), datetime.date(2026, 4, 30)) == {
        "campaigns": 0,
        "targeted": 0,
        "contacted": 0,
        "booked": 0,
        "vouchers_redeemed": 0,
        "revenue": Decimal("0.00"),
        "win_back_rate": None,
    }
