"""The saved segments, the export log and the reveal log as tables."""

import django_tables2 as tables
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import ExportLog, RevealLog, Segment
from .segments import criteria_summary, saved_segment_customers


def _criteria(criteria: dict):
    return format_html_join(
        " ", '<span class="badge text-bg-light border fw-normal">{}: {}</span>', criteria_summary(criteria)
    )


class SegmentTable(tables.Table):
    """Saved segments with their live count. The count is one statement per segment shown, so the list is
    paginated to at most 20 (``SEGMENTS_PER_PAGE``): at most 20 counts per page, whatever the number saved."""

    name = tables.Column(verbose_name=_("Segment"), linkify=("segments:detail", {"pk": tables.A("pk")}))
    dealership = tables.Column(verbose_name=_("Dealership"), accessor="dealership__code")
    criteria = tables.Column(verbose_name=_("Criteria"), orderable=False)
    customer_count = tables.Column(
        verbose_name=_("Customers now"), empty_values=(), orderable=False, attrs={"td": {"class": "segment-count"}}
    )
    created_by = tables.Column(verbose_name=_("Saved by"), default="—", orderable=False)
    updated_at = tables.DateTimeColumn(format="Y-m-d", verbose_name=_("Saved"))

    class Meta:
        model = Segment
        fields = ["name", "dealership", "criteria", "customer_count", "created_by", "updated_at"]
        attrs = {"class": "table table-sm table-hover align-middle", "id": "segments"}
        empty_text = _("No saved segments yet: build one on the customer list.")

    def render_criteria(self, value):
        return _criteria(value)

    def render_customer_count(self, record):
        try:
            return saved_segment_customers(record).count()
        except ValidationError:  # criteria saved before a rule changed
            return format_html('<span class="text-danger">{}</span>', _("criteria to fix"))


class ExportLogTable(tables.Table):
    created_at = tables.Column(verbose_name=_("When"))
    user = tables.Column(verbose_name=_("Who"))
    segment = tables.Column(
        verbose_name=_("Segment"),
        linkify=lambda record: reverse("segments:detail", args=[record.segment_id]) if record.segment_id else None,
        default="—",
    )
    criteria = tables.Column(verbose_name=_("Criteria"), orderable=False)
    row_count = tables.Column(verbose_name=_("Customers exported"))
    dealership = tables.Column(verbose_name=_("Dealership"), accessor="dealership__code")

    class Meta:
        model = ExportLog
        fields = ["created_at", "user", "segment", "criteria", "row_count", "dealership"]
        attrs = {"class": "table table-sm table-hover align-middle", "id": "exports"}
        empty_text = _("Nobody has exported customers yet.")

    def render_created_at(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")

    def render_criteria(self, value):
        return _criteria(value)


class RevealLogTable(tables.Table):
    created_at = tables.Column(verbose_name=_("When"))
    user = tables.Column(verbose_name=_("Who"))
    customer = tables.Column(verbose_name=_("Whose"), linkify=True)
    field = tables.Column(verbose_name=_("What"))
    dealership = tables.Column(verbose_name=_("Dealership"), accessor="dealership__code")

    class Meta:
        model = RevealLog
        fields = ["created_at", "user", "customer", "field", "dealership"]
        attrs = {"class": "table table-sm table-hover align-middle", "id": "reveals"}
        empty_text = _("Nobody has revealed a number yet.")

    def render_created_at(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
