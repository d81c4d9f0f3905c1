"""The dashboard pages and their CSV / Excel exports."""

from __future__ import annotations

import datetime
from decimal import Decimal

import tablib
from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views import View

from crm.models import Dealership
from crm.querysets import user_dealership_ids

from . import dashboards
from .dashboards import DASHBOARDS, DashboardFilterForm
from .models import KpiTarget, TargetKpi
from .permissions import RolePermissionRequiredMixin


def home(request):
    """``/dashboard/``: the first dashboard of the user's role."""
    if not request.user.is_authenticated:
        return redirect("login")
    groups = set(request.user.groups.values_list("name", flat=True))
    name = "sales" if "Sales consultant" in groups else "care" if "Customer specialist" in groups else "service"
    return redirect("dashboard", name=name)


def plain(value, kind: str):
    """A cell for an export: numbers as numbers (a rate as a percentage), None as empty."""
    if value is None:
        return ""
    if kind == "rate":
        return float((Decimal(value) * 100).quantize(Decimal("0.1")))
    if isinstance(value, Decimal):
        return float(value)
    return value if isinstance(value, int | float) else str(value)


class DashboardView(LoginRequiredMixin, View):
    """One dashboard: filters, tiles with comparisons and targets, charts, per-person tables.
    ``?export=csv|xlsx&table=<key>`` downloads a table."""

    def get(self, request, name: str):
        if name not in DASHBOARDS:
            raise Http404
        if not dashboards.may_see_own(request.user):
            raise PermissionDenied
        form = DashboardFilterForm(request.GET or None, user=request.user)
        if request.GET and not form.is_valid():
            return render(
                request,
                "dms/dashboard.html",
                {"form": form, "name": name, "dashboards": DASHBOARDS, "dashboard": None},
                status=400,
            )
        if not request.GET:
            form = DashboardFilterForm({"preset": "this_month"}, user=request.user)
            form.is_valid()
        scope = form.scope()
        if not scope.dealership_ids:
            raise PermissionDenied
        dashboard = dashboards.build(name, scope)
        export = request.GET.get("export")
        if export:
            return self.export(dashboard, request.GET.get("table", ""), export)
        return render(
            request,
            "dms/dashboard.html",
            {
                "form": form,
                "name": name,
                "dashboards": DASHBOARDS,
                "dashboard": dashboard,
                "charts": {chart.key: chart.config() for chart in dashboard.charts},
                "export_query": request.GET.urlencode(),
                "chosen_rooftops": [int(pk) for pk in request.GET.getlist("dealership") if pk.isdigit()],
            },
        )

    def export(self, dashboard, key: str, fmt: str):
        table = dashboard.table(key)
        if table is None or fmt not in ("csv", "xlsx"):
            raise Http404
        data = tablib.Dataset(headers=[str(column.label) for column in table.columns], title=str(table.title)[:31])
        for row in table.rows:
            data.append([plain(row.get(column.key), column.kind) for column in table.columns])
        period = dashboard.scope.period
        filename = f"{dashboard.key}-{slugify(key)}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(
                "\ufeff" + data.export("csv"), content_type="text/csv; charset=utf-8"
            )  # a BOM so Excel reads the Chinese
        else:
            response = HttpResponse(
                data.export("xlsx"), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _plain(value: Decimal | None):
    """A stored target as typed: 120, not 120.00."""
    return int(value) if value is not None and value == value.to_integral_value() else value


class TargetsForm(forms.Form):
    """A month's targets: one field per rooftop and figure; an empty field removes the target."""

    def __init__(self, *args, rooftops, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.rooftops = list(rooftops)
        self.grid = []
        for rooftop in self.rooftops:
            row = []
            for kpi, label in TargetKpi.choices:
                name = f"t_{rooftop.pk}_{kpi}"
                self.fields[name] = forms.DecimalField(
                    label=f"{rooftop.code} · {label}",
                    required=False,
                    min_value=Decimal("0.01"),
                    max_digits=14,
                    decimal_places=2,
                    initial=_plain(current.get((rooftop.pk, kpi))),
                    widget=forms.NumberInput(attrs={"class": "form-control form-control-sm text-end", "step": "any"}),
                )
                row.append(name)
            self.grid.append((rooftop, [self[name] for name in row]))


def _month(value: str | None) -> datetime.date:
    try:
        return datetime.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


class TargetsView(RolePermissionRequiredMixin, View):
    """``/dashboard/targets/?month=YYYY-MM``: a manager sets each rooftop's monthly targets in one form."""

    permission_required = "dms.change_kpitarget"

    def dispatch(self, request, *args, **kwargs):
        self.month = _month(request.GET.get("month"))
        self.rooftops = Dealership.objects.filter(pk__in=user_dealership_ids(request.user)).order_by("code")
        return super().dispatch(request, *args, **kwargs)

    def current(self) -> dict:
        rows = KpiTarget.objects.filter(dealership__in=self.rooftops, month=self.month)
        return {(row.dealership_id, row.kpi): row.value for row in rows}

    def render(self, form, status=200):
        context = {"form": form, "month": self.month, "kpis": TargetKpi.choices}
        return render(self.request, "dms/targets.html", context, status=status)

    def get(self, request):
        return self.render(TargetsForm(rooftops=self.rooftops, current=self.current()))

    def post(self, request):
        form = TargetsForm(request.POST, rooftops=self.rooftops, current=self.current())
        if not form.is_valid():
            return self.render(form, status=400)
        with transaction.atomic():
            for rooftop in form.rooftops:
                for kpi in TargetKpi.values:
                    value = form.cleaned_data[f"t_{rooftop.pk}_{kpi}"]
                    found = KpiTarget.objects.filter(dealership=rooftop, month=self.month, kpi=kpi)
                    if value is None:
                        found.delete()
                    else:
                        KpiTarget.objects.update_or_create(
                            dealership=rooftop, month=self.month, kpi=kpi, defaults={"value": value}
                        )
        messages.success(request, _("Targets of %(month)s saved.") % {"month": f"{self.month:%Y-%m}"})
        return redirect(f"{request.path}?month={self.month:%Y-%m}")
