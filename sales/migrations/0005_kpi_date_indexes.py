"""The KPI metrics (sales/kpis.py) read leads by creation day and orders by signing and delivery day per
rooftop: each joins ``kpi_scope`` on (dealership, date), so each date needs an index led by the rooftop.
Database-only, as the rollup SQL is the only reader (the models' state is unchanged)."""

from django.db import migrations, models

INDEXES = [
    ("lead", models.Index(fields=["dealership", "created_at"], name="lead_created")),
    ("order", models.Index(fields=["dealership", "created_at"], name="sales_order_created")),
    ("order", models.Index(fields=["dealership", "delivered_at"], name="sales_order_delivered")),
]


class Migration(migrations.Migration):

    dependencies = [
        ("sales", "0004_timeframe_label"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AddIndex(model_name=model, index=index) for model, index in INDEXES],
        )
    ]
