"""Demo dashboards (a ``crm.demo`` seeder, run last): the rollups of everything the other seeders made,
and this month's targets at each rooftop: last month's figure plus a tenth, so progress bars show."""

from __future__ import annotations

import datetime
import time
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from crm.kpis import retention_snapshots_store

from . import rollups
from .models import KpiTarget, TargetKpi

# the figure each target follows: (metric, use the total rather than the count)
FIGURES = {
    TargetKpi.LEADS: ("leads", False),
    TargetKpi.ORDERS: ("orders", False),
    TargetKpi.DELIVERIES: ("deliveries", False),
    TargetKpi.RO_DELIVERED: ("ro_delivered", False),
    TargetKpi.LABOUR_REVENUE: ("labour_revenue", True),
    TargetKpi.PARTS_REVENUE: ("parts_revenue", True),
    TargetKpi.SURVEYS: ("csi", False),
}


def seed(*, rooftops, staff, stdout) -> None:
    started = time.monotonic()
    days = rollups.refresh()
    took = time.monotonic() - started
    today = timezone.localdate()
    month = today.replace(day=1)
    last_month = (month - datetime.timedelta(days=1)).replace(day=1)
    known = rollups.metrics()
    names = [metric for metric, _ in FIGURES.values() if metric in known]
    made = 0
    for rooftop in rooftops.values():
        if KpiTarget.objects.filter(dealership=rooftop, month=month).exists():
            continue
        facts = rollups.read_periods(names, [rooftop.pk], {"m": (last_month, month - datetime.timedelta(days=1))})["m"]
        for kpi, (metric, money) in FIGURES.items():
            if metric not in known:
                continue
            figure = facts.total(metric) if money else Decimal(facts.n(metric))
            if figure > 0:
                value = (figure * Decimal("1.1")).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
                KpiTarget.objects.create(dealership=rooftop, month=month, kpi=kpi, value=value)
                made += 1
    retention_snapshots_store()
    stdout.write(
        f"Demo dashboards: rollups of {days} days recomputed in {took:.1f} s, {made} targets for {month:%Y-%m}."
    )

