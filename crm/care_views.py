"""Campaign and voucher pages: parse the request, call ``crm.campaigns`` or ``crm.vouchers``, render."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View
from django_filters.views import FilterView

from dms.permissions import RolePermissionRequiredMixin

from . import campaigns, vouchers
from .care_filters import CampaignFilterSet, VoucherFilterSet
from .care_forms import CampaignForm, VoucherIssueForm
from .care_tables import CampaignTable, VoucherTable
from .choices import CampaignStatus
from .forms import add_service_errors
from .models import Campaign
from .views import CustomerInQueryMixin, PagedListMixin, phones_for


def _refusal_text(error: Exception) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


# --- campaigns ------------------------------------------------------------------------------------


class CampaignListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    """The rooftops' campaigns, newest first, each with its results."""

    permission_required = "crm.view_campaign"
    filterset_class = CampaignFilterSet
    table_class = CampaignTable
    template_name = "care/campaign_list.html"

    def get_queryset(self):
        return campaigns.campaign_list(user=self.request.user)


class CampaignCreateView(RolePermissionRequiredMixin, TemplateView):
    permission_required = "crm.add_campaign"
    template_name = "care/campaign_form.html"

    def get_context_data(self, form=None, **kwargs):
        form = form or CampaignForm(user=self.request.user)
        return super().get_context_data(form=form.styled(), **kwargs)

    def post(self, request):
        form = CampaignForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                campaign = campaigns.campaign_create(actor=request.user, data=form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Campaign %(name)s saved as a draft.") % {"name": campaign.name})
                return redirect("care:campaign-detail", pk=campaign.pk)
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


class CampaignDetailView(RolePermissionRequiredMixin, TemplateView):
    """The campaign, its results as bars (contacted, booked, redeemed of the contacts made), and the launch
    or finish button; a draft shows how many customers its segment holds now."""

    permission_required = "crm.view_campaign"
    template_name = "care/campaign_detail.html"

    def get_context_data(self, **kwargs):
        campaign = (
            Campaign.objects.for_user(self.request.user)
            .select_related("dealership", "segment__dealership", "voucher_type", "created_by")
            .filter(pk=kwargs["pk"])
            .first()
        )
        if campaign is None:
            raise Http404
        audience = None
        if campaign.status == CampaignStatus.DRAFT:
            try:
                audience = campaigns.campaign_audience(campaign).count()
            except ValidationError:  # the segment's saved criteria no longer hold
                audience = None
        return super().get_context_data(
            campaign=campaign,
            results=campaigns.campaign_results(campaign=campaign),
            audience=audience,
            may_change=self.request.user.has_perm("crm.change_campaign"),
            **kwargs,
        )


class CampaignActionView(RolePermissionRequiredMixin, View):
    """POST launch or finish; a refused step (not a draft, ended, …) comes back as a message, nothing changed."""

    permission_required = "crm.change_campaign"

    def post(self, request, pk, action):
        if not Campaign.objects.for_user(request.user, "change").filter(pk=pk).exists():
            raise Http404
        try:
            if action == "launch":
                campaign = campaigns.campaign_launch(actor=request.user, campaign_id=pk)
                messages.success(request, _("Campaign %(name)s is running.") % {"name": campaign.name})
            elif action == "finish":
                campaign = campaigns.campaign_finish(actor=request.user, campaign_id=pk)
                messages.success(request, _("Campaign %(name)s is finished.") % {"name": campaign.name})
            else:
                raise Http404
        except ObjectDoesNotExist:
            raise Http404 from None
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, _refusal_text(error))
        return redirect("care:campaign-detail", pk=pk)


# --- vouchers -------------------------------------------------------------------------------------


class VoucherListView(RolePermissionRequiredMixin, PagedListMixin, FilterView):
    """Every voucher of the rooftops, filtered by status, kind, customer or code."""

    permission_required = "crm.view_voucher"
    filterset_class = VoucherFilterSet
    table_class = VoucherTable
    template_name = "care/voucher_list.html"

    def get_queryset(self):
        return vouchers.voucher_list(user=self.request.user)

    def get_table_kwargs(self):
        return {"may_void": self.request.user.has_perm("crm.change_voucher")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["table"].page
        if page is not None:
            # the rows the table renders (the page's queryset, read once): their orders in one query per kind
            vouchers.attach_redeemed_on([row.record for row in page.object_list], user=self.request.user)
        return context


class VoucherIssueView(RolePermissionRequiredMixin, CustomerInQueryMixin, TemplateView):
    """Issue a voucher to a customer on file (from the customer 360)."""

    permission_required = "crm.add_voucher"
    template_name = "care/voucher_issue.html"

    def get_context_data(self, form=None, **kwargs):
        customer = self.customer()
        form = form or VoucherIssueForm(customer=customer)
        return super().get_context_data(
            form=form.styled(), customer=customer, phones=phones_for(self.request, customer), **kwargs
        )

    def post(self, request):
        customer = self.customer()
        form = VoucherIssueForm(request.POST, customer=customer)
        if form.is_valid():
            try:
                voucher = vouchers.voucher_issue(
                    actor=request.user, customer=customer, voucher_type=form.cleaned_data["voucher_type"]
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Voucher %(code)s (¥%(value)s, valid until %(until)s) issued to %(name)s.")
                    % {
                        "code": vouchers.code_display(voucher.code),
                        "value": voucher.value,
                        "until": f"{voucher.valid_until:%Y-%m-%d}",
                        "name": customer.full_name,
                    },
                )
                return redirect(customer.get_absolute_url())
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response


class VoucherVoidView(RolePermissionRequiredMixin, View):
    permission_required = "crm.change_voucher"

    def post(self, request, pk):
        try:
            voucher = vouchers.voucher_void(actor=request.user, voucher_id=pk)
        except ObjectDoesNotExist:
            raise Http404 from None
        except ValidationError as error:
            messages.error(request, _refusal_text(error))
        else:
            messages.success(request, _("Voucher %(code)s is void.") % {"code": vouchers.code_display(voucher.code)})
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("care:voucher-list")
        return redirect(back)
