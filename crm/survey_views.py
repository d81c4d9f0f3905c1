"""Survey pages: the customer's answer page (the signed link is the authority, no login), the call desk
asking the same questions on the phone, and the results for managers and staff."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.generic import TemplateView

from dms.errors import Conflict
from dms.permissions import RolePermissionRequiredMixin

from . import surveys
from .choices import SurveyChannel, SurveyKind
from .models import Dealership, SurveyResponse
from .querysets import user_dealership_ids


def _questions(response: SurveyResponse, values: dict, errors: dict) -> list:
    """The questions with what the form shows beside each: its choices, the answer given, its error."""
    questions = list(response.questionnaire.questions.all())
    for question in questions:
        low, high = question.bounds or (0, -1)
        question.choices = [str(value) for value in range(low, high + 1)]
        question.given = values.get(f"q{question.pk}", "")
        question.error = errors.get(f"q{question.pk}", "")
    return questions


class SurveyFormMixin:
    template_name = "surveys/answer.html"
    channel = SurveyChannel.LINK

    def response_for(self) -> SurveyResponse:
        raise NotImplementedError

    def render_form(self, response, *, errors=None, values=None, status=200, problem="", done=False):
        context = {
            "survey": response,
            "questions": _questions(response, values or {}, errors or {}),
            "errors": errors or {},
            "values": values or {},
            "problem": problem,
            "done": done,
            "staff_view": self.channel == SurveyChannel.CALL,
        }
        page = self.render_to_response(context)
        page.status_code = status
        return page

    def post(self, request, *args, **kwargs):
        response = self.response_for()
        try:
            surveys.survey_answer(
                response_id=response.pk,
                raw=request.POST.dict(),
                channel=self.channel,
                actor=request.user if request.user.is_authenticated else None,
            )
        except Conflict as error:
            problem = "expired" if error.code == "expired" else "answered"
            return self.render_form(response, status=410 if problem == "expired" else 409, problem=problem)
        except ValidationError as error:
            errors = {key: " ".join(messages) for key, messages in error.message_dict.items()}
            return self.render_form(response, errors=errors, values=request.POST.dict(), status=400)
        return self.after_answer(response)


@method_decorator(csrf_protect, name="dispatch")
class SurveyAnswerView(SurveyFormMixin, TemplateView):
    """The page behind the survey link: mobile first, big buttons, one page of questions."""

    def response_for(self) -> SurveyResponse:
        try:
            pk = surveys.read_token(self.kwargs["token"])
        except surveys.LinkError:
            raise Http404 from None
        response = (
            SurveyResponse.objects.select_related("questionnaire", "dealership", "customer").filter(pk=pk).first()
        )
        if response is None:
            raise Http404
        return response

    def get(self, request, token):
        response = self.response_for()
        if response.status == "answered":
            return self.render_form(response, done=True)
        if response.expires_at <= timezone.now():
            return self.render_form(response, status=410, problem="expired")
        return self.render_form(response)

    def after_answer(self, response):
        return redirect("surveys:answer", token=self.kwargs["token"])


class SurveyAskView(RolePermissionRequiredMixin, SurveyFormMixin, TemplateView):
    """The call desk asks the same questions on the phone and records the answers."""

    permission_required = "crm.change_surveyresponse"
    channel = SurveyChannel.CALL

    def response_for(self) -> SurveyResponse:
        response = (
            SurveyResponse.objects.for_user(self.request.user, "change")
            .select_related("questionnaire", "dealership", "customer")
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if response is None:
            raise Http404
        return response

    def get(self, request, pk):
        response = self.response_for()
        return self.render_form(response, done=response.status == "answered")

    def after_answer(self, response):
        return redirect("surveys:ask", pk=response.pk)


class SurveyResultsView(RolePermissionRequiredMixin, TemplateView):
    """CSI: scores per rooftop and per advisor or consultant, and how each question was answered."""

    permission_required = "crm.view_surveyresponse"
    template_name = "surveys/results.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        kind = self.request.GET.get("kind") or SurveyKind.SERVICE_VISIT
        if kind not in SurveyKind.values:
            kind = SurveyKind.SERVICE_VISIT
        today = timezone.localdate()
        try:
            since = datetime.date.fromisoformat(self.request.GET.get("since", ""))
        except ValueError:
            since = today - datetime.timedelta(days=90)
        try:
            until = datetime.date.fromisoformat(self.request.GET.get("until", ""))
        except ValueError:
            until = today
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(since, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        results = surveys.survey_results(user=user, kind=kind, start=start, end=end)
        rooftops = user_dealership_ids(user)
        return super().get_context_data(
            results=results,
            kind=kind,
            kinds=SurveyKind.choices,
            since=since,
            until=until,
            rooftops=Dealership.objects.filter(pk__in=rooftops),
            title=_("Customer satisfaction"),
            **kwargs,
        )
