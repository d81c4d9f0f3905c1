"""Segment and privacy pages: saved segments with their live count and first page of customers, saving the
customer list's segment, the audited CSV export and its log, and the logged reveal of a phone or ID number.
Each parses the request, calls ``crm.segments`` or ``crm.privacy``, and renders."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View
from django_tables2 import SingleTableMixin

from dms.permissions import RolePermissionRequiredMixin

from . import privacy, segments
from .choices import RevealedField
from .forms import add_service_errors
from .models import Customer, Dealership, ExportLog, RevealLog, Segment
from .querysets import user_dealership_ids
from .segment_forms import SegmentForm, criteria_from_query
from .segment_tables import ExportLogTable, RevealLogTable, SegmentTable
from .selectors import with_vehicle_count
from .tables import CustomerTable
from .validators import phone_display

SEGMENTS_PER_PAGE = 20  # each row costs one count statement (see SegmentTable)
CUSTOMERS_PER_PAGE = 25
LOG_PER_PAGE = 50


def segment_query(criteria: dict, dealership_id: int | None = None) -> str:
    """The customer list's query string showing these criteria (at one rooftop)."""
    query = QueryDict(mutable=True)
    if dealership_id:
        query["dealership"] = str(dealership_id)
    for name, value in segments.criteria_json(criteria).items():
        if isinstance(value, list):
            query.setlist(name, value)
        elif isinstance(value, bool):
            query[name] = "true" if value else "false"
        else:
            query[name] = str(value)
    return query.urlencode()


def segment_context(request, form) -> dict:
    """The customer list's segment panel: whether criteria are given, their contradictions, the live count's
    wording, and what saving or exporting it needs (the criteria as typed, and one rooftop)."""
    active = form.has_segment()
    criteria = form.segment_criteria if active else None
    chosen = getattr(form, "cleaned_data", {}).get("dealership")
    rooftop_ids = user_dealership_ids(request.user)
    hidden = [
        (name, item)
        for name, value in criteria_from_query(request.GET).items()
        for item in (value if isinstance(value, list) else [value])
    ]
    return {
        "segment_active": active,
        "segment_valid": bool(criteria),
        "segment_errors": [
            (form.fields[name].label, form.errors[name]) for name in form.segment_names if name in form.errors
        ],
        "segment_query": segment_query_raw(request.GET),
        "segment_hidden": hidden,
        "export_rooftop_id": chosen.pk if chosen else (rooftop_ids[0] if len(rooftop_ids) == 1 else None),
    }


class SegmentListView(RolePermissionRequiredMixin, SingleTableMixin, TemplateView):
    permission_required = "crm.view_segment"
    table_class = SegmentTable
    template_name = "segments/list.html"
    table_pagination = {"per_page": SEGMENTS_PER_PAGE, "silent": True}

    def get_table_data(self):
        return Segment.objects.for_user(self.request.user).select_related("dealership", "created_by")


class SegmentCreateView(RolePermissionRequiredMixin, TemplateView):
    """Save the customer list's segment (its criteria arrive in the query string) with a name and rooftop."""

    permission_required = "crm.add_segment"
    template_name = "segments/form.html"

    def get_context_data(self, form=None, **kwargs):
        if form is None:
            initial = dict(criteria_from_query(self.request.GET))
            if self.request.GET.get("dealership", "").isdigit():
                initial["dealership"] = int(self.request.GET["dealership"])
            form = SegmentForm(user=self.request.user, initial=initial)
        return super().get_context_data(form=form.styled(), **kwargs)

    def post(self, request):
        form = SegmentForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                segment = segments.segment_save(
                    actor=request.user,
                    dealership=form.cleaned_data["dealership"],
                    name=form.cleaned_data["name"],
                    criteria=form.criteria(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Segment %(name)s saved.") % {"name": segment.name})
                return redirect("segments:detail", pk=segment.pk)
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


class SegmentDetailView(RolePermissionRequiredMixin, SingleTableMixin, TemplateView):
    """A saved segment: its criteria, how many customers it holds now, and the first of them (phones
    masked)."""

    permission_required = "crm.view_segment"
    table_class = CustomerTable
    template_name = "segments/detail.html"
    table_pagination = {"per_page": CUSTOMERS_PER_PAGE, "silent": True}

    def get(self, request, *args, **kwargs):
        try:
            self.segment = segments.segment_of(user=request.user, segment_id=kwargs["pk"])
        except Segment.DoesNotExist:
            raise Http404 from None
        self.refused = ""
        return super().get(request, *args, **kwargs)

    def get_table_data(self):
        try:
            customers = segments.saved_segment_customers(self.segment)
        except ValidationError as error:
            self.refused = " ".join(error.messages)
            return Customer.objects.none()
        return with_vehicle_count(customers.select_related("dealership", "owner"))

    def get_table_kwargs(self):
        return {"show_phones": privacy.may_see_phones(self.request.user)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        criteria = self.segment.criteria
        return {
            **context,
            "segment": self.segment,
            "criteria": segments.criteria_summary(criteria),
            "refused": self.refused,
            "list_query": "" if self.refused else segment_query(criteria, self.segment.dealership_id),
        }


def _csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class SegmentExportView(RolePermissionRequiredMixin, View):
    """POST: the saved segment's consenting customers as CSV, logged; a refusal is a message, not a file."""

    permission_required = ("crm.view_segment", "crm.export_customer")
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            segment = segments.segment_of(user=request.user, segment_id=pk)
        except Segment.DoesNotExist:
            raise Http404 from None
        try:
            lines = segments.segment_export_csv(
                actor=request.user, dealership=segment.dealership, criteria=segment.criteria, segment=segment
            )
        except ValidationError as error:
            messages.warning(request, " ".join(error.messages))
            return redirect("segments:detail", pk=segment.pk)
        return _csv_response(lines, f"segment-{segment.pk}-{timezone.localdate():%Y%m%d}.csv")


class BuilderExportView(RolePermissionRequiredMixin, View):
    """POST: the customer list's unsaved segment (its criteria and rooftop in the form) as CSV, logged."""

    permission_required = ("crm.view_customer", "crm.export_customer")
    http_method_names = ["post"]

    def post(self, request):
        criteria = criteria_from_query(request.POST)
        rooftop_ids = user_dealership_ids(request.user)
        chosen = request.POST.get("dealership", "")
        dealership_id = int(chosen) if chosen.isdigit() else (rooftop_ids[0] if len(rooftop_ids) == 1 else None)
        back = f"{reverse('crm:customer-list')}?{segment_query_raw(request.POST)}"
        dealership = Dealership.objects.filter(pk=dealership_id, pk__in=rooftop_ids).first()
        if dealership is None:
            messages.warning(request, _("Choose the dealership whose customers you export."))
            return redirect(back)
        try:
            lines = segments.segment_export_csv(actor=request.user, dealership=dealership, criteria=criteria)
        except ValidationError as error:
            messages.warning(request, " ".join(error.messages))
            return redirect(back)
        return _csv_response(lines, f"customers-{dealership.code}-{timezone.localdate():%Y%m%d}.csv")


def segment_query_raw(data) -> str:
    """The builder's fields (and rooftop) of a request, as the customer list's query string."""
    query = QueryDict(mutable=True)
    for name, value in criteria_from_query(data).items():
        query.setlist(name, value if isinstance(value, list) else [value])
    if data.get("dealership", "").isdigit():
        query["dealership"] = data["dealership"]
    return query.urlencode()


class ExportLogView(RolePermissionRequiredMixin, SingleTableMixin, TemplateView):
    """Every CSV export of the user's rooftops: who, when, which segment and criteria, how many customers."""

    permission_required = "crm.view_exportlog"
    table_class = ExportLogTable
    template_name = "segments/exports.html"
    table_pagination = {"per_page": LOG_PER_PAGE, "silent": True}

    def get_table_data(self):
        return ExportLog.objects.for_user(self.request.user).select_related("user", "segment", "dealership")


class RevealLogView(RolePermissionRequiredMixin, SingleTableMixin, TemplateView):
    """Every phone or ID number shown in full: who, whose, which, when (``?customer=`` narrows to one)."""

    permission_required = "crm.view_reveallog"
    table_class = RevealLogTable
    template_name = "segments/reveals.html"
    table_pagination = {"per_page": LOG_PER_PAGE, "silent": True}

    def get_table_data(self):
        rows = RevealLog.objects.for_user(self.request.user).select_related("user", "customer", "dealership")
        customer = self.request.GET.get("customer", "")
        return rows.filter(customer_id=int(customer)) if customer.isdigit() else rows


class RevealView(RolePermissionRequiredMixin, View):
    """POST (htmx): the full phone or ID number as a fragment, logged. A role that may not see numbers gets
    403 and another rooftop's customer 404, neither logged."""

    permission_required = ("crm.view_customer", "crm.view_customer_phone")
    http_method_names = ["post"]

    def post(self, request, pk, field):
        try:
            value = privacy.customer_reveal(actor=request.user, customer_id=pk, field=field)
        except Customer.DoesNotExist:
            raise Http404 from None
        is_phone = field != RevealedField.ID_NUMBER
        return render(
            request,
            "segments/partials/revealed.html",
            {"field": field, "value": phone_display(value) if is_phone else value, "tel": value if is_phone else ""},
        )
