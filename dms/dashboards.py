"""The KPI dashboards' shared parts: the filter form, the scope it resolves to, and what a dashboard
is made of (tiles with comparisons and targets, per-person tables, charts).

Each app composes its dashboard from its own ``kpis`` functions (``sales.dashboard``,
``service.dashboard``, ``crm.dashboard``); the pages (``dms.dashboard_views``) and ``/api/kpis/``
render the same ``Dashboard``. Access: ``dms.view_team_kpis`` (managers) chooses among the user's
rooftops and their staff; ``dms.view_own_kpis`` (consultants, advisors, specialists) sees their own
figures only, at their rooftops.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from crm.models import Dealership, User
from crm.querysets import user_dealership_ids

from . import rollups
from .models import KpiTarget
from .periods import MAX_DAYS, PRESETS, Period, preset_period

DASHBOARDS: dict[str, tuple[str, str]] = {
    "sales": ("sales.dashboard.build", _("Sales")),
    "service": ("service.dashboard.build", _("Service")),
    "care": ("followup.dashboard.build", _("Customer care")),
}


def may_see_team(user) -> bool:
    return user.has_perm("dms.view_team_kpis")


def may_see_own(user) -> bool:
    return user.has_perm("dms.view_own_kpis") or may_see_team(user)


class DashboardFilterForm(forms.Form):
    preset = forms.ChoiceField(label=_("Period"), choices=list(PRESETS.items()), required=False)
    first = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    dealership = forms.ModelMultipleChoiceField(
        label=_("Rooftops"),
        queryset=Dealership.objects.none(),
        required=False,
        help_text=_("None chosen: all of yours."),
    )
    staff = forms.ModelChoiceField(label=_("Staff member"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.team = may_see_team(user)
        rooftops = user_dealership_ids(user)
        self.fields["dealership"].queryset = Dealership.objects.filter(pk__in=rooftops).order_by("code")
        if self.team:
            self.fields["staff"].queryset = (
                User.objects.filter(dealerships__in=rooftops, is_active=True).distinct().order_by("username")
            )
        else:
            del self.fields["staff"]

    def clean(self):
        data = super().clean()
        preset = data.get("preset") or "this_month"
        data["preset"] = preset
        if preset == "custom":
            first, last = data.get("first"), data.get("last")
            if not first:
                self.add_error("first", _("Choose the first day of the period."))
            if not last:
                self.add_error("last", _("Choose the last day of the period."))
            if first and last:
                if last < first:
                    self.add_error("last", _("The period ends before it starts."))
                elif (last - first).days + 1 > MAX_DAYS:
                    self.add_error("last", _("Choose a period of at most three years."))
        return data

    def scope(self, today: datetime.date | None = None) -> Scope:
        """The validated filters as a scope (call after ``is_valid``)."""
        data = self.cleaned_data
        today = today or timezone.localdate()
        if data["preset"] == "custom":
            period = Period(data["first"], data["last"])
        else:
            period = preset_period(data["preset"], today)
        chosen = [rooftop.pk for rooftop in data.get("dealership") or ()]
        dealership_ids = chosen or list(self.fields["dealership"].queryset.values_list("pk", flat=True))
        staff = data.get("staff") if self.team else self.user
        return Scope(
            user=self.user,
            dealership_ids=sorted(dealership_ids),
            period=period,
            staff_id=staff.pk if staff else None,
            staff_name=str(staff) if staff else "",
            personal=not self.team,
            today=today,
        )


@dataclass
class Scope:
    """Whose figures over which days: what every KPI function and link of a dashboard is given."""

    user: object
    dealership_ids: list[int]
    period: Period
    staff_id: int | None = None
    staff_name: str = ""
    personal: bool = False
    today: datetime.date = field(default_factory=timezone.localdate)
    refreshed: bool = False

    def _refresh(self) -> None:
        if not self.refreshed:
            rollups.refresh()
            self.refreshed = True

    @property
    def staff_ids(self) -> list[int] | None:
        return [self.staff_id] if self.staff_id else None

    def facts(
        self, names: Sequence[str], staff: bool = True, extra: dict[str, tuple] | None = None
    ) -> dict[str, rollups.Facts]:
        """Counters of the period and its two comparisons (plus this month for targets, and any ``extra``
        periods), in one statement."""
        self._refresh()
        periods = self.period.comparisons()
        periods["target_month"] = (self.period.last.replace(day=1), self.period.last)
        periods.update(extra or {})
        # only the period itself is split per person (the per-person tables); comparisons read rooftop totals
        return rollups.read_periods(
            names, self.dealership_ids, periods, self.staff_ids if staff else None, per_staff={"current"}
        )

    def series(self, names: Sequence[str], staff: bool = True) -> dict[datetime.date, rollups.Facts]:
        self._refresh()
        return rollups.read_series(
            names,
            self.dealership_ids,
            self.period.first,
            self.period.last,
            self.period.bucket,
            self.staff_ids if staff else None,
        )

    def buckets(self) -> list[datetime.date]:
        """The trend's bucket starts, in order (every one, even when empty)."""
        out, day = [], self.period.first
        while day <= self.period.last:
            if self.period.bucket == "day":
                start, day = day, day + datetime.timedelta(days=1)
            elif self.period.bucket == "week":
                start = day - datetime.timedelta(days=day.weekday())
                day = start + datetime.timedelta(days=7)
            else:
                start = day.replace(day=1)
                day = (start + datetime.timedelta(days=32)).replace(day=1)
            out.append(start)
        return out

    def bounds(self) -> tuple[str, str]:
        """The period as ISO instants in the (first) rooftop's time zone, for the lists' filters."""
        zone = timezone.get_current_timezone()
        if self.dealership_ids:
            zone = Dealership.objects.get(pk=self.dealership_ids[0]).zone if len(self.dealership_ids) == 1 else zone
        start = datetime.datetime.combine(self.period.first, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(self.period.last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        return start.isoformat(), end.isoformat()

    def link(self, url_name: str, staff_param: str | None = None, **params) -> str:
        """A list page filtered to the records behind a number: the rooftop (when one) and staff member."""
        query = {key: value for key, value in params.items() if value is not None}
        if len(self.dealership_ids) == 1:
            query.setdefault("dealership", self.dealership_ids[0])
        if staff_param and self.staff_id:
            query.setdefault(staff_param, self.staff_id)
        return reverse(url_name) + ("?" + urlencode(query) if query else "")

    def targets(self) -> dict[str, Decimal]:
        """The month's targets of the chosen rooftops, summed per figure (rooftop figures: none for one person)."""
        if self.staff_id:
            return {}
        rows = KpiTarget.objects.filter(
            dealership_id__in=self.dealership_ids, month=self.period.last.replace(day=1)
        ).values_list("kpi", "value")
        out: dict[str, Decimal] = {}
        for kpi, value in rows:
            out[kpi] = out.get(kpi, Decimal("0")) + value
        return out


def staff_names(ids) -> dict[int, str]:
    return {
        user.pk: str(user)
        for user in User.objects.filter(pk__in=[i for i in ids if i]).only(
            "username", "full_name", "first_name", "last_name"
        )
    }


# ---------------------------------------------------------------------------------------------
# What a dashboard shows

KINDS = ("count", "rate", "money", "hours", "days", "score")


@dataclass
class Tile:
    """One figure with its comparisons; ``kind`` says how to show it (a rate is a share 0–1)."""

    key: str
    label: str
    value: Decimal | int | None
    kind: str = "count"
    previous: Decimal | int | None = None
    last_year: Decimal | int | None = None
    link: str = ""
    help: str = ""
    target: Decimal | None = None
    month_to_date: Decimal | int | None = None
    lower_is_better: bool = False

    @staticmethod
    def _delta(value, other):
        if value is None or other is None:
            return None
        return Decimal(value) - Decimal(other)

    @property
    def delta_previous(self):
        return self._delta(self.value, self.previous)

    @property
    def delta_last_year(self):
        return self._delta(self.value, self.last_year)

    @property
    def progress(self) -> Decimal | None:
        """The month's progress towards its target, as a share."""
        if not self.target or self.month_to_date is None:
            return None
        return (Decimal(self.month_to_date) / self.target).quantize(Decimal("0.0001"))


@dataclass
class Column:
    key: str
    label: str
    kind: str = "count"


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    links: list[dict] = field(default_factory=list)  # per row: column key → url

    def cells(self):
        """Each row's (column, value, link) cells, for the template."""
        for index, row in enumerate(self.rows):
            links = self.links[index] if index < len(self.links) else {}
            yield [(column, row.get(column.key), links.get(column.key, "")) for column in self.columns]


@dataclass
class Chart:
    key: str
    title: str
    type: str  # line, bar, doughnut
    labels: list[str]
    datasets: list[dict]
    kind: str = "count"
    stacked: bool = False
    horizontal: bool = False

    def config(self) -> dict:
        return {
            "type": self.type,
            "horizontal": self.horizontal,
            "kind": self.kind,
            "stacked": self.stacked,
            "labels": self.labels,
            "datasets": [
                {**dataset, "data": [float(v) if v is not None else None for v in dataset["data"]]}
                for dataset in self.datasets
            ],
        }


@dataclass
class Dashboard:
    key: str
    title: str
    scope: Scope
    tiles: list[Tile] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def tile(self, key: str) -> Tile:
        return next(tile for tile in self.tiles if tile.key == key)

    def table(self, key: str) -> Table | None:
        return next((table for table in self.tables if table.key == key), None)


def compare(
    key: str,
    label,
    function: Callable,
    facts: dict[str, rollups.Facts],
    kind: str = "count",
    link: str = "",
    target: str | None = None,
    targets: dict[str, Decimal] | None = None,
    help="",
    lower_is_better: bool = False,
    **kwargs,
) -> Tile:
    """A tile whose value, comparisons and month-to-date come from one KPI function over each period."""
    tile = Tile(
        key=key,
        label=label,
        kind=kind,
        value=function(facts["current"], **kwargs),
        previous=function(facts["previous"], **kwargs),
        last_year=function(facts["last_year"], **kwargs),
        link=link,
        help=help,
        lower_is_better=lower_is_better,
    )
    if target and targets and target in targets:
        tile.target = targets[target]
        tile.month_to_date = function(facts["target_month"], **kwargs)
    return tile


def build(name: str, scope: Scope) -> Dashboard:
    if name not in DASHBOARDS:
        raise PermissionDenied
    return import_string(DASHBOARDS[name][0])(scope)


def bucket_label(start: datetime.date, bucket: str) -> str:
    if bucket == "month":
        return start.strftime("%Y-%m")
    return start.strftime("%m-%d")
