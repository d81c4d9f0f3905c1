"""Daily and monthly KPI rollups, the log of days a write has made stale, and monthly targets.

A dashboard never scans years of raw rows: each KPI's counters are summed per rooftop, local day,
staff member and dimension (``grain`` ``d``) and per month (``m``, the sum of the month's days), and
the same without the staff member (``D`` and ``M``: what the rooftop figures, comparisons and trends
read, a fraction of the rows).
Triggers on the source tables log the (rooftop, day) pairs every write touches in ``KpiDirty``
within the writing transaction; ``dms.rollups.refresh`` recomputes those days from the raw rows
(a Celery task every minute, and every dashboard before it reads). Snapshot figures that are not
sums over days (the retention rate) are stored once a day with grain ``s``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Dealership


class Grain(models.TextChoices):
    DAY = "d", _("Day, per staff member")
    MONTH = "m", _("Month, per staff member")
    DAY_TOTAL = "D", _("Day")
    MONTH_TOTAL = "M", _("Month")
    SNAPSHOT = "s", _("Snapshot")


class KpiRollup(models.Model):
    """One counter of one metric: ``n`` rows and the ``total`` of their value (money, hours, score)."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    dealership_id = models.IntegerField()
    day = models.DateField()
    metric = models.CharField(max_length=40)
    staff_id = models.IntegerField(default=0)
    dim = models.CharField(max_length=40, default="", blank=True)
    n = models.BigIntegerField(default=0)
    total = models.DecimalField(max_digits=20, decimal_places=4, default=Decimal("0"))

    class Meta:
        default_permissions = ()
        permissions = [
            ("view_team_kpis", _("Can view the KPI dashboards of their rooftops")),
            ("view_own_kpis", _("Can view a dashboard of their own figures")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "dealership_id", "day", "metric", "staff_id", "dim"], name="kpi_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.dealership_id} {self.day} {self.metric}/{self.staff_id}/{self.dim}: {self.n}"


class KpiDirty(models.Model):
    """A (rooftop, local day) whose rollups a committed write has made stale; appended by triggers."""

    id = models.BigAutoField(primary_key=True)
    dealership_id = models.IntegerField()
    day = models.DateField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.dealership_id} {self.day}"


class TargetKpi(models.TextChoices):
    LEADS = "leads", _("New leads")
    ORDERS = "orders", _("Orders")
    DELIVERIES = "deliveries", _("Vehicle deliveries")
    RO_DELIVERED = "ro_delivered", _("Repair orders delivered")
    LABOUR_REVENUE = "labour_revenue", _("Labour revenue")
    PARTS_REVENUE = "parts_revenue", _("Parts revenue")
    SURVEYS = "surveys", _("Surveys answered")


class KpiTarget(models.Model):
    """A rooftop's goal for one figure in one month; dashboards show the month's progress towards it."""

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="kpi_targets")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    kpi = models.CharField(_("figure"), max_length=20, choices=TargetKpi.choices)
    value = models.DecimalField(
        _("target"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )

    class Meta:
        ordering = ["-month", "dealership", "kpi"]
        verbose_name = _("monthly target")
        verbose_name_plural = _("monthly targets")
        constraints = [
            models.UniqueConstraint(fields=["dealership", "month", "kpi"], name="kpi_target_per_month"),
            models.CheckConstraint(condition=models.Q(month__day=1), name="kpi_target_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.dealership} {self.month:%Y-%m} {self.kpi}: {self.value}"
