from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    """Scheduled follow-ups, reminders and the call queue; never imports sales or service."""

    name = "followup"
    verbose_name = _("Follow-up")
