from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    """Scheduled follow-ups, reminders and the call queue; never imports sales or service."""

    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self):
        from crm import campaigns, demo, hooks, panels

        from . import demo as followup_demo
        from .services import campaign_contacts_cancel, campaign_launch, schedule_complaint_callback_hook
        from .views import customer_panel_context

        demo.register_seeder(followup_demo.seed)
        hooks.register_complaint_callback(schedule_complaint_callback_hook)
        campaigns.register_contact_engine(launch=campaign_launch, cancel=campaign_contacts_cancel)

        panels.register(
            panels.customer_panels,
            panels.Panel(
                key="followups",
                title=_("Follow-ups"),
                template="followup/partials/customer_panel.html",
                context=customer_panel_context,
                order=50,
                permission="followup.view_followup",
            ),
        )
