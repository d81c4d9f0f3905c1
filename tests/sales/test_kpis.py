"""Sales KPIs (sales/kpis.py) on a hand-built month, computed from the raw rows and from the rollups."""

import datetime
import itertools
import zoneinfo
from decimal import Decimal
from types import SimpleNamespace

import pytest

from crm.choices import Role
from dms import rollups
from dms.models import KpiDirty
from sales import kpis
from sales.choices import LostReview, OrderStatus, Stage
from sales.choices import TestDriveStatus as DriveStatus
from sales.models import Activity, DemoVehicle, Lead, LostReason, Order, Quote, StockVehicle
from sales.models import TestDrive as Drive

from ..factories import CustomerFactory, UserFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
_serial = itertools.count(1)


def at(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def make_lead(rooftop, owner, created_at, source="walk_in", **fields):
    lead = Lead.objects.create(
        dealership=rooftop, customer=CustomerFactory(dealership=rooftop), owner=owner, source=source, **fields
    )
    Lead.objects.filter(pk=lead.pk).update(created_at=created_at)
    return lead


def make_drive(lead, status, starts_at=None):
    demo = DemoVehicle.objects.get_or_create(
        dealership=lead.dealership, vin=f"LSVDEMO{lead.dealership_id:010d}", defaults={"model": "ID.4", "plate": "试"}
    )[0]
    starts_at = starts_at or at(3, 1) + datetime.timedelta(hours=next(_serial))
    return Drive.objects.create(
        dealership=lead.dealership,
        lead=lead,
        demo_vehicle=demo,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=30),
        licence_number="310101199001011234",
        licence_expires_on=datetime.date(2030, 1, 1),
        status=status,
    )


def make_order(lead, created_at, status=OrderStatus.CONTRACTED, delivered_at=None):
    serial = next(_serial)
    price = Decimal("200000.00")
    quote = Quote.objects.create(
        dealership=lead.dealership, lead=lead, version=serial, model="Tiguan L", list_price=price, total=price
    )
    car = StockVehicle.objects.create(
        dealership=lead.dealership, vin=f"LSVKPI{serial:011d}", make="Volkswagen", model="Tiguan L", list_price=price
    )
    order = Order.objects.create(
        dealership=lead.dealership,
        number=f"KPI-{serial}",
        lead=lead,
        customer=lead.customer,
        quote=quote,
        stock_vehicle=car,
        consultant=lead.owner,
        total=price,
        deposit=Decimal("10000.00"),
        status=status,
        delivered_at=delivered_at,
    )
    Order.objects.filter(pk=order.pk).update(created_at=created_at)
    return order


def visit(lead, actor, occurred_at, kind="visit"):
    return Activity.objects.create(
        dealership=lead.dealership, lead=lead, kind=kind, actor=actor, occurred_at=occurred_at
    )


def lost(reason):
    return {"stage": Stage.LOST, "lost_review": LostReview.APPROVED, "lost_reason": reason}


@pytest.fixture
def month(rooftop, other_rooftop, consultant):
    """March 2026 at ``rooftop`` (Asia/Shanghai), consultants A and B:

    =====  =====  ========  =============  ============================================================
    lead   owner  source    created        since
    =====  =====  ========  =============  ============================================================
    L0     B      walk_in   02-20 10:00    order 03-12 10:00 (20 days), delivered 03-20
    L1     A      walk_in   03-02 10:00    test drive done; order 03-04 10:00 (2 days), delivered 03-10
    L2     A      phone     03-03 23:30    test drive done, another cancelled
    L3     B      web       03-04 00:30    test drive booked only; order 03-05 12:30 (1.5 days), delivered
                                           04-02
    L4     B      walk_in   03-05          lost (R1)
    L5     A      walk_in   03-06          lost (R2)
    L6     B      web       03-07          lost (R1)
    L7     A      phone     03-07          lost applied, not yet approved
    L8     B      walk_in   03-08          test drive done; order 03-09 cancelled
    L9     A      event     03-31 23:30
    L10    A      event     04-01 00:30
    =====  =====  ========  =============  ============================================================

    Visits: A 03-01 00:10 and 03-02; B 02-28 23:30 and 03-05; a call by A on 03-06. The other rooftop
    has a lead with a test drive, an order delivered and a visit in March.
    """
    a = consultant
    b = UserFactory(username="consultant_b", role=Role.SALES_CONSULTANT, rooftops=[rooftop])
    r1 = LostReason.objects.create(dealership=rooftop, name="价格")
    r2 = LostReason.objects.create(dealership=rooftop, name="竞品")
    leads = {
        "L0": make_lead(rooftop, b, at(2, 20), stage=Stage.DELIVERED),
        "L1": make_lead(rooftop, a, at(3, 2), stage=Stage.DELIVERED),
        "L2": make_lead(rooftop, a, at(3, 3, 23, 30), "phone", stage=Stage.TEST_DRIVEN),
        "L3": make_lead(rooftop, b, at(3, 4, 0, 30), "web", stage=Stage.DELIVERED),
        "L4": make_lead(rooftop, b, at(3, 5), **lost(r1)),
        "L5": make_lead(rooftop, a, at(3, 6), **lost(r2)),
        "L6": make_lead(rooftop, b, at(3, 7), "web", **lost(r1)),
        "L7": make_lead(
            rooftop, a, at(3, 7), "phone", stage=Stage.NEGOTIATING, lost_review=LostReview.APPLIED, lost_reason=r2
        ),
        "L8": make_lead(rooftop, b, at(3, 8), stage=Stage.TEST_DRIVEN),
        "L9": make_lead(rooftop, a, at(3, 31, 23, 30), "event"),
        "L10": make_lead(rooftop, a, at(4, 1, 0, 30), "event"),
    }
    orders = {
        "L0": make_order(leads["L0"], at(3, 12), OrderStatus.DELIVERED, at(3, 20)),
        "L1": make_order(leads["L1"], at(3, 4), OrderStatus.DELIVERED, at(3, 10, 15)),
        "L3": make_order(leads["L3"], at(3, 5, 12, 30), OrderStatus.DELIVERED, at(4, 2)),
        "L8": make_order(leads["L8"], at(3, 9), OrderStatus.CANCELLED),
    }
    make_drive(leads["L1"], DriveStatus.DONE)
    make_drive(leads["L2"], DriveStatus.DONE)
    make_drive(leads["L2"], DriveStatus.CANCELLED)
    make_drive(leads["L3"], DriveStatus.BOOKED)
    make_drive(leads["L8"], DriveStatus.DONE)
    visit(leads["L0"], a, at(3, 1, 0, 10))
    visit(leads["L1"], a, at(3, 2, 11))
    visit(leads["L0"], b, at(2, 28, 23, 30))
    visit(leads["L4"], b, at(3, 5))
    visit(leads["L5"], a, at(3, 6, 11), kind="call")
    elsewhere = make_lead(other_rooftop, a, at(3, 2))
    make_drive(elsewhere, DriveStatus.DONE)
    make_order(elsewhere, at(3, 3), OrderStatus.DELIVERED, at(3, 5))
    visit(elsewhere, a, at(3, 2))
    return SimpleNamespace(rooftop=rooftop, a=a.pk, b=b.pk, r1=r1.pk, r2=r2.pk, leads=leads, orders=orders)


def both_ways(rooftop, periods, staff_ids=None):
    """Each period's facts from the raw rows and, after a refresh, from the rollups (which must agree)."""
    raw = {
        label: rollups.raw_facts(kpis.METRICS, [rooftop.pk], first, last, staff_ids)
        for label, (first, last) in periods.items()
    }
    rollups.refresh()
    rolled = rollups.read_periods(kpis.METRICS, [rooftop.pk], periods, staff_ids)
    assert rolled == raw
    return raw, rolled


def figures(facts, staff=None):
    return {
        name: getattr(kpis, name)(facts, staff)
        for name in (
            "leads_by_source",
            "leads",
            "visits",
            "lead_to_test_drive_rate",
            "test_drive_to_order_rate",
            "close_rate",
            "lost_rate",
            "top_lost_reasons",
            "days_lead_to_order",
            "orders",
            "deliveries",
            "deliveries_per_consultant",
            "funnel",
        )
    }


def sources(**counts):
    return {
        source: counts.get(source, 0)
        for source in ("walk_in", "phone", "web", "referral", "event", "secondary", "other")
    }


def expected_march(m):
    return {
        None: {
            "leads_by_source": sources(walk_in=4, phone=2, web=2, event=1),
            "leads": 9,
            "visits": 3,
            "lead_to_test_drive_rate": Decimal("0.3333"),  # L1 L2 L8 / L1–L9
            "test_drive_to_order_rate": Decimal("0.3333"),  # L1 / L1 L2 L8
            "close_rate": Decimal("0.2222"),  # L1 L3
            "lost_rate": Decimal("0.3333"),  # L4 L5 L6
            "top_lost_reasons": [(m.r1, 2), (m.r2, 1)],
            "days_lead_to_order": Decimal("7.8"),  # (2 + 1.5 + 20) / 3
            "orders": 3,
            "deliveries": 2,  # L1 on 03-10, L0 on 03-20 (L3's on 04-02)
            "deliveries_per_consultant": {m.a: 1, m.b: 1},
            "funnel": [("leads", 9), ("test_driven", 3), ("ordered", 2), ("delivered", 2)],
        },
        m.a: {
            "leads_by_source": sources(walk_in=2, phone=2, event=1),
            "leads": 5,
            "visits": 2,
            "lead_to_test_drive_rate": Decimal("0.4000"),
            "test_drive_to_order_rate": Decimal("0.5000"),
            "close_rate": Decimal("0.2000"),
            "lost_rate": Decimal("0.2000"),
            "top_lost_reasons": [(m.r2, 1)],
            "days_lead_to_order": Decimal("2.0"),
            "orders": 1,
            "deliveries": 1,
            "deliveries_per_consultant": {m.a: 1},
            "funnel": [("leads", 5), ("test_driven", 2), ("ordered", 1), ("delivered", 1)],
        },
        m.b: {
            "leads_by_source": sources(walk_in=2, web=2),
            "leads": 4,
            "visits": 1,
            "lead_to_test_drive_rate": Decimal("0.2500"),
            "test_drive_to_order_rate": Decimal("0.0000"),
            "close_rate": Decimal("0.2500"),
            "lost_rate": Decimal("0.5000"),
            "top_lost_reasons": [(m.r1, 2)],
            "days_lead_to_order": Decimal("10.8"),  # (1.5 + 20) / 2 = 10.75, half up
            "orders": 2,
            "deliveries": 1,
            "deliveries_per_consultant": {m.b: 1},
            "funnel": [("leads", 4), ("test_driven", 1), ("ordered", 1), ("delivered", 1)],
        },
    }


def test_every_kpi_of_the_month_from_raw_rows_and_rollups(month):
    raw, rolled = both_ways(month.rooftop, {"c": MARCH})
    for staff, expected in expected_march(month).items():
        assert figures(raw["c"], staff) == expected, staff
        assert figures(rolled["c"], staff) == expected, staff


def test_a_consultants_own_figures_read_with_the_staff_filter(month):
    raw, rolled = both_ways(month.rooftop, {"c": MARCH}, staff_ids=[month.b])
    assert figures(raw["c"]) == figures(rolled["c"]) == expected_march(month)[month.b]


def test_days_and_part_months_read_from_daily_rollups(month):
    periods = {
        "feb28": (datetime.date(2026, 2, 28),) * 2,
        "mar1": (datetime.date(2026, 3, 1),) * 2,
        "mar3": (datetime.date(2026, 3, 3),) * 2,
        "mar4": (datetime.date(2026, 3, 4),) * 2,
        "mar31": (datetime.date(2026, 3, 31),) * 2,
        "apr1": (datetime.date(2026, 4, 1),) * 2,
        "first_half": (datetime.date(2026, 3, 1), datetime.date(2026, 3, 15)),
        "feb_to_apr": (datetime.date(2026, 2, 1), datetime.date(2026, 4, 30)),
    }
    raw, rolled = both_ways(month.rooftop, periods)
    for facts in (raw, rolled):
        # a visit at 23:30 and one at 00:10 local fall on their own local days (UTC: both 02-28)
        assert (kpis.visits(facts["feb28"]), kpis.visits(facts["mar1"])) == (1, 1)
        # L2 at 23:30 on 03-03, L3 at 00:30 on 03-04 (15:30 and 16:30 UTC on 03-03)
        assert kpis.leads_by_source(facts["mar3"]) == sources(phone=1)
        assert kpis.leads_by_source(facts["mar4"]) == sources(web=1)
        assert kpis.orders(facts["mar4"]) == 1  # L1's order
        assert kpis.leads_by_source(facts["mar31"]) == kpis.leads_by_source(facts["apr1"]) == sources(event=1)
        assert kpis.funnel(facts["first_half"]) == [("leads", 8), ("test_driven", 3), ("ordered", 2), ("delivered", 2)]
        assert (kpis.orders(facts["first_half"]), kpis.deliveries(facts["first_half"])) == (3, 1)
        assert kpis.funnel(facts["feb_to_apr"]) == [("leads", 11), ("test_driven", 3), ("ordered", 3), ("delivered", 3)]
        assert kpis.deliveries_per_consultant(facts["feb_to_apr"]) == {month.a: 1, month.b: 2}


def test_an_empty_period_has_no_ratios_and_zero_counts(month):
    raw, rolled = both_ways(month.rooftop, {"c": (datetime.date(2025, 1, 1), datetime.date(2025, 1, 31))})
    for facts in (raw["c"], rolled["c"]):
        assert figures(facts) == {
            "leads_by_source": sources(),
            "leads": 0,
            "visits": 0,
            "lead_to_test_drive_rate": None,
            "test_drive_to_order_rate": None,
            "close_rate": None,
            "lost_rate": None,
            "top_lost_reasons": [],
            "days_lead_to_order": None,
            "orders": 0,
            "deliveries": 0,
            "deliveries_per_consultant": {},
            "funnel": [("leads", 0), ("test_driven", 0), ("ordered", 0), ("delivered", 0)],
        }


def test_the_other_rooftop_counts_its_own_rows_only(month, other_rooftop):
    facts = rollups.raw_facts(kpis.METRICS, [other_rooftop.pk], *MARCH)
    assert kpis.funnel(facts) == [("leads", 1), ("test_driven", 1), ("ordered", 1), ("delivered", 1)]
    assert (kpis.visits(facts), kpis.orders(facts), kpis.deliveries(facts)) == (1, 1, 1)
    both = rollups.raw_facts(kpis.METRICS, [month.rooftop.pk, other_rooftop.pk], *MARCH)
    assert kpis.leads(both) == 10


def stale_days(rooftop):
    return set(KpiDirty.objects.filter(dealership_id=rooftop.pk).values_list("day", flat=True))


def test_a_later_test_drive_or_order_changes_the_cohort_of_the_leads_creation_day(month):
    rooftop = month.rooftop
    feb20, mar8 = datetime.date(2026, 2, 20), datetime.date(2026, 3, 8)
    periods = {"feb20": (feb20, feb20), "mar8": (mar8, mar8), "feb": (feb20.replace(day=1), datetime.date(2026, 2, 28))}
    _, before = both_ways(rooftop, periods)
    assert kpis.funnel(before["feb20"]) == [("leads", 1), ("test_driven", 0), ("ordered", 1), ("delivered", 1)]
    assert kpis.test_drive_to_order_rate(before["feb"]) is None
    assert kpis.close_rate(before["mar8"]) == Decimal("0.0000")

    # a test drive in March of the lead created on 02-20; the order of 03-08's lead is revived on 03-09
    make_drive(month.leads["L0"], DriveStatus.DONE, at(3, 15, 10, 30))
    Order.objects.filter(pk=month.orders["L8"].pk).update(status=OrderStatus.CONTRACTED)
    assert {feb20, mar8} <= stale_days(rooftop)
    _, after = both_ways(rooftop, periods)
    assert kpis.funnel(after["feb20"]) == [("leads", 1), ("test_driven", 1), ("ordered", 1), ("delivered", 1)]
    assert kpis.test_drive_to_order_rate(after["feb"]) == Decimal("1.0000")
    assert kpis.close_rate(after["mar8"]) == Decimal("1.0000")
    assert kpis.test_drive_to_order_rate(after["mar8"]) == Decimal("1.0000")


def test_a_leads_creation_time_is_part_of_its_orders_days(month):
    rollups.refresh()
    Lead.objects.filter(pk=month.leads["L0"].pk).update(created_at=at(3, 2))
    assert datetime.date(2026, 3, 12) in stale_days(month.rooftop)  # L0's order
    _, rolled = both_ways(month.rooftop, {"c": MARCH})
    assert kpis.days_lead_to_order(rolled["c"], month.b) == Decimal("5.8")  # (1.5 + 10) / 2


def test_top_lost_reasons_are_the_five_commonest_with_ties_by_reason():
    facts = rollups.Facts()
    for reason, n in (("1", 3), ("2", 1), ("3", 3), ("4", 2), ("5", 1), ("6", 1), ("", 4)):
        facts.add("lead_lost", 7, reason, n, Decimal(0))
    assert kpis.top_lost_reasons(facts) == [(1, 3), (3, 3), (4, 2), (2, 1), (5, 1)]
    assert kpis.lost_rate(facts) is None  # no leads in the period


@pytest.fixture
def open_leads(rooftop, other_rooftop, consultant):
    b = UserFactory(username="consultant_b", role=Role.SALES_CONSULTANT, rooftops=[rooftop])
    now = at(3, 1)
    for owner, stage, grade, due in (
        (consultant, Stage.CONTACTED, "H", datetime.date(2026, 3, 9)),  # overdue
        (consultant, Stage.NEGOTIATING, "A", datetime.date(2026, 3, 10)),  # due today
        (b, Stage.NEW, "H", datetime.date(2026, 3, 1)),  # overdue
        (b, Stage.PRESENTED, "", None),
        (consultant, Stage.LOST, "B", datetime.date(2026, 3, 1)),
        (b, Stage.ORDERED, "A", datetime.date(2026, 3, 1)),
        (consultant, Stage.DORMANT, "C", datetime.date(2026, 3, 1)),
    ):
        make_lead(rooftop, owner, now, stage=stage, grade=grade, next_followup_on=due)
    make_lead(other_rooftop, consultant, now, stage=Stage.NEW, grade="C", next_followup_on=datetime.date(2026, 3, 1))
    return SimpleNamespace(a=consultant.pk, b=b.pk)


def test_overdue_follow_ups_and_grade_mix_of_the_open_leads_now(
    rooftop, other_rooftop, open_leads, django_assert_num_queries
):
    today = datetime.date(2026, 3, 10)
    with django_assert_num_queries(1):
        assert kpis.overdue_lead_followups([rooftop.pk], today) == 2
    assert kpis.overdue_lead_followups([rooftop.pk], today, owner=open_leads.a) == 1
    assert kpis.overdue_lead_followups([rooftop.pk, other_rooftop.pk], today) == 3
    with django_assert_num_queries(1):
        assert kpis.overdue_by_owner([rooftop.pk], today) == {open_leads.a: 1, open_leads.b: 1}
    assert kpis.overdue_by_owner([rooftop.pk, other_rooftop.pk], today) == {open_leads.a: 2, open_leads.b: 1}
    with django_assert_num_queries(1):
        assert kpis.grade_mix([rooftop.pk]) == {"H": 2, "A": 1, "B": 0, "C": 0, "": 1}
    assert kpis.grade_mix([rooftop.pk], owner=open_leads.a) == {"H": 1, "A": 1, "B": 0, "C": 0, "": 0}
