"""A birthday greeting once a year per customer (a unique index on the customer and data->>'birthday_year' over
greetings), and the daily birthday scan's schedule in django-celery-beat's tables (06:15, after the
maintenance-due scan; editable in admin)."""

import django.db.models.fields.json
from django.conf import settings
from django.db import migrations, models

BIRTHDAY_SCAN = "Birthday greetings scan"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    quarter_past_six, _ = CrontabSchedule.objects.get_or_create(
        minute="15", hour="6", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    PeriodicTask.objects.get_or_create(
        name=BIRTHDAY_SCAN, defaults={"task": "followup.scan_birthdays", "crontab": quarter_past_six, "args": "[]"}
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=BIRTHDAY_SCAN).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0010_campaign_contacts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.UniqueConstraint(
                models.F("customer"),
                django.db.models.fields.json.KeyTextTransform("birthday_year", "data"),
                condition=models.Q(("kind", "greeting")),
                name="followup_birthday_once_a_year",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
