"""Pages for customer care managers and specialists: retention 入库率 and lost customers 流失客户 with
the win-back segment, the records whose data to complete, and merging two duplicate customers.

Who may see them: the retention page needs ``crm.view_segment`` (customer specialists, managers,
administrators: the people who build segments and campaigns from it) and saving the win-back
segment ``crm.add_segment``; the data-quality list and the merge need ``crm.change_customer`` (the
staff who can fix a record). Other roles get 403; another rooftop's rooftop or customer is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from dms.errors import Conflict
from dms.permissions import RolePermissionRequiredMixin

from . import merge, quality, retention
from .models import Customer, Dealership
from .quality_panels import possible_duplicates
from .querysets import user_dealership_ids
from .segments import saved_segment_customers
from .validators import phone_mask

PER_PAGE_CHOICES = (25, 50, 100)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _per_page(request) -> int:
    per_page = _int(request.GET.get("per_page"))
    return per_page if per_page in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def _phone(request, number: str) -> str:
    """As every list of customers shows a phone: masked for the roles that may see phones (the full number
    is a logged reveal on the customer 360), nothing for the others."""
    return phone_mask(number) if request.user.has_perm("crm.view_customer_phone") else ""


def _rooftop(request, value) -> Dealership:
    try:
        return retention.user_rooftop(user=request.user, dealership_id=value)
    except Dealership.DoesNotExist:
        raise Http404 from None


def _user_rooftops(request) -> list[Dealership]:
    ids = user_dealership_ids(request.user)
    return list(Dealership.objects.filter(pk__in=ids).order_by("code")) if len(ids) > 1 else []


class RetentionView(RolePermissionRequiredMixin, TemplateView):
    """The rooftop's return rate, its lost vehicles by model and by sales channel, and the list of lost
    vehicles with their owners. Statements: the rooftop, its care settings, one pass over the vehicles
    for the figures and the page (``retention.retention_overview``), the page's vehicles and owners."""

    permission_required = "crm.view_segment"
    template_name = "retention/retention.html"

    def get_context_data(self, **kwargs):
        dealership = _rooftop(self.request, self.request.GET.get("dealership"))
        window = retention.retention_window(dealership=dealership)
        per_page = _per_page(self.request)
        number = max(_int(self.request.GET.get("page")) or 1, 1)
        figures, rows = retention.retention_overview(window, page_number=number, per_page=per_page)
        paginator = Paginator(range(figures.total.lost), per_page)  # the count is the figures' lost
        if number > paginator.num_pages:  # past the end: the last page, as the other lists do
            number = paginator.num_pages
            figures, rows = retention.retention_overview(window, page_number=number, per_page=per_page)
        for vehicle in rows:
            vehicle.owner_phone = _phone(self.request, vehicle.owner.mobile)
        return super().get_context_data(
            dealership=dealership,
            rooftops=_user_rooftops(self.request),
            window=window,
            figures=figures,
            page=Page(rows, number, paginator),
            pager_query=f"dealership={dealership.pk}&per_page={per_page}&",
            **kwargs,
        )


class WinBackSegmentView(RolePermissionRequiredMixin, TemplateView):
    """POST: save today's win-back segment of the rooftop and say how many customers it holds."""

    permission_required = "crm.add_segment"
    http_method_names = ["post"]

    def post(self, request):
        dealership = _rooftop(request, request.POST.get("dealership"))
        segment = retention.winback_segment_create(actor=request.user, dealership=dealership)
        count = saved_segment_customers(segment).count()
        messages.success(
            request,
            _("Segment “%(name)s” saved: %(count)d customers to win back. Build the campaign on it.")
            % {"name": segment.name, "count": count},
        )
        return redirect(f"{reverse('retention:retention')}?dealership={dealership.pk}")


class DataQualityView(RolePermissionRequiredMixin, TemplateView):
    """The records to fix, the lowest completeness first, what each lacks; two statements a page."""

    permission_required = "crm.change_customer"
    template_name = "retention/data_quality.html"

    def get_context_data(self, **kwargs):
        customers = Customer.objects.for_user(self.request.user, "change").select_related("dealership")
        dealership_id = _int(self.request.GET.get("dealership"))
        if dealership_id is not None:
            customers = customers.filter(dealership_id=dealership_id)
        missing = self.request.GET.get("missing", "")
        rows = quality.records_to_fix(customers, missing=missing)
        page = Paginator(rows, _per_page(self.request)).get_page(self.request.GET.get("page"))
        for customer in page:
            customer.missing = quality.missing_items(customer)
        return super().get_context_data(
            page=page,
            items=quality.ITEMS,
            missing=missing if missing in quality.ITEMS_BY_KEY else "",
            rooftops=_user_rooftops(self.request),
            dealership_id=dealership_id,
            full_score=quality.FULL_SCORE,
            pager_query=urlencode(
                {"dealership": dealership_id or "", "missing": missing, "per_page": page.paginator.per_page}
            )
            + "&",
            **kwargs,
        )


class CustomerMergeView(RolePermissionRequiredMixin, TemplateView):
    """``/customers/<pk>/merge/?other=<pk>``: the two side by side (what the kept one gains, what stays
    behind, the history that moves), and a confirm; without ``other``, the likely duplicates to pick."""

    permission_required = "crm.change_customer"
    template_name = "retention/merge.html"

    def pair(self, other_id):
        """The kept customer and the other (None when not chosen), both with their related counts."""
        ids = [self.kwargs["pk"]] + ([other_id] if other_id is not None else [])
        found = {
            customer.pk: customer
            for customer in merge.with_related_counts(
                Customer.objects.for_user(self.request.user, "change").select_related("dealership", "owner")
            ).filter(pk__in=ids)
        }
        if any(pk not in found for pk in ids):
            raise Http404
        return found[ids[0]], found.get(other_id) if other_id is not None else None

    def get_context_data(self, error="", **kwargs):
        other_param = self.request.GET.get("other", self.request.POST.get("other"))
        other_id = _int(other_param)
        if other_param not in (None, "") and other_id is None:
            raise Http404
        kept, other = self.pair(other_id)
        context = {"kept": kept, "other": other, "error": error}
        if other is None:
            context["duplicates"] = possible_duplicates(kept)
        elif other.pk == kept.pk:
            context["error"] = error or _("A customer cannot be merged with itself.")
        elif other.dealership_id != kept.dealership_id:
            context["error"] = error or _(
                "%(kept)s and %(merged)s are customers of different dealerships; each keeps its own records."
            ) % {"kept": kept.full_name, "merged": other.full_name}
        else:
            context.update(self.comparison(kept, other))
        return super().get_context_data(**context, **kwargs)

    def comparison(self, kept: Customer, other: Customer) -> dict:
        plan = merge.fill_plan(kept, other)
        rows = []
        for name in (
            "full_name",
            "mobile",
            "other_phone",
            "email",
            "address",
            "id_number",
            "born_on",
            "salutation",
            "preferred_channel",
            "contact_from",
            "contact_until",
            "marketing_consent",
            "owner",
            "tags",
            "source",
        ):
            attname = Customer._meta.get_field(name).attname
            values = [self.shown(name, getattr(customer, name)) for customer in (kept, other)]
            filled = None
            if attname in plan:
                filled = self.shown(name, other.owner if name == "owner" else plan[attname])
            rows.append(
                {
                    "label": Customer._meta.get_field(name).verbose_name,
                    "kept": values[0],
                    "other": values[1],
                    "filled": filled,
                }
            )
        relations = [
            {
                "label": relation.label,
                "kept": getattr(kept, f"related_{index}"),
                "other": getattr(other, f"related_{index}"),
            }
            for index, relation in enumerate(merge.customer_relations())
        ]
        not_kept = merge.values_not_kept(kept, other)
        if "phones" in not_kept:
            not_kept["phones"] = ", ".join(_phone(self.request, number) for number in not_kept["phones"])
        if "id_number" in not_kept:
            not_kept["id_number"] = _("(an ID number)")
        return {
            "rows": rows,
            "relations": [relation for relation in relations if relation["kept"] or relation["other"]],
            "not_kept": [
                (Customer._meta.get_field(name).verbose_name if name != "phones" else _("phone numbers"), value)
                for name, value in not_kept.items()
            ],
        }

    def shown(self, name: str, value):
        """A field's value as the page shows it: phones masked for roles that may not see them, the ID
        number never shown (only that it is recorded), choices by their label."""
        if value in (None, "", []):
            return ""
        if name in ("mobile", "other_phone"):
            return _phone(self.request, value)
        if name == "id_number":
            return _("(recorded)")
        if name == "tags":
            return ", ".join(value)
        if name == "marketing_consent":
            return _("yes") if value else _("no")
        choices = dict(Customer._meta.get_field(name).flatchoices)
        return choices.get(value, value) if choices else value

    def post(self, request, pk):
        other_id = _int(request.POST.get("other"))
        if other_id is None:
            raise Http404
        try:
            result = merge.customer_merge(
                actor=request.user,
                keep_id=pk,
                merge_id=other_id,
                keep_version=_int(request.POST.get("keep_version")),
                merge_version=_int(request.POST.get("merge_version")),
            )
        except ObjectDoesNotExist:
            raise Http404 from None
        except ValidationError as error:
            response = self.render_to_response(self.get_context_data(error=" ".join(error.messages)))
            response.status_code = 409 if isinstance(error, Conflict) else 400
            return response
        text = _("%(merged)s merged into %(kept)s: %(moved)d records moved, %(filled)d details filled in.") % {
            "merged": result.merged_name,
            "kept": result.customer.full_name,
            "moved": sum(result.moved.values()),
            "filled": len(result.filled),
        }
        if result.dropped:
            text += " " + _("%(count)d duplicates they both had were dropped.") % {
                "count": sum(result.dropped.values())
            }
        messages.success(request, text)
        return redirect(result.customer.get_absolute_url())
