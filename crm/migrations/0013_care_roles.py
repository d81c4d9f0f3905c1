"""Who works customer care (frozen copy of the customer-care lines of crm.roles)."""

from django.db import migrations

DESK = [f"{a}_{m}" for m in ("segment", "campaign", "voucher") for a in ("view", "add", "change")] + [
    "view_vouchertype",
    "view_pointsentry",
    "view_loyaltytier",
    "view_caresettings",
]
FRONT = ["view_voucher", "change_voucher", "add_voucher", "view_pointsentry"]
ROLE_PERMISSIONS = {
    "Customer specialist": DESK,
    "Manager": [
        *DESK,
        "export_customer",
        "view_exportlog",
        "view_reveallog",
        *[f"{a}_{m}" for m in ("vouchertype", "loyaltytier", "caresettings") for a in ("add", "change")],
    ],
    "Service advisor": FRONT,
    "Sales consultant": FRONT,
    "Administrator": [
        f"{a}_{m}"
        for m in ("segment", "campaign", "voucher", "vouchertype", "pointsentry", "loyaltytier", "caresettings")
        for a in ("view", "add", "change", "delete")
    ]
    + ["export_customer", "view_exportlog", "view_reveallog"],
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
        group.permissions.add(*Permission.objects.filter(content_type__app_label="crm", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("crm", "0012_customer_care")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
