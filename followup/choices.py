from django.db import models
from django.utils.translation import gettext_lazy as _


class FollowUpKind(models.TextChoices):
    DELIVERY_FOLLOWUP = "delivery_followup", _("Vehicle delivery follow-up")
    SERVICE_FOLLOWUP = "service_followup", _("Service follow-up")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminder")
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", _("Appointment confirmation")
    NO_SHOW_CARE = "no_show_care", _("No-show care call")
    MAINTENANCE_DUE = "maintenance_due", _("Proactive appointment (maintenance due)")
    LEAD_FOLLOWUP = "lead_followup", _("Lead follow-up")
    COMPLAINT_CALLBACK = "complaint_callback", _("Complaint call-back")
    SURVEY = "survey", _("Satisfaction survey")
    GREETING = "greeting", _("Greeting")
    READY_NOTICE = "ready_notice", _("Vehicle ready notice")
    APPROVAL_REQUEST = "approval_request", _("Request to approve additional work")
    CAMPAIGN_CALL = "campaign_call", _("Campaign call")
    CAMPAIGN_MESSAGE = "campaign_message", _("Campaign message")


# Automated messages go out through a channel; everything else is a call in the queue.
MESSAGE_KINDS = frozenset(
    {
        FollowUpKind.APPOINTMENT_REMINDER,
        FollowUpKind.SURVEY,
        FollowUpKind.GREETING,
        FollowUpKind.READY_NOTICE,
        FollowUpKind.APPROVAL_REQUEST,
        FollowUpKind.CAMPAIGN_MESSAGE,
    }
)


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("In the call queue")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    ESCALATED = "escalated", _("Escalated")
    CANCELLED = "cancelled", _("Cancelled")


# A live row is a promise still to keep: at most one per (kind, subject).
LIVE_STATUSES = (FollowUpStatus.SCHEDULED, FollowUpStatus.QUEUED, FollowUpStatus.IN_PROGRESS, FollowUpStatus.ESCALATED)


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    CALL_BACK = "call_back", _("Call back later")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Refused")
    BOOKED = "booked", _("Booked an appointment")
    SENT = "sent", _("Message sent")
    SEND_FAILED = "send_failed", _("Message failed")
    SEND_UNKNOWN = "send_unknown", _("Message outcome unknown")


class RefusalReason(models.TextChoices):
    ALREADY_SERVICED = "already_serviced", _("Already serviced elsewhere")
    NOT_INTERESTED = "not_interested", _("Not interested")
    UNHAPPY = "unhappy", _("Unhappy with us")
    OTHER = "other", _("Other")


class MessageStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown")


# Messages the customer is waiting for right now: sent at once, not held for their usual window.
URGENT_MESSAGE_KINDS = frozenset({FollowUpKind.APPROVAL_REQUEST})
