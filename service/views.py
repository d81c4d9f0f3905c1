"""Front-desk and workshop pages: check-in, the repair order, the board, appointments. Each parses the
request, calls a selector or a service, and renders; a refused step shows its message on the form."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View
from django_filters.views import FilterView

from crm.choices import Role
from crm.forms import add_service_errors
from crm.models import Dealership, User, Vehicle
from crm.querysets import user_dealership_ids
from crm.search import search as search_records
from crm.views import PagedListMixin
from crm.vouchers import code_display, voucher_redeem, vouchers_redeemed_on
from dms.errors import Conflict
from dms.permissions import RolePermissionRequiredMixin

from . import forms, pricing, selectors, services
from .choices import BOARD_STATUSES, LineStatus, RepairOrderStatus
from .filters import RepairOrderPageFilterSet
from .models import Appointment, DamageMark, LinePhoto, RepairOrder
from .tables import RepairOrderTable


def _staff_with_role(user, role: Role):
    return (
        User.objects.filter(dealerships__in=user_dealership_ids(user), groups__name=role.value, is_active=True)
        .distinct()
        .order_by("full_name", "username")
    )


# --- check-in ------------------------------------------------------------------------------------


class CheckInSearchView(RolePermissionRequiredMixin, TemplateView):
    """接车: find the car by plate, phone or VIN in one box; today's appointments are listed below."""

    permission_required = "service.add_repairorder"
    template_name = "service/check_in_search.html"

    def get_template_names(self):
        return ["service/partials/check_in_results.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "")
        found = search_records(self.request.user, query)
        vehicles = {vehicle.pk: vehicle for vehicle in found.vehicles}
        for customer in found.customers:
            for vehicle in customer.vehicles.all():
                vehicles.setdefault(vehicle.pk, vehicle)
        now = timezone.now()
        today = selectors.appointments_between(
            user=self.request.user, start=now - datetime.timedelta(hours=12), end=now + datetime.timedelta(hours=12)
        )
        return super().get_context_data(query=query, vehicles=list(vehicles.values())[:20], today=today, **kwargs)


class VehicleInUrlMixin:
    """Pages about the vehicle named in the URL, which must be in one of the user's rooftops."""

    def vehicle(self) -> Vehicle:
        try:
            return (
                Vehicle.objects.for_user(self.request.user)
                .select_related("owner", "dealership")
                .get(pk=self.kwargs["vehicle_id"])
            )
        except Vehicle.DoesNotExist:
            raise Http404 from None


class CheckInView(RolePermissionRequiredMixin, VehicleInUrlMixin, TemplateView):
    """The walk-around and the customer's concern; saving opens the repair order."""

    permission_required = "service.add_repairorder"
    template_name = "service/check_in.html"

    def get_context_data(self, form=None, **kwargs):
        vehicle = self.vehicle()
        settings = services.ServiceSettings.of(vehicle.dealership)
        appointment = (
            Appointment.objects.filter(vehicle=vehicle, status__in=("booked", "confirmed"))
            .filter(starts_at__date=timezone.localdate(timezone.now(), vehicle.dealership.zone))
            .first()
        )
        if form is None:
            form = forms.CheckInForm(
                initial={
                    "odometer_km": vehicle.odometer_km,
                    "appointment": appointment.pk if appointment else None,
                    "service_type": appointment.service_type if appointment else "repair",
                    "concern": appointment.concern if appointment else "",
                    "pay_type": "warranty" if vehicle.is_under_warranty else "customer",
                }
            )
        return super().get_context_data(
            vehicle=vehicle,
            form=form.styled(),
            appointment=appointment,
            comeback=services.is_comeback(vehicle, now=timezone.now(), days=settings.comeback_days),
            declined=selectors.open_declined_work(user=self.request.user, vehicle_id=vehicle.pk),
            history=selectors.vehicle_history(user=self.request.user, vehicle_id=vehicle.pk, limit=5),
            **kwargs,
        )

    def post(self, request, vehicle_id):
        vehicle = self.vehicle()
        form = forms.CheckInForm(request.POST)
        with timezone.override(vehicle.dealership.zone):
            valid = form.is_valid()
        if valid:
            data = dict(form.cleaned_data)
            appointment_id = data.pop("appointment")
            appointment = Appointment.objects.for_user(request.user).filter(pk=appointment_id).first()
            try:
                order = services.repair_order_open(actor=request.user, vehicle=vehicle, appointment=appointment, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Repair order %(number)s opened.") % {"number": order.number})
                return redirect(order.get_absolute_url())
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


# --- the repair order --------------------------------------------------------------------------

ACTIONS = {
    # action: (form, service, permission)
    "terms": (forms.TermsForm, "terms", "service.change_repairorder"),
    "labour": (forms.LabourLineForm, "labour", "service.add_labourline"),
    "part": (forms.PartLineForm, "part", "service.add_partline"),
    "approve": (forms.ApproveForm, "approve", "service.change_repairorder"),
    "dispatch": (forms.DispatchForm, "dispatch", "service.add_job"),
    "quality": (forms.QualityCheckForm, "quality", "service.add_qualitycheck"),
    "payment": (forms.PaymentForm, "payment", "service.add_payment"),
    "deliver": (forms.DeliverForm, "deliver", "service.change_repairorder"),
    "damage": (forms.DamageForm, "damage", "service.add_damagemark"),
    "line-photo": (forms.LinePhotoForm, "line-photo", "service.add_labourline"),
}


class RepairOrderDetailView(RolePermissionRequiredMixin, TemplateView):
    permission_required = "service.view_repairorder"
    template_name = "service/repair_order_detail.html"

    def order(self) -> RepairOrder:
        try:
            return selectors.repair_order_detail(user=self.request.user, repair_order_id=self.kwargs["pk"])
        except RepairOrder.DoesNotExist:
            raise Http404 from None

    def get_context_data(self, bound=None, error_action=None, **kwargs):
        order = self.order()
        user = self.request.user
        technicians = _staff_with_role(user, Role.TECHNICIAN).filter(dealerships=order.dealership_id)
        built = {
            "terms": forms.TermsForm(
                initial={
                    "promised_at": order.promised_at,
                    "payment_method": order.payment_method,
                    "old_parts": order.old_parts,
                    "free_wash": order.free_wash,
                    "discount_amount": order.discount_amount,
                    "diagnosis": order.diagnosis,
                }
            ),
            "labour": forms.LabourLineForm(),
            "part": forms.PartLineForm(),
            "approve": forms.ApproveForm(initial={"approved_by_name": order.customer.full_name}),
            "dispatch": forms.DispatchForm(technicians=technicians),
            "quality": forms.QualityCheckForm(),
            "payment": forms.PaymentForm(initial={"amount": order.balance, "method": order.payment_method}),
            "deliver": forms.DeliverForm(),
            "damage": forms.DamageForm(),
            "line_photo": forms.LinePhotoForm(lines=[*order.labour_lines.all(), *order.part_lines.all()]),
        }
        if bound is not None:
            built[error_action.replace("-", "_")] = bound
        for form in built.values():
            form.styled()
        lines = [*order.labour_lines.all(), *order.part_lines.all()]
        return super().get_context_data(
            order=order,
            forms=built,
            error_action=error_action,
            error_form=bound,
            sees_money=user.has_perm("service.view_payment"),
            is_desk=user.has_role(Role.SERVICE_ADVISOR, Role.MANAGER, Role.ADMINISTRATOR),
            pending=[line for line in lines if line.status == LineStatus.PROPOSED],
            suggestions=selectors.suggestions(order) if order.status in ("estimate", "approved", "in_progress") else [],
            my_jobs=[job for job in order.jobs.all() if job.technician_id == user.pk],
            open_statuses=BOARD_STATUSES,
            S=RepairOrderStatus,
            zone=order.dealership.zone,
            vouchers=vouchers_redeemed_on(order),
            may_redeem=user.has_perm("crm.change_voucher") and order.status != RepairOrderStatus.CANCELLED,
            **kwargs,
        )


def _lines_with_keys(order: RepairOrder) -> list:
    lines = [*order.labour_lines.all(), *order.part_lines.all()]
    for line in lines:
        line.decision_key = f"{'labour' if hasattr(line, 'operation_code') else 'part'}:{line.pk}"
    return lines


class PhotoView(RolePermissionRequiredMixin, View):
    """A walk-around or line photo, for staff who may see the order."""

    permission_required = "service.view_repairorder"

    def get(self, request, kind, pk):
        model = {"damage": DamageMark, "line": LinePhoto}.get(kind)
        if model is None:
            raise Http404
        record = model.objects.filter(pk=pk, repair_order__in=RepairOrder.objects.for_user(request.user)).first()
        if record is None or not record.photo:
            raise Http404
        return FileResponse(record.photo.open("rb"), filename=record.photo.name.rsplit("/", 1)[-1])


class RepairOrderActionView(RepairOrderDetailView):
    """POST one step of the order (a form named by ``action``); errors re-render the order with the form."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        user = request.user
        if action in ACTIONS:
            form_class, name, permission = ACTIONS[action]
            if not user.has_perm(permission):
                raise PermissionDenied
            order = RepairOrder.objects.for_user(user).select_related("dealership").filter(pk=pk).first()
            if order is None:
                raise Http404
            kwargs = {}
            if form_class is forms.DispatchForm:
                kwargs["technicians"] = _staff_with_role(user, Role.TECHNICIAN).filter(dealerships=order.dealership_id)
            if form_class is forms.LinePhotoForm:
                kwargs["lines"] = _lines_with_keys(order)
            form = form_class(request.POST, request.FILES, **kwargs)
            with timezone.override(order.dealership.zone):
                valid = form.is_valid()
            status = 400
            if valid:
                try:
                    self.perform(name, order, form.cleaned_data)
                except ValidationError as error:  # Conflict included: the order's state forbids the step
                    add_service_errors(form, error)
                    status = 409 if isinstance(error, Conflict) else 400
                else:
                    return redirect(order.get_absolute_url())
            response = self.render_to_response(self.get_context_data(bound=form, error_action=action))
            response.status_code = status
            return response
        return self.simple(request, pk, action)

    def version(self) -> int | None:
        try:
            return int(self.request.POST.get("version", ""))
        except ValueError:
            return None

    def perform(self, name: str, order: RepairOrder, data: dict) -> None:
        actor, pk, version = self.request.user, order.pk, self.version()
        if name == "terms":
            services.repair_order_update(actor=actor, repair_order_id=pk, data=data, version=version)
        elif name == "labour":
            services.labour_line_add(actor=actor, repair_order_id=pk, version=version, **data)
        elif name == "part":
            services.part_line_add(actor=actor, repair_order_id=pk, version=version, **data)
        elif name == "approve":
            services.repair_order_approve(actor=actor, repair_order_id=pk, version=version, **data)
        elif name == "dispatch":
            services.job_dispatch(actor=actor, repair_order_id=pk, **data)
        elif name == "quality":
            services.quality_check_record(actor=actor, repair_order_id=pk, **data)
        elif name == "payment":
            services.payment_record(actor=actor, repair_order_id=pk, **data)
        elif name == "deliver":
            services.repair_order_deliver(actor=actor, repair_order_id=pk, version=version, **data)
        elif name == "damage":
            services.damage_mark_add(actor=actor, repair_order_id=pk, **data)
        elif name == "line-photo":
            services.line_photo_add(actor=actor, repair_order_id=pk, line_key=data["line"], photo=data["photo"])

    def simple(self, request, pk, action):
        """Buttons without a form: transitions, clock on/off, decisions on additional work, issuing parts."""
        actor = request.user
        try:
            if action == "transition":
                services.repair_order_transition(
                    actor=actor, repair_order_id=pk, to_status=request.POST.get("to_status", ""), version=self.version()
                )
            elif action in ("clock-on", "clock-off"):
                job_id = int(request.POST.get("job", "0"))
                (services.clock_on if action == "clock-on" else services.clock_off)(actor=actor, job_id=job_id)
            elif action == "decide":
                decisions = {
                    key.removeprefix("line-"): value == "approve"
                    for key, value in request.POST.items()
                    if key.startswith("line-") and value in ("approve", "decline")
                }
                order = RepairOrder.objects.for_user(actor).select_related("dealership").get(pk=pk)
                with timezone.override(order.dealership.zone):
                    promised_at = forms.parse_datetime_input(request.POST.get("promised_at", ""))
                services.additional_work_decide(
                    actor=actor,
                    repair_order_id=pk,
                    decisions=decisions,
                    decided_by_name=request.POST.get("decided_by_name", ""),
                    channel=request.POST.get("channel", ""),
                    promised_at=promised_at,
                    version=self.version(),
                )
            elif action == "send-link":
                from .approvals import send_approval_link

                order = RepairOrder.objects.for_user(actor, "change").get(pk=pk)
                if not actor.has_perm("service.change_repairorder") or not actor.has_role(
                    Role.SERVICE_ADVISOR, Role.MANAGER, Role.ADMINISTRATOR
                ):
                    raise PermissionDenied(_("Your role may not send approval links."))
                with transaction.atomic():
                    send_approval_link(repair_order=order)
                messages.success(request, _("The approval link is on its way to the customer."))
            elif action == "issue":
                services.part_issue(actor=actor, part_line_id=int(request.POST.get("line", "0")))
            elif action == "redeem-voucher":
                order = RepairOrder.objects.for_user(actor).select_related("dealership").get(pk=pk)
                voucher = voucher_redeem(
                    actor=actor,
                    code=request.POST.get("code", ""),
                    subject=order,
                    amount=pricing.totals(order).customer_due,
                )
                messages.success(
                    request,
                    _("Voucher %(code)s (%(name)s, ¥%(value)s) redeemed on this order.")
                    % {"code": code_display(voucher.code), "name": voucher.voucher_type.name, "value": voucher.value},
                )
            else:
                raise Http404
        except ObjectDoesNotExist:
            raise Http404 from None
        except (ValidationError, Conflict, PermissionDenied, ValueError) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            messages.error(request, text or _("That step is not possible now."))
        return redirect(reverse("service:repair-order-detail", args=[pk]))


class RepairOrderPrintView(RepairOrderDetailView):
    """The order the customer signs: lines, totals, terms and the walk-around, on one printable page."""

    permission_required = "service.view_payment"
    template_name = "service/repair_order_print.html"


class RepairOrderListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    """All repair orders of the user's rooftops, filterable by status, advisor, number and comeback."""

    permission_required = "service.view_repairorder"
    filterset_class = RepairOrderPageFilterSet
    table_class = RepairOrderTable
    template_name = "service/repair_order_list.html"

    def get_queryset(self):
        return selectors.repair_order_list(user=self.request.user).prefetch_related("labour_lines", "part_lines")

    def get_table_kwargs(self):
        return {"sees_money": self.request.user.has_perm("service.view_payment")}


# --- the workshop board and appointments ---------------------------------------------------------


class BoardView(RolePermissionRequiredMixin, TemplateView):
    """维修进度看板: columns from waiting to ready; refreshes itself every 15 seconds."""

    permission_required = "service.view_repairorder"
    template_name = "service/board.html"

    def get_template_names(self):
        return ["service/partials/board_columns.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        columns = selectors.board(user=self.request.user)
        return super().get_context_data(
            columns=[(RepairOrderStatus(status), rows) for status, rows in columns.items()],
            now=timezone.now(),
            **kwargs,
        )


class AppointmentCalendarView(RolePermissionRequiredMixin, TemplateView):
    """A day or a week of appointments, per rooftop or per advisor."""

    permission_required = "service.view_appointment"
    template_name = "service/appointments.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        rooftops = user_dealership_ids(user)
        zone = timezone.get_current_timezone()
        try:
            day = datetime.date.fromisoformat(self.request.GET.get("day", ""))
        except ValueError:
            day = timezone.localdate()
        span = 7 if self.request.GET.get("view") == "week" else 1
        if span == 7:
            day -= datetime.timedelta(days=day.weekday())
        try:
            advisor_id = int(self.request.GET.get("advisor", "")) or None
        except ValueError:
            advisor_id = None
        try:
            rooftop_id = int(self.request.GET.get("dealership", "")) or None
        except ValueError:
            rooftop_id = None
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
        rows = selectors.appointments_between(
            user=user,
            start=start,
            end=start + datetime.timedelta(days=span),
            advisor_id=advisor_id,
            dealership_id=rooftop_id,
        )
        days = [day + datetime.timedelta(days=offset) for offset in range(span)]
        by_day = {d: [] for d in days}
        for row in rows:
            by_day.setdefault(timezone.localtime(row.starts_at, zone).date(), []).append(row)
        return super().get_context_data(
            day=day,
            span=span,
            by_day=list(by_day.items()),
            advisors=_staff_with_role(user, Role.SERVICE_ADVISOR),
            advisor_id=advisor_id,
            previous=day - datetime.timedelta(days=span),
            next=day + datetime.timedelta(days=span),
            rooftops=Dealership.objects.filter(pk__in=rooftops).order_by("code") if len(rooftops) > 1 else [],
            rooftop_id=rooftop_id,
            **kwargs,
        )


class AppointmentBookView(RolePermissionRequiredMixin, VehicleInUrlMixin, TemplateView):
    """Book a vehicle in, from the customer page or the call queue; a full slot offers the next free ones."""

    permission_required = "service.add_appointment"
    template_name = "service/appointment_form.html"

    def get_context_data(self, form=None, **kwargs):
        vehicle = self.vehicle()
        advisors = _staff_with_role(self.request.user, Role.SERVICE_ADVISOR).filter(dealerships=vehicle.dealership_id)
        if form is None:
            offers = services.next_free_slots(dealership=vehicle.dealership, after=timezone.now())
            with timezone.override(vehicle.dealership.zone):
                form = forms.AppointmentForm(
                    advisors=advisors,
                    initial={"starts_at": offers[0] if offers else None, "service_type": "maintenance"},
                )
        return super().get_context_data(
            vehicle=vehicle,
            form=form.styled(),
            offers=services.next_free_slots(dealership=vehicle.dealership, after=timezone.now(), count=6),
            declined=selectors.open_declined_work(user=self.request.user, vehicle_id=vehicle.pk),
            back=self.request.GET.get("next", ""),
            **kwargs,
        )

    def post(self, request, vehicle_id):
        vehicle = self.vehicle()
        advisors = _staff_with_role(request.user, Role.SERVICE_ADVISOR).filter(dealerships=vehicle.dealership_id)
        form = forms.AppointmentForm(request.POST, advisors=advisors)
        with timezone.override(vehicle.dealership.zone):
            valid = form.is_valid()
        if valid:
            try:
                appointment = services.appointment_book(actor=request.user, vehicle=vehicle, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                local = timezone.localtime(appointment.starts_at, vehicle.dealership.zone)
                messages.success(
                    request,
                    _("Booked %(plate)s for %(when)s (appointment %(number)s).")
                    % {"plate": vehicle.plate or vehicle.vin, "when": f"{local:%m-%d %H:%M}", "number": appointment.pk},
                )
                back = request.POST.get("next", "")
                if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                    calendar = f"{reverse('service:appointments')}?day={local:%Y-%m-%d}"
                    return redirect(f"{back}{'&' if '?' in back else '?'}{urlencode({'booked': calendar})}")
                return redirect(f"{reverse('service:appointments')}?day={local:%Y-%m-%d}")
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


class AppointmentActionView(RolePermissionRequiredMixin, View):
    """Confirm, cancel or move a booking from the calendar; a refusal comes back as a message."""

    permission_required = "service.change_appointment"

    def post(self, request, pk, action):
        appointment = (
            Appointment.objects.for_user(request.user, "change").select_related("dealership").filter(pk=pk).first()
        )
        if appointment is None:
            raise Http404
        zone = appointment.dealership.zone
        try:
            if action in ("confirm", "cancel"):
                status = "confirmed" if action == "confirm" else "cancelled"
                services.appointment_set_status(actor=request.user, appointment_id=pk, status=status)
            elif action == "move":
                with timezone.override(zone):
                    field = forms.AppointmentForm.base_fields["starts_at"]
                    starts_at = field.clean(request.POST.get("starts_at", ""))
                appointment = services.appointment_reschedule(
                    actor=request.user, appointment_id=pk, starts_at=starts_at
                )
            else:
                raise Http404
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Appointment updated."))
        local = timezone.localtime(appointment.starts_at, zone)
        return redirect(f"{reverse('service:appointments')}?day={local:%Y-%m-%d}")


# --- panels on the customer 360 and vehicle pages -------------------------------------------------


def customer_panel_context(request, customer) -> dict:
    return {
        "orders": selectors.customer_history(user=request.user, customer_id=customer.pk, limit=10),
        "appointments": selectors.upcoming_appointments(user=request.user, customer_id=customer.pk),
        "sees_money": request.user.has_perm("service.view_payment"),
    }


def vehicle_panel_context(request, vehicle) -> dict:
    return {
        "orders": selectors.vehicle_history(user=request.user, vehicle_id=vehicle.pk, limit=20),
        "appointments": selectors.upcoming_appointments(user=request.user, vehicle_id=vehicle.pk),
        "declined": selectors.open_declined_work(user=request.user, vehicle_id=vehicle.pk),
        "sees_money": request.user.has_perm("service.view_payment"),
    }


# --- the customer's approval link (no login: the signed token is the authority) -------------------


class ApprovalLinkView(TemplateView):
    """The customer sees the additional work found on their car, with prices, and approves or declines."""

    template_name = "service/approval.html"

    def resolve(self, token: str):
        from .approvals import LinkError, LinkExpired, read_token

        try:
            payload = read_token(token)
        except LinkExpired:
            return None, "expired"
        except LinkError:
            return None, "invalid"
        order = (
            RepairOrder.objects.select_related("dealership", "customer", "vehicle")
            .prefetch_related("labour_lines__photos", "part_lines__photos", "payments")
            .filter(pk=payload["ro"])
            .first()
        )
        if order is None:
            return None, "invalid"
        selectors.attach_totals(order)
        keys = set(payload["lines"])
        lines = [line for line in [*order.labour_lines.all(), *order.part_lines.all()] if line.decision_key in keys]
        return (order, lines), ""

    def photo(self, request, token, pk):
        found, problem = self.resolve(token)
        if problem:
            return self.render_problem(problem)
        _order, lines = found
        keys = {line.decision_key for line in lines}
        record = LinePhoto.objects.filter(pk=pk).first()
        key = record and (f"labour:{record.labour_line_id}" if record.labour_line_id else f"part:{record.part_line_id}")
        if record is None or key not in keys:
            raise Http404
        return FileResponse(record.photo.open("rb"), filename=record.photo.name.rsplit("/", 1)[-1])

    def render_problem(self, problem: str):
        response = self.render_to_response({"problem": problem})
        response.status_code = 410 if problem == "expired" else 404
        return response

    def get(self, request, token, photo=None):
        if photo is not None:
            return self.photo(request, token, photo)
        found, problem = self.resolve(token)
        if problem:
            return self.render_problem(problem)
        order, lines = found
        return self.render_to_response(self.context(order, lines))

    def context(self, order, lines, **extra):
        extra.setdefault("token", self.kwargs["token"])
        open_lines = [line for line in lines if line.status == LineStatus.PROPOSED]
        tax = 1 + order.tax_rate
        for line in lines:
            line.with_tax = pricing.cents(line.amount * tax)
        return {"order": order, "lines": lines, "open_lines": open_lines, **extra}

    def post(self, request, token):
        found, problem = self.resolve(token)
        if problem:
            return self.render_problem(problem)
        order, lines = found
        decisions = {
            line.decision_key: request.POST.get(f"line-{line.decision_key}") == "approve"
            for line in lines
            if line.status == LineStatus.PROPOSED
            and request.POST.get(f"line-{line.decision_key}") in ("approve", "decline")
        }
        error = ""
        if not decisions:
            error = _("Choose approve or decline for each item.")
        else:
            try:
                services.additional_work_decide(
                    actor=None,
                    repair_order_id=order.pk,
                    decisions=decisions,
                    decided_by_name=order.customer.full_name,
                    channel="link",
                )
            except ValidationError as refused:
                error = " ".join(refused.messages)
            else:
                found, _problem = self.resolve(token)
                return self.render_to_response(self.context(*found, done=True))
        response = self.render_to_response(self.context(order, lines, error=error))
        response.status_code = 409 if error and decisions else 400
        return response
