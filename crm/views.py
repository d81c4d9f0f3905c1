"""Customer, vehicle and complaint pages: parse the request, call a selector or service, render."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from dms.errors import Conflict
from dms.permissions import RolePermissionRequiredMixin

from . import panels, privacy, selectors, services
from .choices import COMPLAINT_NEXT, ComplaintStatus
from .filters import ComplaintFilterSet, CustomerFilterSet, VehicleFilterSet
from .forms import (
    ChangeOwnerForm,
    ComplaintAssignForm,
    ComplaintForm,
    ComplaintStepForm,
    CustomerForm,
    VehicleForm,
    add_service_errors,
    bootstrap,
)
from .models import Complaint, Customer, User, Vehicle
from .segment_views import segment_context
from .tables import ComplaintTable, CustomerTable, VehicleTable, complaint_is_overdue
from .validators import phone_display

PER_PAGE_CHOICES = (25, 50, 100)


class PagedListMixin(SingleTableMixin):
    """django-tables2 pagination with a bounded, user-chosen page size; a page past the end shows the last."""

    def get_table_pagination(self, table):
        try:
            per_page = int(self.request.GET.get("per_page", PER_PAGE_CHOICES[0]))
        except ValueError:
            per_page = PER_PAGE_CHOICES[0]
        return {"per_page": per_page if per_page in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0], "silent": True}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["per_page_choices"] = PER_PAGE_CHOICES
        return context

    def get_template_names(self):
        if self.request.htmx:
            return ["crm/partials/list_table.html"]
        return super().get_template_names()


class CustomerListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    permission_required = "crm.view_customer"
    filterset_class = CustomerFilterSet
    table_class = CustomerTable
    template_name = "crm/customer_list.html"

    def get_queryset(self):
        return selectors.customer_list(user=self.request.user)

    def get_table_kwargs(self):
        return {"show_phones": privacy.may_see_phones(self.request.user)}

    def get_template_names(self):
        if self.request.htmx:  # the table with the segment's count, errors and actions
            return ["segments/partials/customer_results.html"]
        return super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, **segment_context(self.request, self.filterset.form)}


class VehicleListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    permission_required = "crm.view_vehicle"
    filterset_class = VehicleFilterSet
    table_class = VehicleTable
    template_name = "crm/vehicle_list.html"

    def get_queryset(self):
        return selectors.vehicle_list(user=self.request.user)


def phones_for(request, customer: Customer) -> dict:
    """The customer's phones on a page about one piece of work (a lead, a complaint, a vehicle): in full for
    the roles that call customers, no digits for the others (technicians). The customer 360 masks them for
    everyone instead, each revealed by a logged click (``crm.privacy``)."""
    if privacy.may_see_phones(request.user):
        return {
            "mobile": phone_display(customer.mobile),
            "other_phone": phone_display(customer.other_phone),
            "masked": False,
        }
    return {"mobile": "", "other_phone": "", "masked": True}


class CustomerDetailView(RolePermissionRequiredMixin, TemplateView):
    permission_required = "crm.view_customer"
    template_name = "crm/customer_detail.html"

    def get_context_data(self, **kwargs):
        try:
            customer = selectors.customer_detail(user=self.request.user, customer_id=kwargs["pk"])
        except Customer.DoesNotExist:
            raise Http404 from None
        return super().get_context_data(
            customer=customer,
            contact_numbers=privacy.masked_contact(self.request.user, customer),
            panels=panels.render_context(panels.customer_panels, self.request, customer),
            may_change=self.request.user.has_perm("crm.change_customer"),
            may_add_vehicle=self.request.user.has_perm("crm.add_vehicle"),
            **kwargs,
        )


class VehicleDetailView(RolePermissionRequiredMixin, TemplateView):
    permission_required = "crm.view_vehicle"
    template_name = "crm/vehicle_detail.html"

    def get_context_data(self, **kwargs):
        try:
            vehicle = selectors.vehicle_detail(user=self.request.user, vehicle_id=kwargs["pk"])
        except Vehicle.DoesNotExist:
            raise Http404 from None
        owner_phones = phones_for(self.request, vehicle.owner) if vehicle.owner else None
        return super().get_context_data(
            vehicle=vehicle,
            owner_phones=owner_phones,
            panels=panels.render_context(panels.vehicle_panels, self.request, vehicle),
            may_change=self.request.user.has_perm("crm.change_vehicle"),
            **kwargs,
        )


class ServiceFormView(RolePermissionRequiredMixin, FormView):
    """A form whose valid data goes to one service; the service's ValidationError lands on the fields."""

    template_name = "crm/form.html"
    title = ""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(title=self.title, **kwargs)
        bootstrap(context["form"])  # at render time, so the service's errors are marked too
        return context

    def form_valid(self, form):
        try:
            obj = self.call_service(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        except ObjectDoesNotExist:
            raise Http404 from None
        messages.success(self.request, self.success_message % {"name": str(obj)})
        return redirect(obj.get_absolute_url())


class ScopedObjectFormView(ServiceFormView):
    """A form about one record of the user's rooftops: another rooftop's record is a 404, the same
    as a missing one; a role without the permission still gets its 403 from the mixin."""

    model = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.has_perm(self.permission_required):
            self.object = (
                self.model.objects.for_user(request.user, "change")
                .select_related("dealership")
                .filter(pk=kwargs["pk"])
                .first()
            )
            if self.object is None:
                raise Http404
        return super().dispatch(request, *args, **kwargs)


class EditFormView(ScopedObjectFormView):
    @property
    def title(self):
        return _("Edit %(name)s") % {"name": self.object}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}


class CustomerCreateView(ServiceFormView):
    permission_required = "crm.add_customer"
    form_class = CustomerForm
    success_message = _("Customer %(name)s created.")

    @property
    def title(self):
        return _("New customer")

    def call_service(self, form):
        return services.customer_create(
            actor=self.request.user,
            dealership=form.cleaned_data["dealership"],
            data=form.service_data(),
        )


class CustomerUpdateView(EditFormView):
    model = Customer
    permission_required = "crm.change_customer"
    form_class = CustomerForm
    success_message = _("Customer %(name)s saved.")

    def call_service(self, form):
        return services.customer_update(
            actor=self.request.user,
            customer_id=self.object.pk,
            data=form.service_data(),
            version=form.cleaned_data.get("version"),
        )


class VehicleCreateView(ServiceFormView):
    permission_required = "crm.add_vehicle"
    form_class = VehicleForm
    success_message = _("Vehicle %(name)s created.")

    def dispatch(self, request, *args, **kwargs):
        self.owner = None
        if request.user.is_authenticated and request.GET.get("owner"):
            self.owner = (
                Customer.objects.for_user(request.user).filter(pk=request.GET["owner"]).first()
                if request.GET["owner"].isdigit()
                else None
            )
            if self.owner is None:
                raise Http404
        return super().dispatch(request, *args, **kwargs)

    @property
    def title(self):
        if self.owner:
            return _("New vehicle for %(name)s") % {"name": self.owner}
        return _("New vehicle")

    def get_initial(self):
        return {"dealership": self.owner.dealership} if self.owner else {}

    def call_service(self, form):
        if self.owner and form.cleaned_data["dealership"] != self.owner.dealership:
            raise ValidationError({"dealership": _("The vehicle must be at the owner's dealership.")})
        return services.vehicle_create(
            actor=self.request.user,
            dealership=form.cleaned_data["dealership"],
            data=form.service_data(),
            owner=self.owner,
            odometer_km=form.cleaned_data.get("odometer_km"),
        )


class VehicleUpdateView(EditFormView):
    model = Vehicle
    permission_required = "crm.change_vehicle"
    form_class = VehicleForm
    success_message = _("Vehicle %(name)s saved.")

    def call_service(self, form):
        return services.vehicle_update(
            actor=self.request.user,
            vehicle_id=self.object.pk,
            data=form.service_data(),
            version=form.cleaned_data.get("version"),
        )


class VehicleChangeOwnerView(ScopedObjectFormView):
    model = Vehicle
    permission_required = "crm.change_vehicle"
    form_class = ChangeOwnerForm
    success_message = _("%(name)s has a new owner.")

    @property
    def title(self):
        return _("Change the owner of %(name)s") % {"name": self.object}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("user")
        return {**kwargs, "vehicle": self.object}

    def call_service(self, form):
        return services.vehicle_change_owner(
            actor=self.request.user,
            vehicle_id=self.object.pk,
            customer_id=form.cleaned_data["customer"].pk,
            on=form.cleaned_data["on"],
        )


# --- complaints -----------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def rooftop_staff(dealership_id: int):
    """Who may own a complaint at a rooftop: its active staff (the service checks the rooftop again)."""
    return User.objects.filter(dealerships=dealership_id, is_active=True).order_by("full_name", "username")


# The button that moves a complaint to each state; going back to investigating reads differently.
STEP_BUTTONS = {
    ComplaintStatus.INVESTIGATING: gettext_lazy("Start investigating"),
    ComplaintStatus.SOLUTION_AGREED: gettext_lazy("Solution agreed"),
    ComplaintStatus.IMPLEMENTED: gettext_lazy("Solution implemented"),
    ComplaintStatus.CALLBACK_DONE: gettext_lazy("Call-back done: customer satisfied"),
    ComplaintStatus.CLOSED: gettext_lazy("Close the complaint"),
}
BACK_BUTTON = gettext_lazy("Back to investigating")


class ComplaintListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    """Open complaints first by due time, overdue in red, escalated flagged."""

    permission_required = "crm.view_complaint"
    filterset_class = ComplaintFilterSet
    table_class = ComplaintTable
    template_name = "crm/complaint_list.html"

    def get_queryset(self):
        return selectors.complaint_list(user=self.request.user)

    def get_table_kwargs(self):
        return {"now": timezone.now()}


class ComplaintDetailView(RolePermissionRequiredMixin, TemplateView):
    """The complaint: the customer, what it is about, its timeline, and a form for each next step."""

    permission_required = "crm.view_complaint"
    template_name = "crm/complaint_detail.html"

    def get_context_data(self, bound=None, bound_key="", refused="", **kwargs):
        user = self.request.user
        try:
            complaint = selectors.complaint_detail(user=user, complaint_id=self.kwargs["pk"])
        except Complaint.DoesNotExist:
            raise Http404 from None
        may_change = user.has_perm("crm.change_complaint") and complaint.is_open
        steps, assign_form = [], None
        if may_change:
            for to_status in COMPLAINT_NEXT.get(complaint.status, ()):
                key = f"advance-{to_status}"
                going_back = to_status == ComplaintStatus.INVESTIGATING and complaint.status != ComplaintStatus.RECEIVED
                if bound_key == key:
                    form = bound
                else:
                    form = ComplaintStepForm(from_status=complaint.status, to_status=to_status, auto_id=f"{key}-%s")
                steps.append(
                    {
                        "key": key,
                        "form": form.styled(),
                        "button": BACK_BUTTON if going_back else STEP_BUTTONS[to_status],
                        "style": "outline-danger" if going_back else "primary",
                    }
                )
            assign_form = (
                bound
                if bound_key == "assign"
                else ComplaintAssignForm(
                    staff=rooftop_staff(complaint.dealership_id), initial={"owner": complaint.owner_id}
                )
            ).styled()
        shown = bound is not None and (bound is assign_form or any(step["form"] is bound for step in steps))
        if bound is not None and not shown and not refused:  # a step this complaint no longer offers
            refused = " ".join(message for errors in bound.errors.values() for message in errors)
        return super().get_context_data(
            complaint=complaint,
            phones=phones_for(self.request, complaint.customer),
            subject=selectors.complaint_subject(user=user, complaint=complaint),
            events=complaint.events.all(),
            is_overdue=complaint_is_overdue(complaint, timezone.now()),
            may_change=may_change,
            steps=steps,
            assign_form=assign_form,
            refused=refused,
            error_action=bound_key,
            zone=complaint.dealership.zone,
            **kwargs,
        )


class ComplaintActionView(ComplaintDetailView):
    """POST one step (``advance``) or a new owner (``assign``) with the version read; a refused one re-renders
    the complaint with the message on its form: 400 for a missing value, 409 when the complaint's state or
    a newer change forbids it."""

    http_method_names = ["post"]
    permission_required = "crm.change_complaint"

    def post(self, request, pk, action):
        complaint = selectors.complaint_list(user=request.user, action="change").filter(pk=pk).first()
        if complaint is None:
            raise Http404
        version = _int(request.POST.get("version"))
        if action == "advance":
            to_status = request.POST.get("to_status", "")
            key = f"advance-{to_status}"
            form = ComplaintStepForm(
                request.POST, from_status=complaint.status, to_status=to_status, auto_id=f"{key}-%s"
            )
        else:
            form = ComplaintAssignForm(request.POST, staff=rooftop_staff(complaint.dealership_id))
            key = "assign"
        status, refused = 400, ""
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "advance":
                    services.complaint_advance(
                        actor=request.user,
                        complaint_id=complaint.pk,
                        to_status=data["to_status"],
                        note=data.get("note", ""),
                        solution=data.get("solution", ""),
                        version=version,
                    )
                else:
                    services.complaint_assign(
                        actor=request.user, complaint_id=complaint.pk, owner=data["owner"], version=version
                    )
            except ObjectDoesNotExist:
                raise Http404 from None
            except ValidationError as error:  # Conflict included: the complaint's state forbids the step
                add_service_errors(form, error)
                if isinstance(error, Conflict):
                    status, refused = 409, " ".join(error.messages)
            else:
                messages.success(request, _("Complaint saved."))
                return redirect(complaint.get_absolute_url())
        response = self.render_to_response(self.get_context_data(bound=form, bound_key=key, refused=refused))
        response.status_code = status
        return response


class CustomerInQueryMixin:
    """Pages about the customer named in ``?customer=`` (from the customer 360), which must be in one of
    the user's rooftops: else 404."""

    def customer(self) -> Customer:
        customer = (
            Customer.objects.for_user(self.request.user)
            .select_related("dealership")
            .filter(pk=_int(self.request.GET.get("customer")))
            .first()
        )
        if customer is None:
            raise Http404
        return customer


class ComplaintCreateView(RolePermissionRequiredMixin, CustomerInQueryMixin, TemplateView):
    """A new complaint for a customer on file (from the customer 360)."""

    permission_required = "crm.add_complaint"
    template_name = "crm/complaint_form.html"

    def get_context_data(self, form=None, **kwargs):
        customer = self.customer()
        if form is None:
            form = ComplaintForm(staff=rooftop_staff(customer.dealership_id))
        return super().get_context_data(
            form=form.styled(), customer=customer, phones=phones_for(self.request, customer), **kwargs
        )

    def post(self, request):
        customer = self.customer()
        form = ComplaintForm(request.POST, staff=rooftop_staff(customer.dealership_id))
        if form.is_valid():
            try:
                complaint = services.complaint_open(customer=customer, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                due = timezone.localtime(complaint.due_at, customer.dealership.zone)
                messages.success(request, _("Complaint recorded; due %(due)s.") % {"due": f"{due:%Y-%m-%d %H:%M}"})
                return redirect(complaint.get_absolute_url())
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


def customer_complaints_panel_context(request, customer) -> dict:
    complaints, count = selectors.customer_complaints(user=request.user, customer_id=customer.pk)
    now = timezone.now()
    for complaint in complaints:
        complaint.is_overdue = complaint_is_overdue(complaint, now)
    return {"complaints": complaints, "complaint_count": count}
