"""The scans' schedules in django-celery-beat's tables (editable in admin): maintenance due daily at
06:00 (before the specialists start), missed appointments every 10 minutes."""

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    six_am, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="6", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    PeriodicTask.objects.get_or_create(
        name="Maintenance-due scan", defaults={"task": "followup.scan_maintenance_due", "crontab": six_am, "args": "[]"}
    )
    every_ten_minutes, _ = IntervalSchedule.objects.get_or_create(every=600, period="seconds")
    PeriodicTask.objects.get_or_create(
        name="No-show scan", defaults={"task": "followup.scan_no_shows", "interval": every_ten_minutes, "args": "[]"}
    )


def backwards(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=["Maintenance-due scan", "No-show scan"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0003_queue_indexes"),
        ("crm", "0007_vehicle_next_service"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
