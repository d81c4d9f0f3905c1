"""A campaign's calls and messages found by their campaign: an index on (data->>'campaign_id')::bigint over the
campaign kinds (the campaign's results, and cancelling what is left when it finishes)."""

import django.db.models.fields.json
import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0009_campaign_kinds"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                django.db.models.functions.comparison.Cast(
                    django.db.models.fields.json.KeyTextTransform("campaign_id", "data"), models.BigIntegerField()
                ),
                condition=models.Q(("kind__in", ["campaign_call", "campaign_message"])),
                name="followup_campaign",
            ),
        ),
    ]
