from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    """Rooftops, staff, customers and vehicles: the records every other app builds on."""

    name = "crm"
    verbose_name = _("Customers and vehicles")

    def ready(self):
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

        from . import authz, care_demo, care_panels, demo, panels, quality_panels, roles, views
        from .models import Dealership, User

        panels.register(
            panels.customer_panels,
            panels.Panel(
                key="complaints",
                title=_("Complaints"),
                template="crm/partials/complaint_panel.html",
                context=views.customer_complaints_panel_context,
                order=60,
                permission="crm.view_complaint",
            ),
        )
        demo.register_seeder(care_demo.seed, last=True)
        care_panels.register()
        quality_panels.register()
        post_migrate.connect(roles.ensure_roles, sender=self, dispatch_uid="crm-ensure-roles")

        for through in (
            User.groups.through,
            User.user_permissions.through,
            User.dealerships.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(authz.invalidate, sender=through, dispatch_uid=f"authz-{through._meta.label}")
        for model in (User, Group, Dealership):
            post_save.connect(authz.invalidate, sender=model, dispatch_uid=f"authz-save-{model._meta.label}")
            post_delete.connect(authz.invalidate, sender=model, dispatch_uid=f"authz-delete-{model._meta.label}")
