"""Showroom pages: the consultant's day, the pipeline, leads with their timeline, the visit log, quotes,
orders and the manager's lost-lead review. Each parses the request, calls a selector or a service, and
renders; a refused step shows its message on its form (400, or 409 when the lead's state forbids it)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from django_filters.views import FilterView

from crm.care_forms import VoucherRedeemForm
from crm.choices import Role
from crm.forms import add_service_errors, bootstrap
from crm.models import Dealership, User
from crm.querysets import user_dealership_ids
from crm.views import CustomerInQueryMixin, PagedListMixin, phones_for
from crm.vouchers import code_display, voucher_redeem, vouchers_redeemed_on
from dms.errors import Conflict
from dms.permissions import RolePermissionRequiredMixin

from . import forms, selectors, services
from .choices import FUNNEL, OPEN_STAGES, LostReview, OrderStatus, Stage, StockStatus
from .filters import LeadPageFilterSet, StockVehicleFilterSet
from .models import DemoVehicle, Lead, Order, Quote, StockVehicle
from .tables import LeadTable, StockTable


def _staff(user: User, *roles: Role, dealership_id: int | None = None):
    rows = User.objects.filter(
        dealerships__in=[dealership_id] if dealership_id else user_dealership_ids(user),
        groups__name__in=[role.value for role in roles],
        is_active=True,
    )
    return rows.distinct().order_by("full_name", "username")


def _consultants(user: User, dealership_id: int | None = None):
    return _staff(user, Role.SALES_CONSULTANT, Role.MANAGER, dealership_id=dealership_id)


def _int(value) -> int | None:
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return None


def _next_stage(stage: str) -> str | None:
    """The next step a consultant moves a lead to by hand (ordered comes from the order)."""
    if stage in OPEN_STAGES[:-1]:
        return FUNNEL[FUNNEL.index(stage) + 1]
    return None


# --- the consultant's day and the pipeline ----------------------------------------------------------


class TodayView(RolePermissionRequiredMixin, TemplateView):
    """The consultant's 'today': follow-ups due and overdue first, then test drives and deliveries."""

    permission_required = "sales.view_lead"
    template_name = "sales/today.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        consultant_id = _int(self.request.GET.get("consultant")) if user.has_role(Role.MANAGER) else None
        now = timezone.now()
        zone = timezone.get_current_timezone()
        day = selectors.consultant_today(user=user, now=now, zone=zone, consultant_id=consultant_id)
        return super().get_context_data(
            day=day,
            today=timezone.localdate(now, zone),
            consultants=_consultants(user) if user.has_role(Role.MANAGER) else [],
            consultant_id=consultant_id,
            **kwargs,
        )


class PipelineView(RolePermissionRequiredMixin, TemplateView):
    """The kanban: one column per stage with its count; a card moves on with its button."""

    permission_required = "sales.view_lead"
    template_name = "sales/pipeline.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        consultant_id = _int(self.request.GET.get("consultant"))
        columns = selectors.pipeline(user=user, consultant_id=consultant_id)
        for _stage, _count, cards in columns:
            for lead in cards:
                lead.next_stage = _next_stage(lead.stage)
        return super().get_context_data(
            columns=columns,
            today=timezone.localdate(),
            consultants=_consultants(user) if not services.sees_own_leads_only(user) else [],
            consultant_id=consultant_id,
            Stage=Stage,
            **kwargs,
        )


class LeadListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    permission_required = "sales.view_lead"
    filterset_class = LeadPageFilterSet
    table_class = LeadTable
    template_name = "sales/lead_list.html"

    def get_queryset(self):
        return selectors.lead_list(user=self.request.user)


class StockListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    """The rooftops' new cars: status and days in stock (over 90 days in red)."""

    permission_required = "sales.view_stockvehicle"
    filterset_class = StockVehicleFilterSet
    table_class = StockTable
    template_name = "sales/stock_list.html"

    def get_queryset(self):
        return selectors.stock_list(user=self.request.user)

    def get_table_kwargs(self):
        return {"today": timezone.localdate()}


# --- the showroom visit log and new leads -------------------------------------------------------------


class VisitLogView(RolePermissionRequiredMixin, TemplateView):
    """展厅来店登记: the reception desk logs each walk-in by mobile; today's visits are listed below."""

    permission_required = "sales.add_activity"
    template_name = "sales/visits.html"

    def dealership(self) -> Dealership:
        rooftops = user_dealership_ids(self.request.user)
        chosen = _int(self.request.POST.get("dealership") or self.request.GET.get("dealership"))
        pk = chosen if chosen in rooftops else (sorted(rooftops)[0] if rooftops else None)
        if pk is None:
            raise PermissionDenied
        return Dealership.objects.get(pk=pk)

    def get_context_data(self, form=None, **kwargs):
        dealership = self.dealership()
        consultants = _consultants(self.request.user, dealership.pk)
        if form is None:
            form = forms.VisitForm(consultants=consultants, initial={"consultant": self.request.user.pk})
        now = timezone.now()
        zone = dealership.zone
        start = datetime.datetime.combine(timezone.localdate(now, zone), datetime.time.min, tzinfo=zone)
        rooftops = user_dealership_ids(self.request.user)
        return super().get_context_data(
            form=form.styled(),
            dealership=dealership,
            rooftops=Dealership.objects.filter(pk__in=rooftops).order_by("code") if len(rooftops) > 1 else [],
            visits=selectors.visits_between(
                user=self.request.user, dealership_id=dealership.pk, start=start, end=start + datetime.timedelta(1)
            ),
            **kwargs,
        )

    def post(self, request):
        dealership = self.dealership()
        if "end" in request.POST:
            try:
                services.showroom_visit_end(actor=request.user, activity_id=_int(request.POST["end"]) or 0)
            except ObjectDoesNotExist:
                raise Http404 from None
            except (ValidationError, Conflict) as error:
                messages.error(request, " ".join(error.messages))
            return redirect(f"{reverse('sales:visits')}?dealership={dealership.pk}")
        form = forms.VisitForm(request.POST, consultants=_consultants(request.user, dealership.pk))
        with timezone.override(dealership.zone):
            valid = form.is_valid()
        if valid:
            try:
                visit = services.showroom_visit_log(actor=request.user, dealership=dealership, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as error:
                if isinstance(error, PermissionDenied):
                    raise
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("%(name)s's visit is logged on their lead.") % {"name": visit.lead.customer.full_name},
                )
                return redirect(f"{reverse('sales:visits')}?dealership={dealership.pk}")
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


class LeadCreateView(RolePermissionRequiredMixin, CustomerInQueryMixin, TemplateView):
    """A new lead for a customer already on file (from the customer 360)."""

    permission_required = "sales.add_lead"
    template_name = "sales/lead_form.html"

    def consultants(self, customer):
        if services.sees_own_leads_only(self.request.user):
            return None
        return _consultants(self.request.user, customer.dealership_id)

    def get_context_data(self, form=None, **kwargs):
        customer = self.customer()
        if form is None:
            form = forms.LeadForm(consultants=self.consultants(customer), initial={"owner": self.request.user.pk})
        return super().get_context_data(form=form.styled(), customer=customer, **kwargs)

    def post(self, request):
        customer = self.customer()
        form = forms.LeadForm(request.POST, consultants=self.consultants(customer))
        if form.is_valid():
            data = dict(form.cleaned_data)
            referrer_mobile = data.pop("referrer_mobile")
            referrer = None
            try:
                if referrer_mobile:
                    referrer = services.referrer_by_mobile(dealership=customer.dealership, mobile=referrer_mobile)
                lead = services.lead_create(actor=request.user, customer=customer, referrer=referrer, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect(lead.get_absolute_url())
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


# --- one lead -----------------------------------------------------------------------------------------

LEAD_ACTIONS = {
    # action: form class
    "activity": forms.ActivityForm,
    "grade": forms.GradeForm,
    "stage": forms.StageForm,
    "test-drive": forms.TestDriveForm,
    "feedback": forms.FeedbackForm,
    "quote": forms.QuoteForm,
    "lost": forms.LostForm,
    "review": forms.ReviewForm,
    "reactivate": forms.NoteForm,
    "reassign": forms.ReassignForm,
    "order": forms.OrderForm,
}


class LeadDetailView(RolePermissionRequiredMixin, TemplateView):
    """The lead: needs, grade and stage, the next follow-up, the timeline, test drives, quotes and orders,
    and a form for each next step."""

    permission_required = "sales.view_lead"
    template_name = "sales/lead_detail.html"

    def lead(self) -> Lead:
        try:
            return selectors.lead_detail(user=self.request.user, lead_id=self.kwargs["pk"])
        except Lead.DoesNotExist:
            raise Http404 from None

    def form_kwargs(self, action: str, lead: Lead) -> dict:
        if action == "test-drive":
            return {"demo_vehicles": DemoVehicle.objects.filter(dealership=lead.dealership_id, active=True)}
        if action in ("quote", "order"):
            return {
                "stock": StockVehicle.objects.filter(
                    dealership=lead.dealership_id, status__in=(StockStatus.IN_STOCK, StockStatus.IN_TRANSIT)
                )
            }
        if action == "lost":
            return {"reasons": services.dealership_lost_reasons(lead.dealership)}
        if action == "reassign":
            return {"consultants": _consultants(self.request.user, lead.dealership_id)}
        return {}

    def get_context_data(self, bound=None, error_action=None, **kwargs):
        lead = self.lead()
        user = self.request.user
        built = {}
        for action, form_class in LEAD_ACTIONS.items():
            initial = {}
            if action == "grade":
                initial = {"grade": lead.grade}
            elif action == "stage":
                initial = {"stage": _next_stage(lead.stage) or lead.stage}
            elif action == "quote":
                latest = next(iter(lead.quotes.all()), None)
                initial = {"model": lead.model_of_interest}
                if latest is not None:
                    initial.update(
                        stock_vehicle=latest.stock_vehicle_id,
                        model=latest.model,
                        list_price=latest.list_price,
                        discount=latest.discount,
                        accessories=latest.accessories,
                        accessories_price=latest.accessories_price,
                        trade_in_value=latest.trade_in_value,
                        insurance=latest.insurance,
                        down_payment=latest.down_payment,
                        term_months=latest.term_months,
                        annual_rate_percent=latest.annual_rate * 100 if latest.annual_rate is not None else None,
                    )
            elif action == "order":
                latest = next(iter(lead.quotes.all()), None)
                initial = {"stock_vehicle": latest.stock_vehicle_id if latest else None}
            with timezone.override(lead.dealership.zone):
                built[action.replace("-", "_")] = form_class(initial=initial, **self.form_kwargs(action, lead))
        if bound is not None:
            built[error_action.replace("-", "_")] = bound
        for form in built.values():
            form.styled()
        quotes = list(lead.quotes.all())
        for quote in quotes:
            quote.needs_approval = services.needs_discount_approval(quote)
        is_manager = user.has_role(Role.MANAGER, Role.ADMINISTRATOR)
        return super().get_context_data(
            lead=lead,
            phones=phones_for(self.request, lead.customer),
            forms=built,
            error_action=error_action,
            timeline=selectors.timeline(lead),
            quotes=quotes,
            latest_quote=quotes[0] if quotes else None,
            is_open=lead.stage in OPEN_STAGES and lead.lost_review != LostReview.APPLIED,
            can_change=user.has_perm("sales.change_lead") and (is_manager or lead.owner_id == user.pk),
            is_manager=is_manager,
            next_stage=_next_stage(lead.stage),
            Stage=Stage,
            LostReview=LostReview,
            zone=lead.dealership.zone,
            today=timezone.localdate(timezone.now(), lead.dealership.zone),
            **kwargs,
        )


class LeadActionView(LeadDetailView):
    """POST one step on the lead (a form named by ``action``); errors re-render the lead with the form."""

    http_method_names = ["post"]
    permission_required = "sales.change_lead"

    def post(self, request, pk, action):
        if action == "advance":
            return self.advance(request, pk)
        form_class = LEAD_ACTIONS.get(action)
        if form_class is None:
            raise Http404
        lead = selectors.lead_list(user=request.user, action="change").filter(pk=pk).first()
        if lead is None:
            raise Http404
        form = form_class(request.POST, **self.form_kwargs(action, lead))
        with timezone.override(lead.dealership.zone):
            valid = form.is_valid()
        status = 400
        if valid:
            try:
                target = self.perform(action, lead, form)
            except ObjectDoesNotExist:
                raise Http404 from None
            except ValidationError as error:  # Conflict included: the lead's state forbids the step
                add_service_errors(form, error)
                status = 409 if isinstance(error, Conflict) else 400
            else:
                return redirect(target or lead.get_absolute_url())
        response = self.render_to_response(self.get_context_data(bound=form, error_action=action))
        response.status_code = status
        return response

    def perform(self, action: str, lead: Lead, form) -> str | None:
        actor, pk, data = self.request.user, lead.pk, form.cleaned_data
        version = _int(self.request.POST.get("version"))
        if action == "activity":
            services.activity_log(actor=actor, lead_id=pk, **data)
        elif action == "grade":
            services.lead_set_grade(actor=actor, lead_id=pk, grade=data["grade"], version=version)
        elif action == "stage":
            services.lead_set_stage(actor=actor, lead_id=pk, version=version, **data)
        elif action == "test-drive":
            services.test_drive_book(
                actor=actor,
                lead_id=pk,
                demo_vehicle_id=data["demo_vehicle"].pk,
                starts_at=data["starts_at"],
                licence_number=data["licence_number"],
                licence_expires_on=data["licence_expires_on"],
            )
        elif action == "feedback":
            services.test_drive_complete(actor=actor, test_drive_id=data["test_drive"], feedback=data["feedback"])
        elif action == "quote":
            quote = services.quote_create(actor=actor, lead_id=pk, **form.service_data())
            return reverse("sales:quote-detail", args=[quote.pk])
        elif action == "lost":
            reason = data["reason"]
            services.lead_apply_lost(
                actor=actor, lead_id=pk, reason_id=reason.pk if reason else None, note=data["note"]
            )
        elif action == "review":
            services.lead_review_lost(actor=actor, lead_id=pk, approve=data["approve"], note=data["note"])
        elif action == "reactivate":
            services.lead_reactivate(actor=actor, lead_id=pk, note=data["note"])
        elif action == "reassign":
            services.lead_reassign(actor=actor, lead_id=pk, owner=data["owner"])
        elif action == "order":
            quote_id = _int(self.request.POST.get("quote"))
            if quote_id is None:
                raise ValidationError(_("Order from a quote."))
            order = services.order_create(
                actor=actor, quote_id=quote_id, stock_vehicle_id=data["stock_vehicle"].pk, deposit=data["deposit"]
            )
            return reverse("sales:order-detail", args=[order.pk])
        return None

    def advance(self, request, pk):
        """The pipeline's button: move the card one step on (htmx swaps the card; a page posts back)."""
        lead = selectors.lead_list(user=request.user, action="change").filter(pk=pk).first()
        if lead is None:
            raise Http404
        target = _next_stage(lead.stage)
        try:
            if target is None:
                raise Conflict(_("Move this lead on from its page."))
            services.lead_set_stage(
                actor=request.user, lead_id=pk, stage=target, version=_int(request.POST.get("version"))
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        back = request.POST.get("next") or reverse("sales:pipeline")
        return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("sales:pipeline"))


# --- quotes and orders ----------------------------------------------------------------------------


class QuoteDetailView(RolePermissionRequiredMixin, TemplateView):
    """One quote version, printable for the customer; a manager approves a discount beyond the limit."""

    permission_required = "sales.view_quote"
    template_name = "sales/quote_detail.html"

    def quote(self) -> Quote:
        quote = (
            selectors.quote_list(user=self.request.user)
            .select_related("discount_approved_by")
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if quote is None:
            raise Http404
        return quote

    def get_context_data(self, **kwargs):
        quote = self.quote()
        with timezone.override(quote.dealership.zone):
            order_form = forms.OrderForm(
                initial={"stock_vehicle": quote.stock_vehicle_id},
                stock=StockVehicle.objects.filter(
                    dealership=quote.dealership_id, status__in=(StockStatus.IN_STOCK, StockStatus.IN_TRANSIT)
                ),
            ).styled()
        return super().get_context_data(
            quote=quote,
            lead=quote.lead,
            needs_approval=services.needs_discount_approval(quote),
            is_latest=not quote.lead.quotes.filter(version__gt=quote.version).exists(),
            is_manager=self.request.user.has_role(Role.MANAGER, Role.ADMINISTRATOR),
            order_form=order_form,
            has_order=Order.objects.filter(quote=quote).exists(),
            **kwargs,
        )

    def post(self, request, pk):
        quote = self.quote()
        try:
            services.quote_approve_discount(actor=request.user, quote_id=quote.pk)
        except PermissionDenied:
            raise
        messages.success(request, _("Discount approved."))
        return redirect("sales:quote-detail", pk=quote.pk)


ORDER_ACTIONS = {
    "payment": forms.OrderPaymentForm,
    "schedule": forms.DeliveryAppointmentForm,
    "deliver": forms.DeliverForm,
}


class OrderDetailView(RolePermissionRequiredMixin, TemplateView):
    """成交 to 交车: the contract, payments, the delivery appointment and the checklists."""

    permission_required = "sales.view_order"
    template_name = "sales/order_detail.html"

    def order(self, action: str = "view") -> Order:
        order = (
            selectors.order_list(user=self.request.user, action=action)
            .select_related("quote", "delivery_advisor", "vehicle")
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if order is None:
            raise Http404
        return order

    def advisors(self, order: Order):
        return _staff(self.request.user, Role.SERVICE_ADVISOR, dealership_id=order.dealership_id)

    def get_context_data(self, bound=None, error_action=None, **kwargs):
        order = self.order()
        built = {
            "payment": forms.OrderPaymentForm(initial={"amount": order.total - order.paid}),
            "schedule": forms.DeliveryAppointmentForm(initial={"delivery_at": order.delivery_at}),
            "deliver": forms.DeliverForm(advisors=self.advisors(order)),
        }
        if bound is not None and error_action != "redeem-voucher":
            built[error_action] = bound
        for form in built.values():
            form.styled()
        voucher_form = bound if error_action == "redeem-voucher" else VoucherRedeemForm()
        return super().get_context_data(
            order=order,
            forms=built,
            error_action=error_action,
            due=order.total - order.paid,
            OrderStatus=OrderStatus,
            can_change=self.request.user.has_perm("sales.change_order"),
            vouchers=vouchers_redeemed_on(order),
            voucher_form=bootstrap(voucher_form, small=True),
            may_redeem=self.request.user.has_perm("sales.change_order")
            and self.request.user.has_perm("crm.change_voucher")
            and order.status != OrderStatus.CANCELLED,
            **kwargs,
        )


class OrderActionView(OrderDetailView):
    http_method_names = ["post"]
    permission_required = "sales.change_order"

    def post(self, request, pk, action):
        if action == "redeem-voucher":
            return self.redeem_voucher(request, pk)
        form_class = ORDER_ACTIONS.get(action)
        if form_class is None:
            raise Http404
        order = self.order("change")
        kwargs = {"advisors": self.advisors(order)} if action == "deliver" else {}
        form = form_class(request.POST, **kwargs)
        with timezone.override(order.dealership.zone):
            valid = form.is_valid()
        status = 400
        if valid:
            try:
                if action == "payment":
                    services.order_payment(actor=request.user, order_id=pk, amount=form.cleaned_data["amount"])
                elif action == "schedule":
                    services.order_schedule_delivery(
                        actor=request.user, order_id=pk, delivery_at=form.cleaned_data["delivery_at"]
                    )
                else:
                    services.order_deliver(actor=request.user, order_id=pk, **form.service_data())
                    messages.success(request, _("Delivered. The 2-day follow-up call is scheduled."))
            except ValidationError as error:
                add_service_errors(form, error)
                status = 409 if isinstance(error, Conflict) else 400
            else:
                return redirect("sales:order-detail", pk=pk)
        response = self.render_to_response(self.get_context_data(bound=form, error_action=action))
        response.status_code = status
        return response

    def redeem_voucher(self, request, pk):
        """The front desk types the customer's voucher code; it is redeemed against the order's total."""
        order = self.order("change")
        form = VoucherRedeemForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                voucher = voucher_redeem(
                    actor=request.user, code=form.cleaned_data["code"], subject=order, amount=order.total
                )
            except ValidationError as error:
                add_service_errors(form, error)
                status = 409 if isinstance(error, Conflict) else 400
            else:
                messages.success(
                    request,
                    _("Voucher %(code)s (%(name)s, ¥%(value)s) redeemed on this order.")
                    % {"code": code_display(voucher.code), "name": voucher.voucher_type.name, "value": voucher.value},
                )
                return redirect("sales:order-detail", pk=pk)
        response = self.render_to_response(self.get_context_data(bound=form, error_action="redeem-voucher"))
        response.status_code = status
        return response


# --- the manager's lost-lead review -----------------------------------------------------------------


class LostLeadsView(RolePermissionRequiredMixin, TemplateView):
    """战败审核: applications waiting first; lost leads counted by reason, model and consultant."""

    permission_required = "sales.change_lead"
    template_name = "sales/lost.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_role(Role.MANAGER, Role.ADMINISTRATOR):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        rows = selectors.lost_leads(user=user)
        return super().get_context_data(
            waiting=list(rows.filter(lost_review=LostReview.APPLIED)[:50]),
            lost=list(rows.filter(stage=Stage.LOST)[:50]),
            summaries=[
                (title, _with_shares(selectors.lost_summary(user=user, by=by)))
                for title, by in (
                    (_("By reason"), "reason"),
                    (_("By model"), "model"),
                    (_("By consultant"), "consultant"),
                )
            ],
            review_form=forms.ReviewForm().styled(),
            **kwargs,
        )


def _with_shares(rows: list[dict]) -> list[dict]:
    largest = max((row["n"] for row in rows), default=0) or 1
    return [{**row, "share": round(100 * row["n"] / largest)} for row in rows]


def customer_panel_context(request, customer) -> dict:
    leads, orders = selectors.customer_sales(user=request.user, customer_id=customer.pk)
    return {"leads": leads, "orders": orders}


def subject_link(followup) -> str | None:
    """A call about a lead opens the lead; one about a sales order (the 2-day follow-up) opens the order."""
    model = ContentType.objects.get_for_id(followup.subject_type_id).model_class()
    if model is Lead:
        return reverse("sales:lead-detail", args=[followup.subject_id])
    if model is Order:
        return reverse("sales:order-detail", args=[followup.subject_id])
    return None
