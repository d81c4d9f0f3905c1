"""The rollups stay equal to the metrics computed from the raw rows whatever is written, and the
periods the dashboards compare."""

import datetime
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from crm.choices import Role
from dms import rollups
from dms.models import KpiDirty, KpiRollup
from dms.periods import Period, preset_period
from service.models import Appointment, LabourLine, PartLine, RepairOrder
from tests.factories import UserFactory, VehicleFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_write_logs_its_days_in_its_own_transaction(rooftop, vehicle, advisor):
    KpiDirty.objects.all().delete()
    try:
        with transaction.atomic():
            RepairOrder.objects.create(
                dealership=rooftop,
                number="R1",
                year=2026,
                sequence=1,
                customer=vehicle.owner,
                vehicle=vehicle,
                advisor=advisor,
                service_type="repair",
                odometer_km=1,
                concern="x",
                tax_rate=Decimal("0.13"),
                checked_in_at=datetime.datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI),
            )
            assert list(KpiDirty.objects.values_list("dealership_id", "day")) == [
                (rooftop.pk, datetime.date(2026, 3, 1))
            ]
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert not KpiDirty.objects.exists()  # a rolled-back write leaves nothing stale


def test_rollups_equal_the_direct_computation_after_random_writes(rooftop, other_rooftop, staff, customer):
    rng = random.Random(20261129)
    advisors = [
        staff[Role.SERVICE_ADVISOR],
        UserFactory(username="a2", role=Role.SERVICE_ADVISOR, rooftops=[rooftop, other_rooftop]),
    ]
    vehicles = {
        rooftop.pk: VehicleFactory(dealership=rooftop, owner=customer),
        other_rooftop.pk: VehicleFactory(dealership=other_rooftop, owner=customer),
    }
    rooftops = [rooftop, other_rooftop]
    start = datetime.datetime(2026, 1, 25, tzinfo=SHANGHAI)

    def moment():
        return start + datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 45))  # 25 Jan – 10 Mar

    orders: list[RepairOrder] = []
    numbers = iter(range(1, 10_000))
    names = list(rollups.metrics())
    ids = [rooftop.pk, other_rooftop.pk]
    periods = {
        "february": (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)),
        "span": (datetime.date(2026, 1, 28), datetime.date(2026, 3, 3)),
        "day": (datetime.date(2026, 2, 14), datetime.date(2026, 2, 14)),
    }
    for round_number in range(4):
        for _ in range(25):
            action = rng.random()
            if action < 0.45 or not orders:
                where = rng.choice(rooftops)
                checked_in = moment()
                delivered = rng.random() < 0.6
                number = next(numbers)
                ro = RepairOrder.objects.create(
                    dealership=where,
                    number=f"R{number}",
                    year=2026,
                    sequence=number,
                    customer=customer,
                    vehicle=vehicles[where.pk],
                    advisor=rng.choice(advisors),
                    service_type="repair",
                    odometer_km=1,
                    concern="x",
                    tax_rate=Decimal("0.13"),
                    checked_in_at=checked_in,
                    is_comeback=rng.random() < 0.2,
                    status="delivered" if delivered else rng.choice(["approved", "in_progress", "cancelled"]),
                    delivered_at=checked_in + datetime.timedelta(hours=rng.randrange(1, 72)) if delivered else None,
                    promised_at=checked_in + datetime.timedelta(hours=rng.randrange(1, 48))
                    if rng.random() < 0.8
                    else None,
                )
                orders.append(ro)
                LabourLine.objects.create(
                    repair_order=ro,
                    description="l",
                    operation_code="OP",
                    hours=Decimal(rng.randrange(1, 9)) / 2,
                    rate=Decimal("380"),
                    is_additional=rng.random() < 0.3,
                    status=rng.choice(["approved", "declined"]),
                    decided_at=moment(),
                )
                PartLine.objects.create(
                    repair_order=ro,
                    description="p",
                    part_number="P",
                    quantity=Decimal(rng.randrange(1, 4)),
                    unit_price=Decimal("68.50"),
                )
            elif action < 0.65:  # move an order in time, or deliver it
                ro = rng.choice(orders)
                RepairOrder.objects.filter(pk=ro.pk).update(checked_in_at=moment())
            elif action < 0.75:  # a bulk update across both rooftops
                RepairOrder.objects.filter(pk__in=[o.pk for o in rng.sample(orders, min(3, len(orders)))]).update(
                    status="delivered", delivered_at=moment()
                )
            elif action < 0.85:  # a line's price changes after delivery
                LabourLine.objects.filter(repair_order=rng.choice(orders)).update(rate=Decimal("410"))
            elif action < 0.93:
                where = rng.choice(rooftops)
                when = moment()
                Appointment.objects.create(
                    dealership=where,
                    customer=customer,
                    vehicle=vehicles[where.pk],
                    advisor=rng.choice(advisors),
                    service_type="maintenance",
                    starts_at=when,
                    ends_at=when + datetime.timedelta(hours=1),
                    status=rng.choice(["arrived", "no_show", "cancelled"]),
                )
            else:
                ro = orders.pop(rng.randrange(len(orders)))
                ro.delete()
        rollups.refresh()
        for label, (first, last) in periods.items():
            rolled = rollups.read_periods(names, ids, {label: (first, last)})[label]
            raw = rollups.raw_facts(names, ids, first, last)
            assert rolled == raw, (round_number, label)
            assert raw.n("ro_opened") or label == "day"
            totals = rollups.read_periods(names, ids, {label: (first, last)}, per_staff=())[label]
            summed = {}
            for (m, _staff, dim), (n, t) in raw.counters.items():
                old = summed.get((m, 0, dim), (0, Decimal(0)))
                summed[(m, 0, dim)] = (old[0] + n, old[1] + t)
            assert totals == rollups.Facts(summed), (round_number, label)  # the rooftop totals: the staff rows summed
            staff_rolled = rollups.read_periods(names, ids, {label: (first, last)}, staff_ids=[advisors[1].pk])[label]
            assert staff_rolled == rollups.raw_facts(names, ids, first, last, staff_ids=[advisors[1].pk])
    # the monthly rows are the sums of their days
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT m.metric, m.n, d.n FROM dms_kpirollup m
            JOIN LATERAL (SELECT coalesce(sum(n), 0) AS n FROM dms_kpirollup d WHERE d.grain = 'd'
                AND d.dealership_id = m.dealership_id AND d.metric = m.metric AND d.staff_id = m.staff_id
                AND d.dim = m.dim AND date_trunc('month', d.day) = m.day) d ON TRUE
            WHERE m.grain = 'm'"""
        )
        rows = cursor.fetchall()
    assert rows and all(month == days for _, month, days in rows)


def test_a_series_adds_up_to_its_period(rooftop, vehicle, advisor):
    for day in (1, 15, 28):
        RepairOrder.objects.create(
            dealership=rooftop,
            number=f"R{day}",
            year=2026,
            sequence=day,
            customer=vehicle.owner,
            vehicle=vehicle,
            advisor=advisor,
            service_type="repair",
            odometer_km=1,
            concern="x",
            tax_rate=Decimal("0.13"),
            checked_in_at=datetime.datetime(2026, 2, day, 12, tzinfo=SHANGHAI),
        )
    rollups.refresh()
    assert KpiRollup.objects.filter(grain="m", metric="ro_opened", day=datetime.date(2026, 2, 1)).get().n == 3
    first, last = datetime.date(2026, 1, 20), datetime.date(2026, 2, 20)
    months = rollups.read_series(["ro_opened"], [rooftop.pk], first, last, "month")
    assert {day: facts.n("ro_opened") for day, facts in months.items()} == {datetime.date(2026, 2, 1): 2}
    weeks = rollups.read_series(["ro_opened"], [rooftop.pk], first, last, "week")
    assert sum(facts.n("ro_opened") for facts in weeks.values()) == 2
    assert datetime.date(2026, 1, 26) in weeks  # 1 February 2026 is a Sunday: its week starts on Monday 26 January


@pytest.mark.parametrize(
    ("preset", "today", "current", "previous", "last_year"),
    [
        (
            "today",
            "2026-11-29",
            ("2026-11-29", "2026-11-29"),
            ("2026-11-28", "2026-11-28"),
            ("2025-11-29", "2025-11-29"),
        ),
        (
            "this_week",
            "2026-11-29",
            ("2026-11-23", "2026-11-29"),
            ("2026-11-16", "2026-11-22"),
            ("2025-11-23", "2025-11-29"),
        ),
        (
            "this_month",
            "2026-03-31",
            ("2026-03-01", "2026-03-31"),
            ("2026-02-01", "2026-02-28"),
            ("2025-03-01", "2025-03-31"),
        ),
        (
            "last_month",
            "2026-03-15",
            ("2026-02-01", "2026-02-28"),
            ("2026-01-01", "2026-01-31"),
            ("2025-02-01", "2025-02-28"),
        ),
        (
            "this_year",
            "2028-02-29",
            ("2028-01-01", "2028-02-29"),
            ("2027-01-01", "2027-02-28"),
            ("2027-01-01", "2027-02-28"),
        ),
    ],
)
def test_periods_and_their_comparisons(preset, today, current, previous, last_year):
    period = preset_period(preset, datetime.date.fromisoformat(today))
    dates = lambda pair: tuple(datetime.date.fromisoformat(d) for d in pair)  # noqa: E731
    assert period.comparisons() == {
        "current": dates(current),
        "previous": dates(previous),
        "last_year": dates(last_year),
    }


def test_a_custom_period_is_compared_with_as_many_days_before():
    period = Period(datetime.date(2026, 3, 10), datetime.date(2026, 3, 19))
    assert (period.previous().first, period.previous().last) == (datetime.date(2026, 2, 28), datetime.date(2026, 3, 9))
    assert period.bucket == "day" and Period(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)).bucket == "month"


def test_split_range_uses_whole_months():
    months, days = rollups.split_range(datetime.date(2026, 1, 30), datetime.date(2026, 4, 2))
    assert months == [datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)]
    assert days == [
        datetime.date(2026, 1, 30),
        datetime.date(2026, 1, 31),
        datetime.date(2026, 4, 1),
        datetime.date(2026, 4, 2),
    ]
