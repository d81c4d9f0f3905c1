"""Each service KPI on a small hand-built October, computed from the raw rows and from the rollups."""

import datetime
from decimal import Decimal

from dms import rollups
from service import kpis

OCTOBER = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))


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
