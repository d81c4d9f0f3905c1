from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class DmsConfig(AppConfig):
    name = "dms"
    verbose_name = _("Dealership management")

    def ready(self):
        from .rollups import install_triggers

        # Each app defines its KPI metrics in its own kpis.py; the rollup triggers follow them.
        autodiscover_modules("kpis")
        post_migrate.connect(install_triggers, sender=self, dispatch_uid="dms.install_kpi_triggers")

        from crm.demo import register_seeder

        from .demo import seed

        register_seeder(seed, last=True)
