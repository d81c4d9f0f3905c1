"""Who sees which dashboard, and the rollup refresh and retention snapshot in django-celery-beat's tables."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "Manager": ["view_team_kpis", "view_kpitarget", "add_kpitarget", "change_kpitarget", "delete_kpitarget"],
    "Administrator": ["view_team_kpis", "view_kpitarget", "add_kpitarget", "change_kpitarget", "delete_kpitarget"],
    "Sales consultant": ["view_own_kpis"],
    "Service advisor": ["view_own_kpis"],
    "Customer specialist": ["view_own_kpis"],
}


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="dms", codename__in=codenames))

    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="KPI rollups refresh", defaults={"task": "dms.refresh_kpis", "interval": every_minute, "args": "[]"}
    )
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="20", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.get_or_create(
        name="Retention snapshot", defaults={"task": "crm.snapshot_retention", "crontab": nightly, "args": "[]"}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dms", "0001_initial"),
        ("crm", "0016_segment_and_retention_indexes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
