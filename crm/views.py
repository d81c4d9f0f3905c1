"""Customer and vehicle pages: parse the request, call a selector or service, render."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from dms.permissions import RolePermissionRequiredMixin

from . import panels, selectors, services
from .filters import CustomerFilterSet, VehicleFilterSet
from .forms import ChangeOwnerForm, CustomerForm, VehicleForm, add_service_errors, bootstrap
from .models import Customer, Vehicle
from .tables import CustomerTable, VehicleTable
from .validators import phone_display, phone_mask

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
        return {"show_phones": self.request.user.has_perm("crm.view_customer_phone")}


class VehicleListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    permission_required = "crm.view_vehicle"
    filterset_class = VehicleFilterSet
    table_class = VehicleTable
    template_name = "crm/vehicle_list.html"

    def get_queryset(self):
        return selectors.vehicle_list(user=self.request.user)


def phones_for(request, customer: Customer) -> dict:
    if request.user.has_perm("crm.view_customer_phone"):
        return {
            "mobile": phone_display(customer.mobile),
            "other_phone": phone_display(customer.other_phone),
            "masked": False,
        }
    return {"mobile": phone_mask(customer.mobile), "other_phone": phone_mask(customer.other_phone), "masked": True}


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
            phones=phones_for(self.request, customer),
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
