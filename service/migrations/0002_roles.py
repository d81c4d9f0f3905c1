"""What each role may do in the service department (frozen copy of crm.roles.SERVICE_PERMISSIONS)."""

from django.db import migrations


def _service(models, actions):
    return [f"{action}_{model}" for model in models.split() for action in actions.split()]


DESK = [
    *_service("appointment repairorder labourline partline job qualitycheck payment", "view add change"),
    *_service("part declinedwork damagemark timeentry servicesettings repairorderevent", "view"),
    *_service("damagemark", "add"),
]
ROLE_PERMISSIONS = {
    "Service advisor": DESK,
    "Manager": [*DESK, *_service("part servicesettings", "add change")],
    "Technician": [
        *_service("repairorder labourline partline job timeentry", "view change"),
        *_service("labourline partline timeentry", "add"),
        *_service("part declinedwork damagemark repairorderevent", "view"),
    ],
    "Customer specialist": [*_service("appointment", "view add change"), *_service("repairorder declinedwork", "view")],
    "Sales consultant": _service("appointment repairorder", "view"),
    "Administrator": _service(
        "appointment repairorder labourline partline job qualitycheck payment part declinedwork damagemark "
        "timeentry servicesettings repairorderevent stockmovement repairordercounter",
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
        group.permissions.add(*Permission.objects.filter(content_type__app_label="service", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial"), ("crm", "0002_roles")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
