"""Who reads and records satisfaction surveys (frozen copy of the survey lines of crm.roles)."""

from django.db import migrations

READ = ["view_surveyresponse", "view_questionnaire"]
ROLE_PERMISSIONS = {
    "Service advisor": READ,
    "Sales consultant": READ,
    "Customer specialist": [*READ, "change_surveyresponse"],
    "Manager": [*READ, "change_surveyresponse", "add_questionnaire", "change_questionnaire"],
    "Administrator": [f"{a}_{m}" for m in ("surveyresponse", "questionnaire") for a in ("view", "add", "change", "delete")],
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
    dependencies = [("crm", "0010_surveys")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
