from django.contrib import admin

from .models import KpiTarget


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    list_display = ["month", "dealership", "kpi", "value"]
    list_filter = ["dealership", "kpi", "month"]
