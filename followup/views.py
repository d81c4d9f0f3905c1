"""The call queue and the 2-day follow-up SLA view: parse the request, call a selector or service, render."""

import datetime

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from crm.forms import add_service_errors
from crm.validators import phone_display, phone_mask
from dms.permissions import RolePermissionRequiredMixin

from . import selectors, services
from .choices import FollowUpKind, Outcome
from .forms import OutcomeForm
from .links import booking_url, subject_url
from .scripts import script_for
from .selectors import survey_to_ask

SLA_PERIODS = {"7": 7, "30": 30, "90": 90}


class CallQueueView(RolePermissionRequiredMixin, TemplateView):
    """The specialist's calls due now, theirs first, overdue in red; the chosen call beside the list
    with the customer's history, the script and the outcome buttons. htmx swaps ``#workspace``."""

    permission_required = ("followup.view_followup", "followup.change_followup")
    template_name = "followup/queue.html"

    def filters(self) -> dict:
        scope = self.request.GET.get("scope", "mine")
        kind = self.request.GET.get("kind", "")
        return {
            "scope": scope if scope in ("mine", "all") else "mine",
            "kind": kind if kind in FollowUpKind.values else "",
        }

    def get_template_names(self):
        if self.request.htmx:
            return ["followup/partials/workspace.html"]
        return [self.template_name]

    def get_context_data(self, form=None, selected_id=None, queue=None, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = self.filters()
        queue = queue or selectors.call_queue(user=self.request.user, **filters)
        if selected_id is None:
            try:
                selected_id = int(self.request.GET.get("call", ""))
            except ValueError:
                selected_id = queue.rows[0].pk if queue.rows else None
        call = None
        if selected_id is not None:
            try:
                call = selectors.call_detail(user=self.request.user, followup_id=selected_id)
            except ObjectDoesNotExist:
                raise Http404 from None
        context.update(
            queue=queue,
            call=call,
            filters=filters,
            kinds=FollowUpKind.choices,
            may_see_all=selectors.sees_whole_queue(self.request.user),
            outcomes=Outcome,
        )
        if call is not None:
            show = self.request.user.has_perm("crm.view_customer_phone")
            mobile = call.customer.mobile
            back = f"{reverse('followup:queue')}?call={call.pk}&scope={filters['scope']}&kind={filters['kind']}"
            context.update(
                booking_url=booking_url(call, back) if call.status in selectors.QUEUE_STATUSES else None,
                subject_url=subject_url(call),
                survey_url=survey_to_ask(call) if self.request.user.has_perm("crm.change_surveyresponse") else None,
                form=form
                or OutcomeForm(
                    initial={"satisfaction": call.satisfaction, "booking": self.request.GET.get("booked", "")}
                ),
                script=script_for(call, self.request.user),
                phone=phone_display(mobile) if show else phone_mask(mobile),
                phone_href=mobile if show else "",
                is_live=call.status in selectors.QUEUE_STATUSES,
                zone=call.dealership.zone,
            )
        return context


class RecordOutcomeView(CallQueueView):
    """POST an outcome: the attempt is kept, the queue moves on to the next call; errors stay on the form."""

    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            call = selectors.followup_list(user=request.user, action="change").get(pk=pk)
        except ObjectDoesNotExist:
            raise Http404 from None
        form = OutcomeForm(request.POST)
        with timezone.override(call.dealership.zone):  # the call-back time is typed in the rooftop's clock
            valid = form.is_valid()
        if valid:
            before = [row.pk for row in selectors.call_queue(user=request.user, **self.filters()).rows]
            try:
                services.followup_record_outcome(followup_id=pk, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                queue = selectors.call_queue(user=request.user, **self.filters())
                after = before[before.index(pk) + 1 :] if pk in before else []
                due = {row.pk for row in queue.rows}
                following = next((other for other in after if other in due), None)  # else the first call
                if not request.htmx:
                    query = request.GET.copy()
                    if following:
                        query["call"] = following
                    return redirect(f"{reverse('followup:queue')}?{query.urlencode()}")
                return self.render_to_response(self.get_context_data(selected_id=following, queue=queue))
        context = self.get_context_data(form=form, selected_id=pk)
        response = self.render_to_response(context)
        response.status_code = 200 if request.htmx else 400
        return response


class SlaView(RolePermissionRequiredMixin, TemplateView):
    """The 2-day follow-up promise, live: due now, done within 48 h, done late, overdue, per rooftop."""

    permission_required = "followup.view_followup"
    template_name = "followup/sla.html"

    def get_template_names(self):
        if self.request.htmx:
            return ["followup/partials/sla_body.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        period = self.request.GET.get("days", "7")
        days = SLA_PERIODS.get(period, 7)
        now = timezone.now()
        rows = selectors.two_day_sla(user=self.request.user, since=now - datetime.timedelta(days=days), now=now)
        totals = selectors.SlaRow(
            dealership_id=0,
            dealership="",
            **{
                name: sum(getattr(row, name) for row in rows)
                for name in ("due_now", "open_in_window", "overdue", "done_in_window", "done_late")
            },
        )
        context.update(
            rows=rows,
            totals=totals,
            days=days,
            periods=SLA_PERIODS.values(),
            overdue_calls=selectors.overdue_two_day_calls(user=self.request.user, now=now),
            now=now,
        )
        return context


def customer_panel_context(request, customer) -> dict:
    """The customer 360's follow-ups panel: the latest calls and messages with their attempts."""
    return {"followups": selectors.customer_followups(user=request.user, customer_id=customer.pk)}
