"""Follow-up API shapes: the customer's phone is masked unless the caller's role may see it; the
outcome serializer only parses, ``followup.services.followup_record_outcome`` decides."""

from rest_framework import serializers

from crm.api.serializers import PhoneMaskingMixin

from ..choices import Outcome, RefusalReason
from ..models import Attempt, FollowUp

CALL_OUTCOMES = [choice for choice in Outcome.choices if choice[0] not in ("sent", "send_failed", "send_unknown")]


class AttemptSerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.full_name", read_only=True, default="")

    class Meta:
        model = Attempt
        fields = [
            "number",
            "actor",
            "actor_name",
            "outcome",
            "satisfaction",
            "refusal_reason",
            "callback_at",
            "notes",
            "created_at",
        ]
        read_only_fields = fields


class FollowUpSerializer(PhoneMaskingMixin, serializers.ModelSerializer):
    phone_fields = ("customer_mobile",)
    customer_name = serializers.CharField(source="customer.full_name", read_only=True)
    customer_mobile = serializers.CharField(source="customer.mobile", read_only=True)
    subject_type = serializers.SerializerMethodField()
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "dealership",
            "kind",
            "status",
            "customer",
            "customer_name",
            "customer_mobile",
            "subject_type",
            "subject_id",
            "due_at",
            "window_ends_at",
            "assignee",
            "team",
            "attempts",
            "outcome",
            "satisfaction",
            "notes",
            "done_at",
            "attempt_log",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_subject_type(self, obj) -> str:
        return f"{obj.subject_type.app_label}.{obj.subject_type.model}"


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CALL_OUTCOMES)
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    callback_at = serializers.DateTimeField(required=False, allow_null=True)
    refusal_reason = serializers.ChoiceField(
        choices=RefusalReason.choices, required=False, allow_blank=True, default=""
    )
    booking = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text="Where the booked appointment is (its link or number), for a 'booked' outcome.",
    )
