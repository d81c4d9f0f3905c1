"""The complaint KPIs (crm.kpis ``complaints_received``, ``complaints_closed``) read a rooftop's complaints
of a day by creation and by closing time: an index on (dealership, created_at) and a partial one on
(dealership, closed_at) for the closed ones. Surveys have theirs (crm_survey_results).

Raw SQL without model state: crm.models is not this change's, and an index declared only in a
migration's state would make ``makemigrations`` propose removing it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0016_segment_and_retention_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS crm_complaint_created ON crm_complaint (dealership_id, created_at)",
            "DROP INDEX IF EXISTS crm_complaint_created",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS crm_complaint_closed ON crm_complaint (dealership_id, closed_at) "
            "WHERE closed_at IS NOT NULL",
            "DROP INDEX IF EXISTS crm_complaint_closed",
        ),
    ]
