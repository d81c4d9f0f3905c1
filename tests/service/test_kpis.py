"""Each service KPI on a small hand-built October, computed from the raw rows and from the rollups."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.choices import Role
from dms import rollups
from service import kpis
from service.models import Appointment, Job, LabourLine, PartLine, RepairOrder, TimeEntry
from tests.factories import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))


def at(month, day, hour, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def order(rooftop, vehicle, advisor, number, checked_in_at, **fields):
    fields.setdefault("status", "in_progress")
    return RepairOrder.objects.create(
        dealership=rooftop,
        number=f"RO{number}",
        year=2026,
        sequence=number,
        customer=vehicle.owner,
        vehicle=vehicle,
        advisor=advisor,
        service_type="maintenance",
        odometer_km=40_000,
        concern="保养",
        tax_rate=Decimal("0.13"),
        checked_in_at=checked_in_at,
        **fields,
    )


def appointment(rooftop, vehicle, advisor, starts_at, status):
    return Appointment.objects.create(
        dealership=rooftop,
        customer=vehicle.owner,
        vehicle=vehicle,
        advisor=advisor,
        service_type="maintenance",
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=1),
        status=status,
    )


def labour(ro, hours, rate, **fields):
    return LabourLine.objects.create(
        repair_order=ro, description="工时", operation_code="OP1", hours=Decimal(hours), rate=Decimal(rate), **fields
    )


def part(ro, quantity, price, **fields):
    return PartLine.objects.create(
        repair_order=ro,
        description="零件",
        part_number="P1",
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        **fields,
    )


@pytest.fixture
def october(workshop, vehicle, staff):
    """Two advisors' October at 上海浦东; see each test for the figures it yields."""
    rooftop = workshop
    a = staff[Role.SERVICE_ADVISOR]
    b = UserFactory(username="advisor_b", role=Role.SERVICE_ADVISOR, rooftops=[rooftop])
    technician = staff[Role.TECHNICIAN]
    kept = appointment(rooftop, vehicle, a, at(10, 3, 9), "arrived")
    appointment(rooftop, vehicle, a, at(10, 8, 9), "no_show")
    appointment(rooftop, vehicle, a, at(10, 9, 9), "cancelled")
    appointment(rooftop, vehicle, b, at(10, 12, 9), "no_show")
    appointment(rooftop, vehicle, b, at(10, 15, 9), "arrived")
    # RO1: from the appointment, delivered on time after 6 h
    ro1 = order(
        rooftop,
        vehicle,
        a,
        1,
        at(10, 3, 9),
        appointment=kept,
        status="delivered",
        promised_at=at(10, 3, 16),
        delivered_at=at(10, 3, 15),
        discount_amount=Decimal("6"),
    )
    labour(ro1, "2", "380", discount_amount=Decimal("10"))
    part(ro1, "2", "68")
    # RO2: walk-in, delivered late after 24 h; extra part approved, extra labour declined, a proposal open
    ro2 = order(
        rooftop,
        vehicle,
        a,
        2,
        at(10, 10, 10),
        status="delivered",
        promised_at=at(10, 10, 18),
        delivered_at=at(10, 11, 10),
    )
    labour(ro2, "1.5", "400")
    part(ro2, "1", "200", is_additional=True, decided_at=at(10, 10, 12))
    labour(ro2, "1", "400", is_additional=True, status="declined", decided_at=at(10, 10, 12))
    labour(ro2, "1", "400", is_additional=True, status="proposed")
    # RO3: B's comeback, still in the workshop
    ro3 = order(rooftop, vehicle, b, 3, at(10, 20, 9), is_comeback=True)
    # RO4: checked in 31 October 23:30, delivered 1 November 00:30 (local): opened in October only
    order(rooftop, vehicle, b, 4, at(10, 31, 23, 30), status="delivered", delivered_at=at(11, 1, 0, 30))
    # outside: September, and a cancelled one
    order(rooftop, vehicle, a, 5, at(9, 30, 23, 59), status="delivered", delivered_at=at(9, 30, 23, 59))
    order(rooftop, vehicle, a, 6, at(10, 5, 9), status="cancelled")
    job = Job.objects.create(repair_order=ro3, technician=technician, planned_hours=Decimal("4"))
    TimeEntry.objects.create(job=job, technician=technician, started_at=at(10, 3, 9), ended_at=at(10, 3, 11))
    TimeEntry.objects.create(job=job, technician=technician, started_at=at(10, 3, 13), ended_at=at(10, 3, 14, 30))
    TimeEntry.objects.create(job=job, technician=technician, started_at=at(10, 4, 9))  # still clocked on
    return {"rooftop": rooftop, "a": a, "b": b, "technician": technician}


def both_ways(rooftop, first, last, staff=None):
    raw = rollups.raw_facts(kpis.METRICS, [rooftop.pk], first, last, staff_ids=staff)
    rollups.refresh()
    rolled = rollups.read_periods(kpis.METRICS, [rooftop.pk], {"c": (first, last)}, staff_ids=staff)["c"]
    assert raw == rolled
    return rolled


def test_every_service_kpi_on_a_hand_built_month(october):
    facts = both_ways(october["rooftop"], *OCTOBER)
    assert kpis.ros_opened(facts) == 4  # RO1–RO4; not September's, not the cancelled one
    assert kpis.appointment_rate(facts) == Decimal("0.2500")
    assert kpis.no_show_rate(facts) == Decimal("0.5000")  # 2 no-shows of 4 due; the cancelled one is neither
    assert kpis.ros_delivered(facts) == 2  # RO4 was delivered in November
    assert kpis.cycle_time_hours(facts) == Decimal("15.0")  # (6 + 24) / 2
    assert kpis.on_time_rate(facts) == Decimal("0.5000")
    assert kpis.first_time_fix_rate(facts) == Decimal("0.5000")  # 1 − 1 comeback / 2 delivered
    assert kpis.labour_hours_sold(facts) == Decimal("3.50")  # declined and proposed lines are not sold
    assert kpis.labour_revenue(facts) == Decimal("1350.00")  # 2×380−10 + 1.5×400
    assert kpis.parts_revenue(facts) == Decimal("336.00")  # 2×68 + 200
    assert kpis.average_ro_value(facts) == Decimal("840.00")  # (1350 + 336 − 6) / 2
    assert kpis.extra_work_approval_rate(facts) == Decimal("0.5000")
    rooftop = october["rooftop"]
    available = kpis.available_hours([rooftop.pk], {"c": OCTOBER})["c"]
    assert available == {rooftop.pk: Decimal("294.5")}  # 08:30–18:00 every day of October
    technicians = kpis.technicians([rooftop.pk])
    assert technicians == {rooftop.pk: {october["technician"].pk}}
    assert kpis.technician_utilisation(facts, available, technicians) == Decimal("0.0119")  # 3.5 / 294.5
    assert kpis.technician_utilisation(facts, available, technicians, october["technician"].pk) == Decimal("0.0119")


def test_one_advisors_figures(october):
    a, b = october["a"].pk, october["b"].pk
    facts = both_ways(october["rooftop"], *OCTOBER, staff=[a])
    assert kpis.ros_opened(facts) == 2
    assert kpis.appointment_rate(facts) == Decimal("0.5000")
    assert kpis.no_show_rate(facts) == Decimal("0.5000")
    facts = both_ways(october["rooftop"], *OCTOBER)
    assert kpis.ros_opened(facts, b) == 2
    assert kpis.ros_delivered(facts, b) == 0
    assert kpis.cycle_time_hours(facts, b) is None
    assert kpis.first_time_fix_rate(facts, b) is None
    assert kpis.no_show_rate(facts, b) == Decimal("0.5000")


def test_an_empty_period_has_no_ratio(october):
    facts = both_ways(october["rooftop"], datetime.date(2025, 1, 1), datetime.date(2025, 1, 31))
    assert kpis.ros_opened(facts) == kpis.ros_delivered(facts) == 0
    for function in (
        kpis.appointment_rate,
        kpis.no_show_rate,
        kpis.cycle_time_hours,
        kpis.on_time_rate,
        kpis.first_time_fix_rate,
        kpis.average_ro_value,
        kpis.extra_work_approval_rate,
    ):
        assert function(facts) is None, function.__name__
    assert kpis.labour_revenue(facts) == Decimal("0.00")


def test_the_local_day_decides_the_period(october):
    november = both_ways(october["rooftop"], datetime.date(2026, 11, 1), datetime.date(2026, 11, 1))
    assert kpis.ros_delivered(november) == 1  # RO4, delivered 00:30 on 1 November in Shanghai
    assert kpis.ros_opened(november) == 0
    assert kpis.ros_opened(both_ways(october["rooftop"], *OCTOBER)) == 4


def test_work_in_progress_counts_open_orders_by_state(october, other_rooftop, vehicle):
    wip = kpis.work_in_progress([october["rooftop"].pk])
    assert wip["in_progress"] == 1 and sum(wip.values()) == 1
    assert kpis.work_in_progress([other_rooftop.pk])["in_progress"] == 0
    assert kpis.work_in_progress([october["rooftop"].pk], advisor=october["a"].pk)["in_progress"] == 0
