"""``/api/followups/``: the caller's rooftops' follow-ups, filterable, and the outcome action."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import selectors, services
from ..filters import FollowUpFilterSet
from ..models import Attempt
from . import serializers


class FollowUpViewSet(viewsets.ReadOnlyModelViewSet):
    """Follow-up calls and messages of your rooftops, with every attempt; record a call's outcome."""

    serializer_class = serializers.FollowUpSerializer
    filterset_class = FollowUpFilterSet
    ordering_fields = ["due_at", "window_ends_at", "created_at", "attempts"]
    ordering = ["due_at", "id"]
    action_permissions = {"outcome": ["followup.view_followup", "followup.change_followup"]}

    def get_queryset(self):
        return (
            selectors.followup_list(user=self.request.user)
            .select_related("subject_type")
            .prefetch_related(Prefetch("attempt_log", queryset=Attempt.objects.select_related("actor")))
        )

    @extend_schema(request=serializers.OutcomeSerializer, responses=serializers.FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        followup = self.get_object()
        serializer = serializers.OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.followup_record_outcome(followup_id=followup.pk, actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=followup.pk)).data)
