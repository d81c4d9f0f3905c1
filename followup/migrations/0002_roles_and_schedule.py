"""Who works the call queue, and the dispatcher's schedule in django-celery-beat's tables (editable in admin)."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "Customer specialist": ["view_followup", "change_followup", "view_complaint", "add_complaint", "change_complaint"],
    "Manager": ["view_followup", "change_followup", "view_complaint", "add_complaint", "change_complaint"],
    "Administrator": ["view_followup", "change_followup", "add_followup", "delete_followup", "view_complaint",
                      "add_complaint", "change_complaint", "delete_complaint"],
    "Service advisor": ["view_followup", "change_followup", "view_complaint", "add_complaint"],
    "Sales consultant": ["view_followup", "change_followup", "view_complaint", "add_complaint"],
}
PERIODIC_TASKS = [
    ("Follow-up dispatcher", "followup.dispatch_due", 60),
    ("Worker heartbeat", "dms.worker_heartbeat", 60),
]


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
        group.permissions.add(*Permission.objects.filter(content_type__app_label__in=["followup", "crm"], codename__in=codenames))

    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in PERIODIC_TASKS:
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": every, "args": "[]" if task != "dms.worker_heartbeat" else '["beat"]'})


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0001_initial"),
        ("crm", "0006_complaints"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
