"""Tell the planner that computing a name's grams is expensive, so it prefers the GIN index
over evaluating ``dms_name_grams`` row by row in a sequential scan."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_roles")]

    operations = [
        migrations.RunSQL(
            "ALTER FUNCTION dms_name_grams(text) COST 1000",
            reverse_sql="ALTER FUNCTION dms_name_grams(text) COST 100",
        )
    ]
