"""The contact-success KPI (followup.kpis ``contact_attempts``) reads a rooftop's attempts of a day by their
time, then each attempt's follow-up for its rooftop: an index on attempt(created_at).

Raw SQL without model state: followup.models is not this change's, and an index declared only in a
migration's state would make ``makemigrations`` propose removing it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("followup", "0011_birthday_greetings")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS followup_attempt_created ON followup_attempt (created_at)",
            "DROP INDEX IF EXISTS followup_attempt_created",
        )
    ]
