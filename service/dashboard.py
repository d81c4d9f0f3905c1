"""The after-sales manager's dashboard: the service KPIs of the chosen rooftops, staff and period."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from dms.dashboards import Chart, Column, Dashboard, Scope, Table, bucket_label, compare, staff_names

from . import kpis
from .choices import OPEN_STATUSES, RepairOrderStatus

LIST = "service:repair-order-list"


def build(scope: Scope) -> Dashboard:
    facts = scope.facts(kpis.METRICS)
    current = facts["current"]
    targets = scope.targets()
    start, end = scope.bounds()
    checked_in = {"checked_in_after": start, "checked_in_before": end}
    delivered = {"status": RepairOrderStatus.DELIVERED, "delivered_after": start, "delivered_before": end}

    def link(**params) -> str:
        return scope.link(LIST, staff_param="advisor", **params)

    dashboard = Dashboard(key="service", title=_("Service"), scope=scope)
    dashboard.tiles = [
        compare("ros_opened", _("Repair orders opened"), kpis.ros_opened, facts, link=link(**checked_in)),
        compare(
            "ros_delivered",
            _("Repair orders delivered"),
            kpis.ros_delivered,
            facts,
            link=link(**delivered),
            target="ro_delivered",
            targets=targets,
        ),
        compare(
            "appointment_rate",
            _("Appointment rate"),
            kpis.appointment_rate,
            facts,
            kind="rate",
            link=link(from_appointment="true", **checked_in),
            help=_("Repair orders opened from an appointment / all repair orders opened."),
        ),
        compare(
            "no_show_rate",
            _("No-show rate"),
            kpis.no_show_rate,
            facts,
            kind="rate",
            lower_is_better=True,
            link=scope.link("service:appointments"),
            help=_("Appointments not kept / appointments kept or not kept."),
        ),
        compare(
            "cycle_time_hours",
            _("Cycle time"),
            kpis.cycle_time_hours,
            facts,
            kind="hours",
            lower_is_better=True,
            link=link(**delivered),
            help=_("Mean hours from check-in to delivery."),
        ),
        compare(
            "on_time_rate",
            _("On-time delivery"),
            kpis.on_time_rate,
            facts,
            kind="rate",
            link=link(**delivered),
            help=_("Delivered by the promised time / delivered with a promised time."),
        ),
        compare(
            "first_time_fix_rate",
            _("First-time fix"),
            kpis.first_time_fix_rate,
            facts,
            kind="rate",
            link=link(is_comeback="true", **checked_in),
            help=_("1 − comebacks within 30 days / repair orders delivered."),
        ),
        compare(
            "labour_hours_sold",
            _("Labour hours sold"),
            kpis.labour_hours_sold,
            facts,
            kind="hours",
            link=link(**delivered),
        ),
        compare(
            "labour_revenue",
            _("Labour revenue"),
            kpis.labour_revenue,
            facts,
            kind="money",
            link=link(**delivered),
            target="labour_revenue",
            targets=targets,
        ),
        compare(
            "parts_revenue",
            _("Parts revenue"),
            kpis.parts_revenue,
            facts,
            kind="money",
            link=link(**delivered),
            target="parts_revenue",
            targets=targets,
        ),
        compare(
            "average_ro_value",
            _("Average repair order"),
            kpis.average_ro_value,
            facts,
            kind="money",
            link=link(**delivered),
            help=_("(Labour + parts − order discounts) / repair orders delivered, before tax."),
        ),
        compare(
            "extra_work_approval_rate",
            _("Extra work approved"),
            kpis.extra_work_approval_rate,
            facts,
            kind="rate",
            help=_("Additional work the customer approved / additional work decided."),
        ),
    ]

    # Technician utilisation: the rooftops' technicians (or the one chosen) over the period's opening hours.
    periods = scope.period.comparisons()
    hours = kpis.available_hours(scope.dealership_ids, periods)
    available = hours["current"]
    technicians = kpis.technicians(scope.dealership_ids)
    technician = scope.staff_id if scope.staff_id and any(scope.staff_id in t for t in technicians.values()) else None
    if not scope.staff_id or technician:
        tile = compare(
            "technician_utilisation",
            _("Technician utilisation"),
            lambda f: kpis.technician_utilisation(f, available, technicians, technician),
            facts,
            kind="rate",
            help=_("Hours clocked on jobs / technicians' opening hours in the period."),
        )
        # each comparison has its own opening hours
        tile.previous = kpis.technician_utilisation(facts["previous"], hours["previous"], technicians, technician)
        tile.last_year = kpis.technician_utilisation(facts["last_year"], hours["last_year"], technicians, technician)
        dashboard.tiles.append(tile)

    # Per advisor and per technician
    all_technicians = {t for ids in technicians.values() for t in ids}
    names = staff_names(current.staff_ids("ro_opened", "ro_delivered", "clocked") | all_technicians)
    advisors = sorted(current.staff_ids("ro_opened", "ro_delivered"), key=lambda pk: names.get(pk, ""))
    rows, links = [], []
    for advisor in advisors:
        rows.append(
            {
                "id": advisor,
                "name": names.get(advisor, "?"),
                "opened": kpis.ros_opened(current, advisor),
                "delivered": kpis.ros_delivered(current, advisor),
                "appointment_rate": kpis.appointment_rate(current, advisor),
                "on_time_rate": kpis.on_time_rate(current, advisor),
                "labour_hours": kpis.labour_hours_sold(current, advisor),
                "revenue": kpis.labour_revenue(current, advisor) + kpis.parts_revenue(current, advisor),
                "average": kpis.average_ro_value(current, advisor),
            }
        )
        links.append(
            {
                "opened": scope.link(LIST, advisor=advisor, **checked_in),
                "delivered": scope.link(LIST, advisor=advisor, **delivered),
            }
        )
    dashboard.tables.append(
        Table(
            key="advisors",
            title=_("Per advisor"),
            columns=[
                Column("name", _("Advisor"), "text"),
                Column("opened", _("Opened")),
                Column("delivered", _("Delivered")),
                Column("appointment_rate", _("Appointment rate"), "rate"),
                Column("on_time_rate", _("On time"), "rate"),
                Column("labour_hours", _("Labour hours"), "hours"),
                Column("revenue", _("Revenue"), "money"),
                Column("average", _("Average order"), "money"),
            ],
            rows=rows,
            links=links,
        )
    )
    tech_rows = []
    for tech in sorted(all_technicians | current.staff_ids("clocked"), key=lambda pk: names.get(pk, "")):
        if scope.staff_id and tech != scope.staff_id:
            continue
        tech_rows.append(
            {
                "id": tech,
                "name": names.get(tech, "?"),
                "clocked": current.total("clocked", staff=tech).quantize(kpis.TENTHS),
                "available": sum(h for r, h in available.items() if tech in technicians.get(r, ())),
                "utilisation": kpis.technician_utilisation(current, available, technicians, tech),
            }
        )
    dashboard.tables.append(
        Table(
            key="technicians",
            title=_("Per technician"),
            columns=[
                Column("name", _("Technician"), "text"),
                Column("clocked", _("Hours clocked"), "hours"),
                Column("available", _("Hours available"), "hours"),
                Column("utilisation", _("Utilisation"), "rate"),
            ],
            rows=tech_rows,
        )
    )

    # Work in progress now, by state
    wip = kpis.work_in_progress(scope.dealership_ids, scope.staff_id)
    labels = dict(RepairOrderStatus.choices)
    dashboard.tables.append(
        Table(
            key="wip",
            title=_("Work in progress now"),
            columns=[Column("state", _("State"), "text"), Column("count", _("Repair orders"))],
            rows=[{"state": str(labels[status]), "count": wip[status]} for status in OPEN_STATUSES],
            links=[{"count": scope.link(LIST, staff_param="advisor", status=status)} for status in OPEN_STATUSES],
        )
    )

    # Trends
    series = scope.series(kpis.METRICS)
    buckets = scope.buckets()
    bucket = scope.period.bucket
    empty = type(current)()
    points = [series.get(start, empty) for start in buckets]
    labels_x = [bucket_label(start, bucket) for start in buckets]
    dashboard.charts = [
        Chart(
            key="orders",
            title=_("Repair orders"),
            type="line",
            labels=labels_x,
            datasets=[
                {"label": str(_("Opened")), "data": [kpis.ros_opened(p) for p in points]},
                {"label": str(_("Delivered")), "data": [kpis.ros_delivered(p) for p in points]},
            ],
        ),
        Chart(
            key="revenue",
            title=_("Revenue"),
            type="bar",
            kind="money",
            stacked=True,
            labels=labels_x,
            datasets=[
                {"label": str(_("Labour")), "data": [kpis.labour_revenue(p) for p in points]},
                {"label": str(_("Parts")), "data": [kpis.parts_revenue(p) for p in points]},
            ],
        ),
        Chart(
            key="wip",
            title=_("Work in progress now"),
            type="bar",
            labels=[str(labels[status]) for status in OPEN_STATUSES],
            datasets=[{"label": str(_("Repair orders")), "data": [wip[status] for status in OPEN_STATUSES]}],
        ),
        Chart(
            key="delivery_timing",
            title=_("Deliveries against the promised time"),
            type="doughnut",
            labels=[str(_("On time")), str(_("Late")), str(_("No promised time"))],
            datasets=[
                {
                    "label": str(_("Repair orders")),
                    "data": [current.n("ro_delivered", d) for d in ("on_time", "late", "no_promise")],
                    "backgroundColor": ["#198754", "#dc3545", "#adb5bd"],
                }
            ],
        ),
    ]
    return dashboard
