"""The sales manager's dashboard: the sales KPIs of the chosen rooftops, consultant and period."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dms.dashboards import Chart, Column, Dashboard, Scope, Table, bucket_label, compare, staff_names

from . import kpis
from .choices import Grade, LeadSource, LostReview
from .models import LostReason

LIST = "sales:lead-list"


def build(scope: Scope) -> Dashboard:
    facts = scope.facts(kpis.METRICS)
    current = facts["current"]
    targets = scope.targets()
    start, end = scope.bounds()
    created = {"created_after": start, "created_before": end}

    def link(**params) -> str:
        return scope.link(LIST, staff_param="owner", **params)

    dashboard = Dashboard(key="sales", title=_("Sales"), scope=scope)
    dashboard.tiles = [
        compare("leads", _("New leads"), kpis.leads, facts, link=link(**created), target="leads", targets=targets),
        compare("visits", _("Showroom visits"), kpis.visits, facts, link=scope.link("sales:visits")),
        compare(
            "lead_to_test_drive_rate",
            _("Lead → test drive"),
            kpis.lead_to_test_drive_rate,
            facts,
            kind="rate",
            link=link(**created),
            help=_("Leads of the period with a test drive done / leads of the period."),
        ),
        compare(
            "test_drive_to_order_rate",
            _("Test drive → order"),
            kpis.test_drive_to_order_rate,
            facts,
            kind="rate",
            link=link(**created),
            help=_("Test-driven leads of the period that ordered / test-driven leads of the period."),
        ),
        compare(
            "close_rate",
            _("Close rate"),
            kpis.close_rate,
            facts,
            kind="rate",
            link=link(**created),
            help=_("Leads of the period with an order / leads of the period."),
        ),
        compare(
            "lost_rate",
            pgettext_lazy("leads", "Lost rate"),
            kpis.lost_rate,
            facts,
            kind="rate",
            lower_is_better=True,
            link=link(lost_review=LostReview.APPROVED, **created),
            help=_("Leads of the period closed as lost / leads of the period."),
        ),
        compare(
            "orders",
            _("Orders"),
            kpis.orders,
            facts,
            target="orders",
            targets=targets,
            help=_("Orders signed in the period, not cancelled."),
        ),
        compare(
            "days_lead_to_order",
            _("Days lead → order"),
            kpis.days_lead_to_order,
            facts,
            kind="days",
            lower_is_better=True,
            help=_("Mean days from the lead's creation to the order, over the period's orders."),
        ),
        compare(
            "deliveries",
            _("Deliveries"),
            kpis.deliveries,
            facts,
            target="deliveries",
            targets=targets,
            link=link(delivered_after=start, delivered_before=end),
        ),
    ]
    overdue = kpis.overdue_lead_followups(scope.dealership_ids, scope.today, scope.staff_id)
    dashboard.tiles.append(
        compare(
            "overdue_lead_followups",
            _("Overdue lead follow-ups"),
            lambda f: overdue,
            facts,
            link=link(overdue="true"),
            lower_is_better=True,
            help=_("Open leads whose follow-up day has passed (now)."),
        )
    )
    tile = dashboard.tiles[-1]
    tile.previous = tile.last_year = tile.month_to_date = None  # a snapshot of now: no comparison

    # Per consultant
    overdue_by_owner = {} if scope.personal else kpis.overdue_by_owner(scope.dealership_ids, scope.today)
    if scope.staff_id:
        overdue_by_owner = {scope.staff_id: overdue}
    consultants = current.staff_ids("leads", "orders", "deliveries") | set(overdue_by_owner)
    if scope.staff_id:
        consultants = {scope.staff_id}
    names = staff_names(consultants)
    rows, links = [], []
    for consultant in sorted(consultants, key=lambda pk: names.get(pk, "")):
        rows.append(
            {
                "id": consultant,
                "name": names.get(consultant, "?"),
                "leads": kpis.leads(current, consultant),
                "test_drive_rate": kpis.lead_to_test_drive_rate(current, consultant),
                "orders": kpis.orders(current, consultant),
                "close_rate": kpis.close_rate(current, consultant),
                "deliveries": kpis.deliveries(current, consultant),
                "overdue": overdue_by_owner.get(consultant, 0),
            }
        )
        links.append(
            {
                "leads": scope.link(LIST, owner=consultant, **created),
                "deliveries": scope.link(LIST, owner=consultant, delivered_after=start, delivered_before=end),
                "overdue": scope.link(LIST, owner=consultant, overdue="true"),
            }
        )
    dashboard.tables.append(
        Table(
            key="consultants",
            title=_("Per consultant"),
            columns=[
                Column("name", _("Consultant"), "text"),
                Column("leads", _("New leads")),
                Column("test_drive_rate", _("Lead → test drive"), "rate"),
                Column("orders", _("Orders")),
                Column("close_rate", _("Close rate"), "rate"),
                Column("deliveries", _("Deliveries")),
                Column("overdue", _("Overdue follow-ups")),
            ],
            rows=rows,
            links=links,
        )
    )

    sources = kpis.leads_by_source(current)
    source_labels = dict(LeadSource.choices)
    dashboard.tables.append(
        Table(
            key="sources",
            title=_("Leads by source"),
            columns=[Column("source", _("Source"), "text"), Column("leads", _("New leads"))],
            rows=[{"source": str(source_labels[key]), "leads": n} for key, n in sources.items()],
            links=[{"leads": link(source=key, **created)} for key in sources],
        )
    )
    # each rooftop keeps its own list of reasons: the same name at two rooftops is one reason here
    by_reason = current.by_dim("lead_lost")
    reason_names = dict(LostReason.objects.filter(pk__in=[int(pk) for pk in by_reason if pk]).values_list("pk", "name"))
    lost_by_name: dict[str, int] = {}
    for pk, (n, _total) in by_reason.items():
        if pk and n:
            lost_by_name[reason_names.get(int(pk), "?")] = lost_by_name.get(reason_names.get(int(pk), "?"), 0) + n
    lost_total = current.n("lead_lost")
    top = sorted(lost_by_name.items(), key=lambda item: (-item[1], item[0]))[: kpis.TOP_LOST_REASONS]
    dashboard.tables.append(
        Table(
            key="lost_reasons",
            title=_("Top lost reasons"),
            columns=[
                Column("reason", _("Reason"), "text"),
                Column("leads", _("Lost leads")),
                Column("share", _("Share of lost"), "rate"),
            ],
            rows=[{"reason": name, "leads": n, "share": kpis.rate(n, lost_total)} for name, n in top],
        )
    )
    grades = kpis.grade_mix(scope.dealership_ids, scope.staff_id)
    grade_labels = {**dict(Grade.choices), "": _("Not graded")}

    # Charts: funnel, trend, sources, grade mix
    series = scope.series(kpis.METRICS)
    buckets = scope.buckets()
    empty = type(current)()
    points = [series.get(bucket_start, empty) for bucket_start in buckets]
    funnel_labels = {
        "leads": _("Leads"),
        "test_driven": _("Test-driven"),
        "ordered": _("Ordered"),
        "delivered": _("Delivered"),
    }
    stages = kpis.funnel(current)
    dashboard.charts = [
        Chart(
            key="funnel",
            title=_("Funnel of the period's leads"),
            type="bar",
            labels=[str(funnel_labels[key]) for key, _n in stages],
            datasets=[{"label": str(_("Leads")), "data": [n for _key, n in stages]}],
            horizontal=True,
        ),
        Chart(
            key="trend",
            title=_("Leads, orders and deliveries"),
            type="line",
            labels=[bucket_label(bucket_start, scope.period.bucket) for bucket_start in buckets],
            datasets=[
                {"label": str(_("New leads")), "data": [kpis.leads(p) for p in points]},
                {"label": str(_("Orders")), "data": [kpis.orders(p) for p in points]},
                {"label": str(_("Deliveries")), "data": [kpis.deliveries(p) for p in points]},
            ],
        ),
        Chart(
            key="sources",
            title=_("Leads by source"),
            type="doughnut",
            labels=[str(source_labels[key]) for key in sources],
            datasets=[{"label": str(_("New leads")), "data": list(sources.values())}],
        ),
        Chart(
            key="grades",
            title=_("Open leads by grade (now)"),
            type="bar",
            labels=[str(grade_labels[key]) for key in grades],
            datasets=[{"label": str(_("Open leads")), "data": list(grades.values())}],
        ),
    ]
    return dashboard
