from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    """Scheduled follow-ups, reminders and the call queue; never imports sales or service."""

    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self):
        from crm import demo, hooks, panels

        from . import demo as followup_demo
        from .services import schedule_complaint_callback_hook
        from .views import customer_panel_context

        demo.register_seeder(followup_demo.seed)
        hooks.register_complaint_callback(schedule_complaint_callback_hook)

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
