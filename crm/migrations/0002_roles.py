"""The staff roles as auth groups, with their permissions on customers, vehicles and rooftops."""

from django.db import migrations

VIEW = ["view_dealership", "view_businesshours", "view_holiday"]
RECORDS = [
    "view_customer", "add_customer", "change_customer",
    "view_vehicle", "add_vehicle", "change_vehicle",
    "view_vehicleownership", "add_vehicleownership",
    "view_odometerreading", "add_odometerreading",
]
ALL = [
    f"{action}_{model}"
    for model in ("dealership", "businesshours", "holiday", "customer", "vehicle", "vehicleownership", "odometerreading", "user")
    for action in ("view", "add", "change", "delete")
]

ROLE_PERMISSIONS = {
    "Administrator": ALL + ["view_customer_phone"],
    "Manager": VIEW + RECORDS + ["view_customer_phone", "view_user"],
    "Sales consultant": VIEW + RECORDS + ["view_customer_phone"],
    "Service advisor": VIEW + RECORDS + ["view_customer_phone"],
    "Customer specialist": VIEW + ["view_customer", "change_customer", "view_vehicle", "view_vehicleownership",
                                   "view_odometerreading", "view_customer_phone"],
    "Technician": VIEW + ["view_customer", "view_vehicle", "view_odometerreading", "add_odometerreading"],
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; create them now so the groups can get them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(content_type__app_label="crm", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"crm permissions missing for {role}: {sorted(missing)}")
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
