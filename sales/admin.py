"""What an administrator configures for sales: each rooftop's cadence and discount limit, its lost-lead
reasons, demo cars and stock. Leads, quotes and orders change only through the services (pages, API)."""

from django.contrib import admin

from crm.admin import RooftopScopedAdmin
from crm.querysets import user_dealership_ids

from .models import DemoVehicle, LostReason, SalesSettings, StockVehicle


@admin.register(SalesSettings)
class SalesSettingsAdmin(admin.ModelAdmin):
    list_display = ["dealership", "cadence_h", "cadence_a", "cadence_b", "cadence_c", "discount_limit"]
    list_select_related = ["dealership"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(dealership_id__in=user_dealership_ids(request.user))


@admin.register(LostReason)
class LostReasonAdmin(RooftopScopedAdmin):
    list_display = ["name", "dealership", "active"]
    list_filter = ["dealership", "active"]


@admin.register(DemoVehicle)
class DemoVehicleAdmin(RooftopScopedAdmin):
    list_display = ["model", "plate", "vin", "dealership", "active"]
    list_filter = ["dealership", "active"]
    search_fields = ["=vin", "=plate", "model"]


@admin.register(StockVehicle)
class StockVehicleAdmin(RooftopScopedAdmin):
    list_display = ["vin", "make", "model", "trim", "colour", "list_price", "status", "arrived_on", "dealership"]
    list_filter = ["dealership", "status", "model"]
    search_fields = ["=vin", "model"]
