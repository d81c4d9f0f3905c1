"""The customer-care dashboard: follow-ups, contact success, CSI, complaints, retention and win-back.

It lives in followup (which may read crm; crm never reads followup) and composes both apps' KPIs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm import kpis as care
from crm.choices import ComplaintStatus
from dms.dashboards import Chart, Column, Dashboard, Scope, Table, Tile, bucket_label, compare, staff_names

from . import kpis

METRICS = (*kpis.METRICS, *care.METRICS)
BANDS = tuple(band for band, _low, _high in care.SCORE_BANDS)


def build(scope: Scope) -> Dashboard:
    period = scope.period
    # a window that ends today or later is not judged while open: its days are read apart, in the same statement
    pending = (max(period.first, scope.today), period.last) if period.last >= scope.today else None
    facts = scope.facts(METRICS, extra={"pending": pending} if pending else None)
    current = facts["current"]
    targets = scope.targets()
    start, end = scope.bounds()

    def two_day(f, staff=None):
        return kpis.two_day_in_time_rate(f, staff, pending=facts["pending"] if f is current and pending else None)

    dashboard = Dashboard(key="care", title=_("Customer care"), scope=scope)
    dashboard.tiles = [
        compare(
            "two_day_in_time_rate",
            _("2-day follow-ups within 48 h"),
            two_day,
            facts,
            kind="rate",
            link=scope.link("followup:sla"),
            help=_("Delivery and service follow-ups done within their 48 h / those done, failed or overdue."),
        ),
        compare(
            "contact_success_rate",
            _("Contact success"),
            kpis.contact_success_rate,
            facts,
            kind="rate",
            help=_("Calls on which the customer was spoken to / calls made."),
        ),
        compare(
            "csi_average",
            _("CSI"),
            care.csi_average,
            facts,
            kind="score",
            link=scope.link("surveys:results"),
            help=_("Mean score (0–100) of the surveys answered in the period."),
        ),
        compare(
            "surveys",
            _("Surveys answered"),
            lambda f, staff=None: f.n("csi", staff=staff),
            facts,
            link=scope.link("surveys:results"),
            target="surveys",
            targets=targets,
        ),
        compare(
            "complaints_received",
            _("Complaints received"),
            care.complaints_received,
            facts,
            lower_is_better=True,
            link=scope.link("crm:complaint-list", staff_param="owner", created_after=start, created_before=end),
        ),
        compare(
            "mean_resolution_hours",
            _("Mean resolution time"),
            care.mean_resolution_hours,
            facts,
            kind="hours",
            lower_is_better=True,
            help=_("Hours from a complaint's creation to its closing, over those closed."),
        ),
    ]
    open_by_status = care.open_complaints(scope.dealership_ids, scope.staff_id)
    snapshot_tiles = [
        Tile(
            key="open_complaints",
            label=_("Open complaints now"),
            value=sum(open_by_status.values()),
            lower_is_better=True,
            link=scope.link("crm:complaint-list", staff_param="owner", is_open="true"),
        )
    ]
    if not scope.staff_id:  # rooftop figures: retention and win-back belong to no one person
        retention = care.retention_snapshot(scope.dealership_ids, period.last)
        previous = care.retention_snapshot(scope.dealership_ids, period.previous().last)
        last_year = care.retention_snapshot(scope.dealership_ids, period.last_year().last)
        as_of = retention["as_of"]
        note = _("As of %(day)s (taken nightly).") % {"day": as_of} if as_of else _("Not taken yet (nightly).")
        snapshot_tiles += [
            Tile(
                key="return_rate",
                label=_("Maintenance return rate 入库率"),
                kind="rate",
                value=retention["return_rate"],
                previous=previous["return_rate"],
                last_year=last_year["return_rate"],
                link=scope.link("retention:retention"),
                help=note,
            ),
            Tile(
                key="lost_customers",
                label=_("Lost customers"),
                value=retention["lost_customers"] if as_of else None,
                previous=previous["lost_customers"] if previous["as_of"] else None,
                last_year=last_year["lost_customers"] if last_year["as_of"] else None,
                lower_is_better=True,
                link=scope.link("retention:retention"),
                help=note,
            ),
        ]
        results = care.win_back(scope.dealership_ids, period.first, period.last)
        snapshot_tiles.append(
            Tile(
                key="win_back_rate",
                label=_("Win-back rate"),
                kind="rate",
                value=results["win_back_rate"],
                link=scope.link("care:campaign-list"),
                help=_("Win-back campaigns started in the period: vouchers redeemed / customers targeted."),
            )
        )
        dashboard.tables.append(
            Table(
                key="win_back",
                title=_("Win-back campaigns started in the period"),
                columns=[
                    Column("campaigns", _("Campaigns")),
                    Column("targeted", _("Customers targeted")),
                    Column("contacted", _("Contacted")),
                    Column("booked", _("Booked")),
                    Column("vouchers_redeemed", _("Came back")),
                    Column("revenue", _("Revenue"), "money"),
                ],
                rows=[results] if results["campaigns"] else [],
            )
        )
    dashboard.tiles += snapshot_tiles

    # Per staff member: the callers' work and the CSI of the people rated
    people = current.staff_ids("contact_attempts", "two_day", "csi")
    if scope.staff_id:
        people = {scope.staff_id}
    names = staff_names(people)
    rows = []
    for person in sorted(people, key=lambda pk: names.get(pk, "")):
        rows.append(
            {
                "id": person,
                "name": names.get(person, "?"),
                "calls": current.n("contact_attempts", staff=person),
                "contact_rate": kpis.contact_success_rate(current, person),
                "two_day": current.n("two_day", staff=person),
                "two_day_rate": two_day(current, person),
                "surveys": current.n("csi", staff=person),
                "csi": care.csi_average(current, person),
            }
        )
    dashboard.tables.insert(
        0,
        Table(
            key="staff",
            title=_("Per staff member"),
            columns=[
                Column("name", _("Staff member"), "text"),
                Column("calls", _("Calls made")),
                Column("contact_rate", _("Contact success"), "rate"),
                Column("two_day", _("2-day follow-ups")),
                Column("two_day_rate", _("Within 48 h"), "rate"),
                Column("surveys", _("Surveys about them")),
                Column("csi", _("CSI"), "score"),
            ],
            rows=rows,
        ),
    )
    labels = dict(ComplaintStatus.choices)
    dashboard.tables.insert(
        1,
        Table(
            key="open_complaints",
            title=_("Open complaints now"),
            columns=[Column("status", _("Status"), "text"), Column("count", _("Complaints"))],
            rows=[{"status": str(labels.get(status, status)), "count": n} for status, n in open_by_status.items()],
            links=[
                {"count": scope.link("crm:complaint-list", staff_param="owner", status=status)}
                for status in open_by_status
            ],
        ),
    )

    # Charts
    series = scope.series(METRICS)
    buckets = scope.buckets()
    empty = type(current)()
    points = [series.get(bucket_start, empty) for bucket_start in buckets]
    distribution = care.csi_distribution(current)
    dashboard.charts = [
        Chart(
            key="csi_trend",
            title=_("CSI"),
            type="line",
            kind="score",
            labels=[bucket_label(bucket_start, period.bucket) for bucket_start in buckets],
            datasets=[{"label": str(_("CSI")), "data": [care.csi_average(p) for p in points]}],
        ),
        Chart(
            key="csi_distribution",
            title=_("Survey scores"),
            type="bar",
            labels=list(BANDS),
            datasets=[
                {
                    "label": str(_("Surveys")),
                    "data": [distribution.get(band, 0) for band in BANDS],
                    "backgroundColor": ["#dc3545", "#fd7e14", "#ffc107", "#20c997", "#198754"],
                }
            ],
        ),
        Chart(
            key="contacts",
            title=_("Calls made and customers reached"),
            type="bar",
            labels=[bucket_label(bucket_start, period.bucket) for bucket_start in buckets],
            datasets=[
                {"label": str(_("Calls made")), "data": [p.n("contact_attempts") for p in points]},
                {"label": str(_("Reached")), "data": [p.n("contact_attempts", kpis.SPOKEN_OUTCOMES) for p in points]},
            ],
        ),
        Chart(
            key="complaints",
            title=_("Open complaints now"),
            type="doughnut",
            labels=[str(labels.get(status, status)) for status in open_by_status],
            datasets=[{"label": str(_("Complaints")), "data": list(open_by_status.values())}],
        ),
    ]
    return dashboard
