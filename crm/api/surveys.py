"""Satisfaction surveys API.

``GET /api/surveys/`` the surveys of your rooftops (filters: kind, status, staff, customer, answered
after/before), each with its answers and score; ``POST /api/surveys/{id}/answer/`` records the answers the
customer gave on the phone (``{"answers": {"<question id>": "5", …}}``: out of range → 400 per question;
answered twice → 409); ``GET /api/surveys/results/`` CSI per rooftop and staff member with each question's
distribution, for a kind and a period.
"""

from __future__ import annotations

import datetime

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import surveys
from ..choices import SurveyChannel, SurveyKind, SurveyStatus
from ..filters import StyledFilterSet
from ..models import Answer, SurveyResponse


class SurveyFilterSet(StyledFilterSet):
    kind = django_filters.ChoiceFilter(field_name="questionnaire__kind", choices=SurveyKind.choices)
    status = django_filters.ChoiceFilter(choices=SurveyStatus.choices)
    staff = django_filters.NumberFilter(field_name="staff_id")
    customer = django_filters.NumberFilter(field_name="customer_id")
    answered_after = django_filters.IsoDateTimeFilter(field_name="answered_at", lookup_expr="gte")
    answered_before = django_filters.IsoDateTimeFilter(field_name="answered_at", lookup_expr="lt")

    class Meta:
        model = SurveyResponse
        fields = ["kind", "status", "staff", "customer", "answered_after", "answered_before"]


class AnswerSerializer(serializers.ModelSerializer):
    question_text = serializers.CharField(source="question.text", read_only=True)
    scale = serializers.CharField(source="question.scale", read_only=True)

    class Meta:
        model = Answer
        fields = ["question", "question_text", "scale", "score", "text"]


class SurveySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="questionnaire.kind", read_only=True)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    staff_name = serializers.CharField(source="staff.full_name", read_only=True, default="")
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "dealership",
            "kind",
            "customer",
            "customer_name",
            "staff",
            "staff_name",
            "status",
            "channel",
            "expires_at",
            "answered_at",
            "score",
            "complaint",
            "answers",
            "created_at",
        ]
        read_only_fields = fields


class SurveyAnswerSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text="Question id → the answer (a number or text)."
    )


class SurveyViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = SurveyResponse.objects.none()  # the model, for the schema; rows come from get_queryset
    serializer_class = SurveySerializer
    filterset_class = SurveyFilterSet
    action_permissions = {
        "answer": ["crm.view_surveyresponse", "crm.change_surveyresponse"],
        "results": ["crm.view_surveyresponse"],
    }
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        action_name = "change" if self.action == "answer" else "view"
        return (
            SurveyResponse.objects.for_user(self.request.user, action_name)
            .select_related("questionnaire", "customer", "staff")
            .prefetch_related("answers__question")
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=SurveyAnswerSerializer, responses={200: SurveySerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Record the answers given on the phone (the call desk)."""
        survey = self.get_object()
        data = SurveyAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw = {f"q{key}": value for key, value in data.validated_data["answers"].items()}
        surveys.survey_answer(response_id=survey.pk, raw=raw, channel=SurveyChannel.CALL, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=survey.pk)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=SurveyKind.values),
            OpenApiParameter("since", datetime.date),
            OpenApiParameter("until", datetime.date),
        ],
        responses={200: dict},
    )
    @action(detail=False, methods=["get"])
    def results(self, request):
        """CSI for a kind and a period: totals, per rooftop, per staff member, each question's distribution."""
        kind = request.query_params.get("kind") or SurveyKind.SERVICE_VISIT
        if kind not in SurveyKind.values:
            raise serializers.ValidationError({"kind": [f"One of {', '.join(SurveyKind.values)}."]})
        today = timezone.localdate()
        try:
            since = datetime.date.fromisoformat(
                request.query_params.get("since") or str(today - datetime.timedelta(90))
            )
            until = datetime.date.fromisoformat(request.query_params.get("until") or str(today))
        except ValueError:
            raise serializers.ValidationError({"since": ["Dates are YYYY-MM-DD."]}) from None
        if until < since:
            raise serializers.ValidationError({"until": ["The period ends before it starts."]})
        zone = timezone.get_current_timezone()
        result = surveys.survey_results(
            user=request.user,
            kind=kind,
            start=datetime.datetime.combine(since, datetime.time.min, tzinfo=zone),
            end=datetime.datetime.combine(until + datetime.timedelta(1), datetime.time.min, tzinfo=zone),
        )
        return Response(
            {
                "sent": result.sent,
                "answered": result.answered,
                "response_rate": result.response_rate,
                "average": result.average,
                "low": result.low,
                "by_rooftop": result.by_rooftop,
                "by_staff": result.by_staff,
                "questions": [
                    {
                        "text": question.text,
                        "scale": question.scale,
                        "answered": question.answered,
                        "average": question.average,
                        "distribution": {str(value): count for value, count, _share in question.bins},
                    }
                    for question in result.questions
                ],
            }
        )
