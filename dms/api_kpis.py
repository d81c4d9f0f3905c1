"""``/api/kpis/``: every KPI of the dashboards for the given filters, as JSON."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import dashboards
from .dashboard_views import plain
from .periods import PRESETS


class PeriodSerializer(serializers.Serializer):
    first = serializers.DateField()
    last = serializers.DateField()


class KpiValueSerializer(serializers.Serializer):
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=dashboards.KINDS, help_text="A rate is a share from 0 to 1.")
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    last_year = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True, help_text="This month's target of the rooftops chosen.")
    month_to_date = serializers.FloatField(allow_null=True)
    link = serializers.CharField(help_text="The list of the records behind the number.")


class KpiTableSerializer(serializers.Serializer):
    title = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField())


class KpiDashboardSerializer(serializers.Serializer):
    kpis = serializers.DictField(child=KpiValueSerializer())
    tables = serializers.DictField(child=KpiTableSerializer())


class KpiResponseSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous = PeriodSerializer()
    last_year = PeriodSerializer()
    dealerships = serializers.ListField(child=serializers.IntegerField())
    staff = serializers.IntegerField(allow_null=True)
    dashboards = serializers.DictField(child=KpiDashboardSerializer())


def _number(value):
    return None if value is None else float(value)


def dashboard_json(dashboard: dashboards.Dashboard) -> dict:
    return {
        "kpis": {
            tile.key: {
                "label": str(tile.label),
                "kind": tile.kind,
                "value": _number(tile.value),
                "previous": _number(tile.previous),
                "last_year": _number(tile.last_year),
                "target": _number(tile.target),
                "month_to_date": _number(tile.month_to_date),
                "link": tile.link,
            }
            for tile in dashboard.tiles
        },
        "tables": {
            table.key: {
                "title": str(table.title),
                "columns": [column.key for column in table.columns],
                "rows": [
                    {column.key: plain(row.get(column.key), column.kind) for column in table.columns}
                    for row in table.rows
                ],
            }
            for table in dashboard.tables
        },
    }


class KpiView(APIView):
    """Every KPI of the sales, service and customer-care dashboards for a period, rooftops and staff member,
    with the previous period, the same period last year and this month's targets. Managers choose among
    their rooftops and staff; consultants, advisors and specialists get their own figures."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "dashboard",
                OpenApiTypes.STR,
                enum=list(dashboards.DASHBOARDS),
                description="One dashboard (default: all).",
            ),
            OpenApiParameter(
                "preset", OpenApiTypes.STR, enum=list(PRESETS), description="The period (default: this_month)."
            ),
            OpenApiParameter("first", OpenApiTypes.DATE, description="First day of a custom period."),
            OpenApiParameter("last", OpenApiTypes.DATE, description="Last day of a custom period."),
            OpenApiParameter(
                "dealership", OpenApiTypes.INT, many=True, description="Rooftops (default: all of yours)."
            ),
            OpenApiParameter("staff", OpenApiTypes.INT, description="One staff member (managers only)."),
        ],
        responses=KpiResponseSerializer,
    )
    def get(self, request):
        if not dashboards.may_see_own(request.user):
            raise PermissionDenied
        names = list(dashboards.DASHBOARDS)
        chosen = request.query_params.get("dashboard")
        if chosen:
            if chosen not in dashboards.DASHBOARDS:
                raise serializers.ValidationError({"dashboard": [f"Choose one of {', '.join(names)}."]})
            names = [chosen]
        form = dashboards.DashboardFilterForm(request.query_params or {"preset": "this_month"}, user=request.user)
        if not form.is_valid():
            raise serializers.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        scope = form.scope()
        if not scope.dealership_ids:
            raise PermissionDenied
        comparisons = scope.period.comparisons()
        data = {
            "period": {"first": scope.period.first, "last": scope.period.last},
            "previous": dict(zip(("first", "last"), comparisons["previous"], strict=True)),
            "last_year": dict(zip(("first", "last"), comparisons["last_year"], strict=True)),
            "dealerships": scope.dealership_ids,
            "staff": scope.staff_id,
            "dashboards": {name: dashboard_json(dashboards.build(name, scope)) for name in names},
        }
        return Response(KpiResponseSerializer(data).data)
