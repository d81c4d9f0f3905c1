from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import (
    BusinessHours,
    Customer,
    Dealership,
    Holiday,
    OdometerReading,
    Question,
    Questionnaire,
    User,
    Vehicle,
    VehicleOwnership,
)


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Dealership)
class DealershipAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_zone", "phone_region", "labour_rate_amount", "vin_check_digit_required"]
    search_fields = ["code", "name"]
    inlines = [BusinessHoursInline, HolidayInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Dealership"), {"fields": ("full_name", "dealerships")}))
    list_display = ["username", "full_name", "is_active", "is_staff"]
    list_filter = ["groups", "dealerships", "is_active"]
    filter_horizontal = ["groups", "user_permissions", "dealerships"]


class RooftopScopedAdmin(admin.ModelAdmin):
    """Admin lists show only the rooftops the administrator is assigned to."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)


@admin.register(Customer)
class CustomerAdmin(RooftopScopedAdmin):
    list_display = ["full_name", "dealership", "mobile", "source", "created_at"]
    list_filter = ["dealership", "kind", "source"]
    search_fields = ["mobile", "email"]
    raw_id_fields = ["owner"]
    list_select_related = ["dealership"]


class OwnershipInline(admin.TabularInline):
    model = VehicleOwnership
    extra = 0
    raw_id_fields = ["customer", "created_by"]
    fields = ["customer", "started_on", "ended_on"]


@admin.register(Vehicle)
class VehicleAdmin(RooftopScopedAdmin):
    list_display = ["plate", "vin", "make", "model", "dealership", "owner"]
    list_filter = ["dealership", "make"]
    search_fields = ["=vin", "=plate"]
    raw_id_fields = ["owner"]
    list_select_related = ["dealership", "owner"]
    inlines = [OwnershipInline]


@admin.register(OdometerReading)
class OdometerReadingAdmin(RooftopScopedAdmin):
    list_display = ["vehicle", "reading_km", "read_on", "correction_reason"]
    raw_id_fields = ["vehicle", "recorded_by"]


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ["position", "text", "scale", "required"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(RooftopScopedAdmin):
    """A rooftop's survey questions; to change a questionnaire in use, add a new one and retire the old."""

    list_display = ["name", "dealership", "kind", "active", "created_at"]
    list_filter = ["dealership", "kind", "active"]
    inlines = [QuestionInline]
