"""The dashboard pages and their CSV / Excel exports."""

from __future__ import annotations

from decimal import Decimal

import tablib
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views import View

from . import dashboards
from .dashboards import DASHBOARDS, DashboardFilterForm


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
