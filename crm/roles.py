"""The staff roles and the permissions each starts with.

Migration ``crm.0002_roles`` created the groups; ``ensure_roles`` (run after every migrate and
every test-database flush) re-creates any role group that is missing, with these defaults.
Existing groups are left as administrators have shaped them.
"""

from .choices import Role

VIEW_ROOFTOP = ["crm.view_dealership", "crm.view_businesshours", "crm.view_holiday"]
RECORDS = [
    f"crm.{action}_{model}"
    for model, actions in (
        ("customer", ("view", "add", "change")),
        ("vehicle", ("view", "add", "change")),
        ("vehicleownership", ("view", "add")),
        ("odometerreading", ("view", "add")),
    )
    for action in actions
]
EVERYTHING_CRM = [
    f"crm.{action}_{model}"
    for model in (
        "dealership",
        "businesshours",
        "holiday",
        "customer",
        "vehicle",
        "vehicleownership",
        "odometerreading",
        "user",
    )
    for action in ("view", "add", "change", "delete")
]

DEFAULT_PERMISSIONS: dict[Role, list[str]] = {
    Role.ADMINISTRATOR: [*EVERYTHING_CRM, "crm.view_customer_phone"],
    Role.MANAGER: [*VIEW_ROOFTOP, *RECORDS, "crm.view_customer_phone", "crm.view_user"],
    Role.SALES_CONSULTANT: [*VIEW_ROOFTOP, *RECORDS, "crm.view_customer_phone"],
    Role.SERVICE_ADVISOR: [*VIEW_ROOFTOP, *RECORDS, "crm.view_customer_phone"],
    Role.CUSTOMER_SPECIALIST: [
        *VIEW_ROOFTOP,
        "crm.view_customer",
        "crm.change_customer",
        "crm.view_vehicle",
        "crm.view_vehicleownership",
        "crm.view_odometerreading",
        "crm.view_customer_phone",
    ],
    Role.TECHNICIAN: [
        *VIEW_ROOFTOP,
        "crm.view_customer",
        "crm.view_vehicle",
        "crm.view_odometerreading",
        "crm.add_odometerreading",
    ],
}


# Added by later apps' migrations (followup.0002): the call queue and complaints.
FOLLOWUP_WORK = ["followup.view_followup", "followup.change_followup", "crm.view_complaint", "crm.add_complaint"]
DEFAULT_PERMISSIONS[Role.CUSTOMER_SPECIALIST] += [*FOLLOWUP_WORK, "crm.change_complaint"]
DEFAULT_PERMISSIONS[Role.MANAGER] += [*FOLLOWUP_WORK, "crm.change_complaint"]
DEFAULT_PERMISSIONS[Role.SERVICE_ADVISOR] += FOLLOWUP_WORK
DEFAULT_PERMISSIONS[Role.SALES_CONSULTANT] += FOLLOWUP_WORK
DEFAULT_PERMISSIONS[Role.ADMINISTRATOR] += [
    "followup.view_followup",
    "followup.change_followup",
    "followup.add_followup",
    "followup.delete_followup",
    "crm.view_complaint",
    "crm.add_complaint",
    "crm.change_complaint",
    "crm.delete_complaint",
]


# Added by crm.0011: satisfaction surveys. Everyone who serves customers reads the results; the call
# desk records answers given on the phone; managers shape the questionnaires.
SURVEY_READ = ["crm.view_surveyresponse", "crm.view_questionnaire"]
DEFAULT_PERMISSIONS[Role.SERVICE_ADVISOR] += SURVEY_READ
DEFAULT_PERMISSIONS[Role.SALES_CONSULTANT] += SURVEY_READ
DEFAULT_PERMISSIONS[Role.CUSTOMER_SPECIALIST] += [*SURVEY_READ, "crm.change_surveyresponse"]
DEFAULT_PERMISSIONS[Role.MANAGER] += [
    *SURVEY_READ,
    "crm.change_surveyresponse",
    "crm.add_questionnaire",
    "crm.change_questionnaire",
]
DEFAULT_PERMISSIONS[Role.ADMINISTRATOR] += [
    f"crm.{action}_{model}"
    for model in ("surveyresponse", "questionnaire")
    for action in ("view", "add", "change", "delete")
]


# Added by crm.0013: customer care. Specialists and managers build segments and run campaigns; the
# front desks issue and redeem vouchers; only managers export (and every export is logged).
CARE_DESK = [
    f"crm.{action}_{model}" for model in ("segment", "campaign", "voucher") for action in ("view", "add", "change")
] + ["crm.view_vouchertype", "crm.view_pointsentry", "crm.view_loyaltytier", "crm.view_caresettings"]
DEFAULT_PERMISSIONS[Role.CUSTOMER_SPECIALIST] += CARE_DESK
DEFAULT_PERMISSIONS[Role.MANAGER] += [
    *CARE_DESK,
    "crm.export_customer",
    *[f"crm.{a}_{m}" for m in ("vouchertype", "loyaltytier", "caresettings") for a in ("add", "change")],
]
for _role in (Role.SERVICE_ADVISOR, Role.SALES_CONSULTANT):
    DEFAULT_PERMISSIONS[_role] += ["crm.view_voucher", "crm.change_voucher", "crm.add_voucher", "crm.view_pointsentry"]
DEFAULT_PERMISSIONS[Role.ADMINISTRATOR] += [
    f"crm.{action}_{model}"
    for model in ("segment", "campaign", "voucher", "vouchertype", "pointsentry", "loyaltytier", "caresettings")
    for action in ("view", "add", "change", "delete")
] + ["crm.export_customer", "crm.view_exportlog", "crm.view_reveallog"]
DEFAULT_PERMISSIONS[Role.MANAGER] += ["crm.view_exportlog", "crm.view_reveallog"]


# Added by service.0002: appointments, repair orders and the workshop. Technicians work orders but
# never see payments; nobody but the front desk records the customer's approval (a service check).
def _service(models: str, actions: str) -> list[str]:
    return [f"service.{action}_{model}" for model in models.split() for action in actions.split()]


SERVICE_DESK = [
    *_service("appointment repairorder labourline partline job qualitycheck payment", "view add change"),
    *_service("part declinedwork damagemark timeentry servicesettings repairorderevent", "view"),
    *_service("damagemark", "add"),
]
SERVICE_PERMISSIONS = {
    Role.SERVICE_ADVISOR: SERVICE_DESK,
    Role.MANAGER: [*SERVICE_DESK, *_service("part servicesettings", "add change")],
    Role.TECHNICIAN: [
        *_service("repairorder labourline partline job timeentry", "view change"),
        *_service("labourline partline timeentry", "add"),
        *_service("part declinedwork damagemark repairorderevent", "view"),
    ],
    Role.CUSTOMER_SPECIALIST: [
        *_service("appointment", "view add change"),
        *_service("repairorder declinedwork", "view"),
    ],
    Role.SALES_CONSULTANT: _service("appointment repairorder", "view"),
    Role.ADMINISTRATOR: _service(
        "appointment repairorder labourline partline job qualitycheck payment part declinedwork damagemark "
        "timeentry servicesettings repairorderevent stockmovement repairordercounter",
        "view add change delete",
    ),
}
for _role, _codenames in SERVICE_PERMISSIONS.items():
    DEFAULT_PERMISSIONS[_role] += _codenames


# Added by sales.0002: consultants work their own leads (the services narrow "view" to the owner),
# managers all of their rooftops'.
def _sales(models: str, actions: str) -> list[str]:
    return [f"sales.{action}_{model}" for model in models.split() for action in actions.split()]


SALES_WORK = [
    *_sales("lead activity testdrive quote order", "view add change"),
    *_sales("leadevent demovehicle stockvehicle lostreason salessettings", "view"),
]
SALES_PERMISSIONS = {
    Role.SALES_CONSULTANT: SALES_WORK,
    Role.MANAGER: [*SALES_WORK, *_sales("demovehicle stockvehicle lostreason salessettings", "add change")],
    Role.CUSTOMER_SPECIALIST: _sales("lead order", "view"),
    Role.SERVICE_ADVISOR: _sales("order", "view"),
    Role.ADMINISTRATOR: _sales(
        "lead activity testdrive quote order leadevent demovehicle stockvehicle lostreason salessettings",
        "view add change delete",
    ),
}
for _role, _codenames in SALES_PERMISSIONS.items():
    DEFAULT_PERMISSIONS[_role] += _codenames


def ensure_roles(**kwargs) -> None:
    """Create each missing role group with its default permissions (a ``post_migrate`` receiver)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    missing = [role for role in Role if not Group.objects.filter(name=role.value).exists()]
    if missing:  # the permissions of apps migrated after crm may not exist yet
        from django.apps import apps
        from django.contrib.auth.management import create_permissions

        for app_config in apps.get_app_configs():
            create_permissions(app_config, verbosity=0)
    for role in missing:
        group = Group.objects.create(name=role.value)
        wanted = Q(pk__in=[])
        for name in DEFAULT_PERMISSIONS[role]:
            app_label, codename = name.split(".")
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))


# Added by dms.0002: the KPI dashboards. Managers see their rooftops' and set monthly targets; the
# people who sell and serve see their own figures.
KPI_TARGETS = [f"dms.{action}_kpitarget" for action in ("view", "add", "change", "delete")]
DEFAULT_PERMISSIONS[Role.MANAGER] += ["dms.view_team_kpis", *KPI_TARGETS]
DEFAULT_PERMISSIONS[Role.ADMINISTRATOR] += ["dms.view_team_kpis", *KPI_TARGETS]
for _role in (Role.SALES_CONSULTANT, Role.SERVICE_ADVISOR, Role.CUSTOMER_SPECIALIST):
    DEFAULT_PERMISSIONS[_role] += ["dms.view_own_kpis"]
