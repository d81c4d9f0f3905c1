"""Every promise to act later is a row here: calls for the queue and automated messages."""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, Dealership, User
from crm.querysets import DealershipQuerySet

from .choices import LIVE_STATUSES, MESSAGE_KINDS, FollowUpKind, FollowUpStatus, MessageStatus, Outcome, RefusalReason


class FollowUp(models.Model):
    """One promise to call or message a customer about a subject; one live row per (kind, subject)."""

    dealership = models.ForeignKey(Dealership, on_delete=models.PROTECT, related_name="followups")
    kind = models.CharField(_("kind"), max_length=32, choices=FollowUpKind.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="followups", verbose_name=_("customer")
    )
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    due_at = models.DateTimeField(_("due at"))
    window_ends_at = models.DateTimeField(_("due by"), null=True, blank=True)
    assignee = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="followups", verbose_name=_("assignee")
    )
    team = models.CharField(_("team"), max_length=40, blank=True, help_text=_("A role whose members may take it."))
    status = models.CharField(
        _("status"), max_length=16, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    notes = models.TextField(_("notes"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    # A claim is a lease: a dispatcher that died leaves it to expire, then the row is claimed again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"],
                condition=Q(status__in=LIVE_STATUSES),
                name="followup_one_live_per_kind_and_subject",
            ),
            # A birthday greeting once a year per customer, whatever became of last year's.
            models.UniqueConstraint(
                F("customer"),
                KeyTextTransform("birthday_year", "data"),
                condition=Q(kind=FollowUpKind.GREETING),
                name="followup_birthday_once_a_year",
            ),
        ]
        indexes = [
            # The dispatcher's claim: scheduled rows by due time, and expired leases.
            models.Index(fields=["due_at"], condition=Q(status=FollowUpStatus.SCHEDULED), name="followup_due"),
            models.Index(fields=["claimed_until"], condition=Q(claimed_until__isnull=False), name="followup_leases"),
            # The call queue: a rooftop's queued and escalated calls by due time.
            models.Index(
                fields=["dealership", "due_at", "id"],
                include=["kind", "window_ends_at", "assignee"],
                condition=Q(status__in=[FollowUpStatus.QUEUED, FollowUpStatus.ESCALATED, FollowUpStatus.IN_PROGRESS]),
                name="followup_queue",
            ),
            # A specialist's own calls, and each rooftop team's unassigned ones, in due order.
            models.Index(
                fields=["assignee", "due_at", "id"],
                include=["dealership", "kind", "window_ends_at"],
                condition=Q(status__in=[FollowUpStatus.QUEUED, FollowUpStatus.ESCALATED, FollowUpStatus.IN_PROGRESS]),
                name="followup_queue_mine",
            ),
            models.Index(
                fields=["dealership", "team", "due_at", "id"],
                include=["kind", "window_ends_at", "assignee"],
                condition=Q(
                    status__in=[FollowUpStatus.QUEUED, FollowUpStatus.ESCALATED, FollowUpStatus.IN_PROGRESS],
                    assignee__isnull=True,
                ),
                name="followup_queue_team",
            ),
            # The 2-day follow-up SLA: a rooftop's delivery and service follow-ups by window end.
            models.Index(
                fields=["dealership", "window_ends_at"],
                condition=Q(kind__in=[FollowUpKind.DELIVERY_FOLLOWUP, FollowUpKind.SERVICE_FOLLOWUP]),
                name="followup_two_day",
            ),
            models.Index(fields=["subject_type", "subject_id"], name="followup_subject"),
            # A campaign's calls and messages (its results, and cancelling them when it finishes).
            models.Index(
                Cast(KeyTextTransform("campaign_id", "data"), models.BigIntegerField()),
                condition=Q(kind__in=[FollowUpKind.CAMPAIGN_CALL, FollowUpKind.CAMPAIGN_MESSAGE]),
                name="followup_campaign",
            ),
            models.Index(fields=["customer", "-due_at"], name="followup_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.customer_id} · {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_message(self) -> bool:
        return self.kind in MESSAGE_KINDS


class Attempt(models.Model):
    """One try at a follow-up: a call made or a message sent, with what came of it."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)
    refusal_reason = models.CharField(max_length=20, choices=RefusalReason.choices, blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["followup", "number"]
        constraints = [models.UniqueConstraint(fields=["followup", "number"], name="followup_attempt_number")]

    def __str__(self) -> str:
        return f"{self.followup_id} #{self.number} {self.outcome}"


class Message(models.Model):
    """An automated message, written before it is handed to a provider.

    The idempotency key goes to the provider with the message; a row left ``sending`` by a worker
    that died is asked about (``lookup``), never sent again blindly.
    """

    followup = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="message")
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=16)
    recipient = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.SENDING)
    provider_reference = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} ({self.status})"
