"""What each role may do in sales (frozen copy of crm.roles.SALES_PERMISSIONS)."""

from django.db import migrations


def _sales(models, actions):
    return [f"{action}_{model}" for model in models.split() for action in actions.split()]


WORK = [
    *_sales("lead activity testdrive quote order", "view add change"),
    *_sales("leadevent demovehicle stockvehicle lostreason salessettings", "view"),
]
ROLE_PERMISSIONS = {
    "Sales consultant": WORK,
    "Manager": [*WORK, *_sales("demovehicle stockvehicle lostreason salessettings", "add change")],
    "Customer specialist": _sales("lead order", "view"),
    "Service advisor": _sales("order", "view"),
    "Administrator": _sales(
        "lead activity testdrive quote order leadevent demovehicle stockvehicle lostreason salessettings",
        "view add change delete",
    ),
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
        group.permissions.add(*Permission.objects.filter(content_type__app_label="sales", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("crm", "0002_roles")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
